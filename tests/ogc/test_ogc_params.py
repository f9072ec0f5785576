"""OGC items parameters to typed requests, without HTTP or a catalog."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from datenschatz.errors import InputError
from datenschatz.ogc import crs as ogc_crs
from datenschatz.ogc.params import (
    Area,
    datetime_filters,
    parse_bbox,
    parse_item,
    parse_items,
    time_column,
)
from datenschatz.store.query import BBox, Column, Filter, Op, Table
from tests.query.builders import write_table

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    return write_table(
        tmp_path_factory.mktemp("t"),
        "SELECT 1 AS nr, 'a' AS name, DATE '2024-01-01' AS tag, "
        "TIMESTAMP '2024-01-01 10:00' AS zeit, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS utc, "
        "ST_SetCRS(ST_Point(7, 51), 'EPSG:4326') AS geometry",
    )


def column(table: Table, name: str) -> Column:
    found = table.column(name)
    assert found is not None
    return found


def error_parameter(call: object) -> str:
    assert callable(call)
    with pytest.raises(InputError) as caught:
        call()
    parameter: str = caught.value.details["parameter"]
    return parameter


def test_crs_is_named_by_uri_or_safe_curie_and_unknown_ones_are_refused() -> None:
    assert ogc_crs.parse_crs(EPSG + "25832", "crs") is ogc_crs.EPSG_25832
    assert ogc_crs.parse_crs("[EPSG:4326]", "crs") is ogc_crs.EPSG_4326
    assert ogc_crs.parse_crs("https://www.opengis.net/def/crs/OGC/1.3/CRS84", "crs").lonlat
    assert error_parameter(lambda: ogc_crs.parse_crs("EPSG:4326", "bbox-crs")) == "bbox-crs"
    assert ogc_crs.SUPPORTED[0] is ogc_crs.CRS84


def test_crs_sql_flips_latitude_first_systems_and_transforms_projected_ones() -> None:
    assert ogc_crs.CRS84.from_storage("g") == "g"
    assert ogc_crs.EPSG_4326.from_storage("g") == "ST_FlipCoordinates(g)"
    assert ogc_crs.EPSG_4258.from_storage("g") == (
        "ST_FlipCoordinates(ST_Transform(g, 'OGC:CRS84', 'EPSG:4258', true))"
    )
    assert ogc_crs.EPSG_3857.to_storage("e") == "ST_Transform(e, 'EPSG:3857', 'OGC:CRS84', true)"


def test_bbox_in_degrees_becomes_the_query_layers_bbox_in_lon_lat_order() -> None:
    assert parse_bbox("7,51,8,52", None) == (BBox(7, 51, 8, 52), None)
    assert parse_bbox("51,7,52,8", EPSG + "4326") == (BBox(7, 51, 8, 52), None)
    assert parse_bbox("7,51,0,8,52,9", None) == (BBox(7, 51, 8, 52), None)
    bbox, area = parse_bbox("51,7,52,8", EPSG + "4258")
    assert bbox is None
    assert area == Area(ogc_crs.EPSG_4258, 7, 51, 8, 52)
    assert parse_bbox("1,2,3,4", EPSG + "25832") == (None, Area(ogc_crs.EPSG_25832, 1, 2, 3, 4))


@pytest.mark.parametrize(
    "text", ["7,51,8", "7,51,8,52,1", "7,x,8,52", "7,51,nan,52", "8,51,7,52", "7,-91,8,52"]
)
def test_malformed_bboxes_name_bbox(text: str) -> None:
    assert error_parameter(lambda: parse_bbox(text, None)) == "bbox"


def test_datetime_instants_and_intervals_become_range_filters(table: Table) -> None:
    zeit, tag, utc = (column(table, n) for n in ("zeit", "tag", "utc"))
    instant = datetime(2024, 1, 1, 10)
    assert datetime_filters(zeit, "2024-01-01T11:00:00+01:00") == (Filter("zeit", Op.EQ, instant),)
    assert datetime_filters(utc, "2024-01-01T10:00:00Z") == (
        Filter("utc", Op.EQ, instant.replace(tzinfo=UTC)),
    )
    assert datetime_filters(zeit, "2024-01-01") == (
        Filter("zeit", Op.GTE, datetime(2024, 1, 1)),
        Filter("zeit", Op.LT, datetime(2024, 1, 2)),
    )
    assert datetime_filters(zeit, "../2024-01-31") == (Filter("zeit", Op.LT, datetime(2024, 2, 1)),)
    assert datetime_filters(tag, "2024-01-01T23:30:00Z/2024-02-01T00:00:00Z") == (
        Filter("tag", Op.GTE, date(2024, 1, 1)),
        Filter("tag", Op.LTE, date(2024, 2, 1)),
    )
    # a date end covers its whole day, so this interval is not empty
    assert len(datetime_filters(zeit, "2024-01-05T10:00:00Z/2024-01-05")) == 2


def test_the_declared_time_column_wins_over_the_first(table: Table) -> None:
    assert time_column(table) == table.column("tag")
    assert time_column(table, "utc") == table.column("utc")
    assert time_column(table, "name") == table.column("tag")  # not a time column


def test_items_request_combines_filters_and_keeps_the_clamped_limit(table: Table) -> None:
    request = parse_items(
        [("nr", "1"), ("limit", "99999"), ("datetime", "2024-01-01"), ("crs", EPSG + "3857")],
        table,
        max_limit=500,
    )
    assert request.limit == 500
    assert request.crs is ogc_crs.EPSG_3857
    assert request.where.filters == (
        Filter("nr", Op.EQ, 1),
        Filter("tag", Op.EQ, date(2024, 1, 1)),
    )
    assert parse_items([], table, max_limit=500).limit == 10
    same = parse_items([("datetime", "2024-01-01"), ("nr", "1")], table, max_limit=9)
    assert same.selection == request.selection
    assert same.canonical != request.canonical


@pytest.mark.parametrize(
    ("pairs", "parameter"),
    [
        ([("limit", "0")], "limit"),
        ([("offset", "x")], "offset"),
        ([("cursor", "")], "cursor"),
        ([("bbox-crs", EPSG + "4326")], "bbox-crs"),
        ([("nr", "eins")], "nr"),
        ([("geometry", "x")], "geometry"),
        ([("unbekannt", "1")], "unbekannt"),
        ([("limit", "1"), ("limit", "2")], "limit"),
        ([("datetime", "2024-02-01/2024-01-01")], "datetime"),
    ],
)
def test_items_mistakes_name_the_parameter(
    table: Table, pairs: list[tuple[str, str]], parameter: str
) -> None:
    assert error_parameter(lambda: parse_items(pairs, table, max_limit=100)) == parameter


def test_a_single_feature_takes_only_crs() -> None:
    assert parse_item([]) is ogc_crs.CRS84
    assert parse_item([("crs", EPSG + "25833")]) is ogc_crs.EPSG_25833
    assert error_parameter(lambda: parse_item([("limit", "1")])) == "limit"
