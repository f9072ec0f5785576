"""Parsing query parameters into typed queries; every mistake names its parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from datenschatz.errors import InputError
from datenschatz.store.params import parse_aggregate, parse_export, parse_rows
from datenschatz.store.query import (
    BBox,
    Bucket,
    Dialect,
    Filter,
    Fn,
    Format,
    GroupKey,
    Metric,
    Op,
    OutputSort,
    SortKey,
    Table,
)

SCHEMA = {
    "fields": [
        {"name": "id", "duckdb_type": "BIGINT", "nullable": False},
        {"name": "pm10", "duckdb_type": "DOUBLE"},
        {"name": "preis", "duckdb_type": "DECIMAL(10,2)"},
        {"name": "ort", "duckdb_type": "VARCHAR"},
        {"name": "q", "duckdb_type": "VARCHAR"},
        {"name": "Count", "duckdb_type": "INTEGER"},
        {"name": "zeit", "duckdb_type": "TIMESTAMP"},
        {"name": "zeit_utc", "duckdb_type": "TIMESTAMP WITH TIME ZONE"},
        {"name": "tag", "duckdb_type": "DATE"},
        {"name": "aktiv", "duckdb_type": "BOOLEAN"},
        {"name": "werte", "duckdb_type": "INTEGER[]"},
        {"name": "geometry", "duckdb_type": "GEOMETRY('EPSG:4326')"},
    ]
}
TABLE = Table.from_schema(Path("/nowhere.parquet"), sha256="s", row_count=10, table_schema=SCHEMA)
PLAIN = Table.from_schema(
    Path("/nowhere.parquet"),
    sha256="s",
    row_count=10,
    table_schema={"fields": [{"name": "n", "duckdb_type": "INTEGER"}]},
)


def rows(*pairs: tuple[str, str], table: Table = TABLE) -> object:
    return parse_rows(list(pairs), table, default_limit=100, max_limit=10_000)


def _parse(call: object, pairs: list[tuple[str, str]], table: Table) -> object:
    if call is parse_aggregate:
        return parse_aggregate(pairs, table, max_groups=500)
    if call is parse_export:
        return parse_export(pairs, table, Format.JSON)
    return rows(*pairs, table=table)


def refused(call: object, *pairs: tuple[str, str], table: Table = TABLE) -> InputError:
    with pytest.raises(InputError) as info:
        _parse(call, list(pairs), table)
    assert info.value.status == 400
    return info.value


def test_filters_convert_values_to_the_column_type() -> None:
    query = parse_rows(
        [
            ("id", "7"),
            ("pm10__gt", "2.5"),
            ("preis__lte", "10.05"),
            ("zeit__gte", "2024-05-01T10:00"),
            ("zeit_utc__lt", "2024-05-01T10:00"),
            ("tag__in", "2024-01-01,2024-01-02"),
            ("aktiv", "true"),
            ("ort__contains", "Herne"),
            ("geometry__isnull", "false"),
        ],
        TABLE,
        default_limit=100,
        max_limit=10_000,
    )
    assert query.where.filters == (
        Filter("id", Op.EQ, 7),
        Filter("pm10", Op.GT, 2.5),
        Filter("preis", Op.LTE, Decimal("10.05")),
        Filter("zeit", Op.GTE, datetime(2024, 5, 1, 10)),
        Filter("zeit_utc", Op.LT, datetime(2024, 5, 1, 10, tzinfo=UTC)),
        Filter("tag", Op.IN, (date(2024, 1, 1), date(2024, 1, 2))),
        Filter("aktiv", Op.EQ, True),
        Filter("ort", Op.CONTAINS, "Herne"),
        Filter("geometry", Op.ISNULL, False),
    )
    assert query.limit == 100
    assert query.fields is None


def test_offset_timestamp_on_a_naive_column_is_compared_in_utc() -> None:
    query = parse_rows([("zeit", "2024-05-01T12:00+02:00")], TABLE, default_limit=1, max_limit=1)
    assert query.where.filters[0].value == datetime(2024, 5, 1, 10)


def test_column_named_like_a_parameter_is_filtered_with_eq() -> None:
    query = parse_rows([("q__eq", "x"), ("q", "Herne  Mitte")], TABLE, default_limit=1, max_limit=1)
    assert query.where.filters == (Filter("q", Op.EQ, "x"),)
    assert query.where.terms == ("Herne", "Mitte")


def test_sort_fields_limit_and_cursor_are_read_in_order() -> None:
    query = parse_rows(
        [("_sort", "ort,tag"), ("_sort_desc", "pm10"), ("_fields", "id, pm10"), ("_limit", "5")],
        TABLE,
        default_limit=100,
        max_limit=10_000,
    )
    assert query.sort == (SortKey("ort"), SortKey("tag"), SortKey("pm10", descending=True))
    assert query.fields == ("id", "pm10")
    assert query.limit == 5
    assert parse_rows([("_next", "abc")], TABLE, default_limit=1, max_limit=1).cursor == "abc"


def test_bbox_is_parsed_for_datasets_with_geometry() -> None:
    query = parse_rows([("bbox", "7.1,51.4,7.3,51.6")], TABLE, default_limit=1, max_limit=1)
    assert query.where.bbox == BBox(7.1, 51.4, 7.3, 51.6)


@pytest.mark.parametrize(
    ("pairs", "parameter"),
    [
        ([("nope", "1")], "nope"),
        ([("pm10__between", "1")], "pm10__between"),
        ([("nope__gt", "1")], "nope__gt"),
        ([("id", "seven")], "id"),
        ([("id", "1.5")], "id"),
        ([("pm10__lt", "abc")], "pm10__lt"),
        ([("pm10__lt", "nan")], "pm10__lt"),
        ([("preis", "zehn")], "preis"),
        ([("tag", "01.02.2024")], "tag"),
        ([("zeit__gt", "gestern")], "zeit__gt"),
        ([("aktiv", "vielleicht")], "aktiv"),
        ([("id__in", "1,zwei")], "id__in"),
        ([("id__contains", "1")], "id__contains"),
        ([("ort__isnull", "maybe")], "ort__isnull"),
        ([("werte", "1")], "werte"),
        ([("geometry__eq", "POINT(1 2)")], "geometry__eq"),
        ([("bbox", "1,2,3")], "bbox"),
        ([("bbox", "1,2,3,x")], "bbox"),
        ([("bbox", "3,2,1,4")], "bbox"),
        ([("bbox", "400000,5700000,410000,5710000")], "bbox"),
        ([("_limit", "10001")], "_limit"),
        ([("_limit", "0")], "_limit"),
        ([("_limit", "viele")], "_limit"),
        ([("_limit", "5"), ("_limit", "6")], "_limit"),
        ([("_sort", "nope")], "_sort"),
        ([("_sort", "geometry")], "_sort"),
        ([("_sort", "ort"), ("_sort_desc", "ort")], "_sort"),
        ([("_sort", "ort,")], "_sort"),
        ([("_fields", "id,nope")], "_fields"),
        ([("_fields", "")], "_fields"),
        ([("_fields", "id,id")], "_fields"),
        ([("_offset", "10")], "_offset"),
        ([("dialect", "excel-de")], "dialect"),
    ],
)
def test_mistakes_in_rows_parameters_name_the_parameter(
    pairs: list[tuple[str, str]], parameter: str
) -> None:
    error = refused(parse_rows, *pairs)
    assert error.details["parameter"] == parameter


def test_bbox_and_q_need_geometry_and_text_columns() -> None:
    assert refused(parse_rows, ("bbox", "1,2,3,4"), table=PLAIN).details["parameter"] == "bbox"
    assert refused(parse_rows, ("q", "Herne"), table=PLAIN).details["parameter"] == "q"


def test_error_messages_do_not_echo_values() -> None:
    error = refused(parse_rows, ("id", "geheim@example.org"))
    assert "geheim" not in error.message


def test_aggregate_parameters_become_groups_and_metrics() -> None:
    query = parse_aggregate(
        [
            ("group_by", "ort,zeit:day,tag:month"),
            ("metrics", "count,count:pm10,count_distinct:ort,avg:pm10,p90:pm10,median:preis"),
            ("metrics", "min:tag,max:ort"),
            ("_sort_desc", "count"),
            ("pm10__gt", "1"),
        ],
        TABLE,
        max_groups=500,
    )
    assert query.group_by == (
        GroupKey("ort"),
        GroupKey("zeit", Bucket.DAY),
        GroupKey("tag", Bucket.MONTH),
    )
    assert query.metrics == (
        Metric(Fn.COUNT),
        Metric(Fn.COUNT, "pm10"),
        Metric(Fn.COUNT_DISTINCT, "ort"),
        Metric(Fn.AVG, "pm10"),
        Metric(Fn.QUANTILE, "pm10", 90),
        Metric(Fn.MEDIAN, "preis"),
        Metric(Fn.MIN, "tag"),
        Metric(Fn.MAX, "ort"),
    )
    assert [m.name for m in query.metrics][4] == "p90:pm10"
    assert query.sort == (OutputSort("count", descending=True),)
    assert query.limit == 500
    assert query.where.filters == (Filter("pm10", Op.GT, 1.0),)


def test_aggregate_defaults_to_counting_all_rows() -> None:
    query = parse_aggregate([], TABLE, max_groups=10)
    assert query.group_by == ()
    assert query.metrics == (Metric(Fn.COUNT),)


@pytest.mark.parametrize(
    ("pairs", "parameter"),
    [
        ([("metrics", "avg:ort")], "metrics"),
        ([("metrics", "sum:tag")], "metrics"),
        ([("metrics", "p90:aktiv")], "metrics"),
        ([("metrics", "mode:pm10")], "metrics"),
        ([("metrics", "p100:pm10")], "metrics"),
        ([("metrics", "avg")], "metrics"),
        ([("metrics", "avg:nope")], "metrics"),
        ([("metrics", "min:geometry")], "metrics"),
        ([("group_by", "nope")], "group_by"),
        ([("group_by", "geometry")], "group_by"),
        ([("group_by", "pm10:day")], "group_by"),
        ([("group_by", "zeit:fortnight")], "group_by"),
        ([("group_by", "tag:hour")], "group_by"),
        ([("group_by", "ort"), ("metrics", "count,count")], "metrics"),
        ([("group_by", "Count"), ("metrics", "count")], "metrics"),
        ([("_sort", "pm10")], "_sort"),
        ([("_limit", "501")], "_limit"),
        ([("_fields", "id")], "_fields"),
        ([("_next", "x")], "_next"),
    ],
)
def test_mistakes_in_aggregate_parameters_name_the_parameter(
    pairs: list[tuple[str, str]], parameter: str
) -> None:
    assert refused(parse_aggregate, *pairs).details["parameter"] == parameter


def test_download_parameters_take_a_dialect_for_csv_only() -> None:
    query = parse_export([("dialect", "excel-de"), ("_limit", "50000")], TABLE, Format.CSV)
    assert query.dialect is Dialect.EXCEL_DE
    assert query.limit == 50_000
    assert not query.whole
    assert parse_export([], TABLE, Format.PARQUET).whole
    assert refused(parse_export, ("dialect", "excel-de")).details["parameter"] == "dialect"
    with pytest.raises(InputError) as info:
        parse_export([("dialect", "excel-fr")], TABLE, Format.CSV)
    assert info.value.details["parameter"] == "dialect"
    assert refused(parse_export, ("_next", "x")).details["parameter"] == "_next"
