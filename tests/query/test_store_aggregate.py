"""Group-by aggregates with time buckets over a version file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from datenschatz.store import duck
from datenschatz.store.query import (
    AggregateQuery,
    Bucket,
    Filter,
    Fn,
    GroupKey,
    Metric,
    Op,
    OutputSort,
    Table,
    Where,
    aggregate,
)
from tests.query.builders import write_table

DATA_SQL = """
SELECT range AS id,
       (range % 3)::INTEGER AS g,
       CASE WHEN range % 4 = 0 THEN NULL ELSE range END AS v,
       range / 8.0 AS x,
       TIMESTAMP '2024-01-01' + INTERVAL (range * 7) HOUR AS t,
       TIMESTAMPTZ '2024-03-30 22:30:00+00' + INTERVAL (range) HOUR AS tz,
       DATE '2024-01-30' + CAST(range AS INTEGER) AS d,
       'n' || (range % 5) AS name
FROM range(100)
"""


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    return write_table(tmp_path_factory.mktemp("agg"), DATA_SQL)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    cursor = duck.cursor()
    yield cursor
    cursor.close()


def run(con: duckdb.DuckDBPyConnection, table: Table, **kwargs: Any) -> list[dict[str, Any]]:
    result = aggregate(con, table, AggregateQuery(**kwargs), time_limit=10)
    return [json.loads(r) for r in result.rows]


def truth(con: duckdb.DuckDBPyConnection, table: Table, sql: str) -> list[tuple[Any, ...]]:
    source = f"read_parquet({duck.sql_string(str(table.path))})"
    return con.execute(sql.replace("SOURCE", source)).fetchall()


def test_metrics_per_group_match_a_direct_query(
    con: duckdb.DuckDBPyConnection, table: Table
) -> None:
    rows = run(
        con,
        table,
        group_by=(GroupKey("g"),),
        metrics=(
            Metric(Fn.COUNT),
            Metric(Fn.COUNT, "v"),
            Metric(Fn.COUNT_DISTINCT, "name"),
            Metric(Fn.SUM, "v"),
            Metric(Fn.AVG, "x"),
            Metric(Fn.MEDIAN, "v"),
            Metric(Fn.QUANTILE, "x", 90),
            Metric(Fn.MIN, "name"),
            Metric(Fn.MAX, "t"),
        ),
    )
    expected = truth(
        con,
        table,
        "SELECT g, count(*), count(v), count(DISTINCT name), sum(v), avg(x), median(v), "
        "quantile_cont(x, 0.9), min(name), max(t) FROM SOURCE GROUP BY g ORDER BY g",
    )
    assert [list(r) for r in rows] == [
        [
            "g",
            "count",
            "count:v",
            "count_distinct:name",
            "sum:v",
            "avg:x",
            "median:v",
            "p90:x",
            "min:name",
            "max:t",
        ]
    ] * 3
    for row, want in zip(rows, expected, strict=True):
        assert row["g"] == want[0]
        assert (row["count"], row["count:v"], row["count_distinct:name"]) == want[1:4]
        assert row["sum:v"] == want[4]
        assert row["avg:x"] == pytest.approx(want[5])
        assert row["median:v"] == pytest.approx(want[6])
        assert row["p90:x"] == pytest.approx(want[7])
        assert row["min:name"] == want[8]
        assert row["max:t"] == want[9].isoformat()


@pytest.mark.parametrize(
    ("bucket", "first", "groups"),
    [
        (Bucket.HOUR, "2024-01-01T00:00:00", 100),
        (Bucket.DAY, "2024-01-01T00:00:00", 29),
        (Bucket.WEEK, "2024-01-01T00:00:00", 5),  # 2024-01-01 is a Monday
        (Bucket.MONTH, "2024-01-01T00:00:00", 1),
        (Bucket.YEAR, "2024-01-01T00:00:00", 1),
    ],
)
def test_time_buckets_on_a_timestamp_column(
    con: duckdb.DuckDBPyConnection, table: Table, bucket: Bucket, first: str, groups: int
) -> None:
    rows = run(con, table, group_by=(GroupKey("t", bucket),))
    assert rows[0][f"t:{bucket.value}"] == first
    assert len(rows) == groups
    assert sum(r["count"] for r in rows) == 100


def test_month_buckets_of_a_date_column_are_dates(
    con: duckdb.DuckDBPyConnection, table: Table
) -> None:
    rows = run(con, table, group_by=(GroupKey("d", Bucket.MONTH),))
    assert rows == [
        {"d:month": "2024-01-01", "count": 2},
        {"d:month": "2024-02-01", "count": 29},
        {"d:month": "2024-03-01", "count": 31},
        {"d:month": "2024-04-01", "count": 30},
        {"d:month": "2024-05-01", "count": 8},
    ]


def test_day_buckets_of_timestamptz_are_utc_days(
    con: duckdb.DuckDBPyConnection, table: Table
) -> None:
    rows = run(con, table, group_by=(GroupKey("tz", Bucket.DAY),))
    assert rows[0] == {"tz:day": "2024-03-30T00:00:00Z", "count": 2}
    assert rows[1] == {"tz:day": "2024-03-31T00:00:00Z", "count": 24}


def test_filters_apply_before_grouping(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    where = Where(filters=(Filter("g", Op.EQ, 1), Filter("name", Op.IN, ("n1", "n2"))))
    rows = run(con, table, where=where, group_by=(GroupKey("name"),))
    assert rows == [{"name": "n1", "count": 7}, {"name": "n2", "count": 7}]


def test_without_group_by_there_is_one_row_of_totals(
    con: duckdb.DuckDBPyConnection, table: Table
) -> None:
    rows = run(con, table, metrics=(Metric(Fn.COUNT), Metric(Fn.SUM, "id")))
    assert rows == [{"count": 100, "sum:id": 4950}]


def test_groups_sorted_by_a_metric_and_capped(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    query = AggregateQuery(
        group_by=(GroupKey("v"),),
        metrics=(Metric(Fn.SUM, "x"),),
        sort=(OutputSort("sum:x", descending=True),),
        limit=3,
    )
    result = aggregate(con, table, query, time_limit=10)
    assert result.truncated
    assert [json.loads(r)["v"] for r in result.rows] == [None, 99, 98]
    assert [c.name for c in result.columns] == ["v", "sum:x"]
    complete = aggregate(con, table, AggregateQuery(group_by=(GroupKey("g"),)), time_limit=10)
    assert not complete.truncated
    assert len(complete.rows) == 3
