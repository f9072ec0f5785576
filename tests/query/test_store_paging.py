"""Keyset pages and counts over a version file, without catalog or HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datenschatz.errors import InputError, QueryTimeout
from datenschatz.store import duck
from datenschatz.store.query import (
    Column,
    Count,
    Filter,
    Op,
    RowsQuery,
    SortKey,
    Table,
    Where,
    count_rows,
    fetch_page,
    paging,
)
from datenschatz.store.query import count as count_module
from tests.query.builders import write_table

# 5,000 rows with ties, nulls and a text column; row groups of 122,880 do not matter here,
# the paging logic does.
TIES_SQL = """
SELECT range AS id,
       (range * 7919) % 13 AS bucket,
       CASE WHEN range % 11 = 0 THEN NULL ELSE ((range * 104729) % 97) / 4.0 END AS score,
       CASE WHEN range % 17 = 0 THEN NULL ELSE 'k' || ((range * 31) % 29) END AS label
FROM range(5000)
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    cursor = duck.cursor()
    yield cursor
    cursor.close()


@pytest.fixture(scope="module")
def ties(tmp_path_factory: pytest.TempPathFactory) -> Table:
    return write_table(tmp_path_factory.mktemp("ties"), TIES_SQL)


def walk(con: duckdb.DuckDBPyConnection, table: Table, query: RowsQuery) -> list[dict[str, Any]]:
    """Every row of ``query``, following the cursors page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        page = fetch_page(
            con,
            table,
            RowsQuery(query.where, query.sort, query.fields, query.limit, cursor),
            time_limit=10,
            count_limit=10,
        )
        assert len(page.rows) <= query.limit
        found.extend(json.loads(r) for r in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            return found
        assert len(page.rows) == query.limit
    raise AssertionError("paging did not end")


def expected_ids(
    con: duckdb.DuckDBPyConnection, table: Table, where_sql: str, order_sql: str
) -> list[int]:
    rows = con.execute(
        f"SELECT id FROM read_parquet({duck.sql_string(str(table.path))}) {where_sql} "
        f"ORDER BY {order_sql}, id"
    ).fetchall()
    return [int(r[0]) for r in rows]


def test_deep_keyset_paging_with_sort_and_filter_has_no_gaps_or_duplicates(
    con: duckdb.DuckDBPyConnection, ties: Table
) -> None:
    query = RowsQuery(
        where=Where(filters=(Filter("bucket", Op.NE, 3), Filter("id", Op.GTE, 100))),
        sort=(SortKey("score", descending=True), SortKey("label")),
        limit=97,
    )
    got = [r["id"] for r in walk(con, ties, query)]
    want = expected_ids(
        con,
        ties,
        "WHERE bucket <> 3 AND id >= 100",
        "score DESC NULLS LAST, label ASC NULLS LAST",
    )
    assert len(want) > 3000
    assert got == want


def test_paging_in_file_order_with_a_sparse_filter_finds_every_match(
    con: duckdb.DuckDBPyConnection, ties: Table
) -> None:
    query = RowsQuery(where=Where(filters=(Filter("label", Op.EQ, "k3"),)), limit=7)
    got = [r["id"] for r in walk(con, ties, query)]
    assert got == expected_ids(con, ties, "WHERE label = 'k3'", "id")
    assert len(got) > 100


def test_paging_by_a_nullable_ascending_key_puts_nulls_last(
    con: duckdb.DuckDBPyConnection, ties: Table
) -> None:
    query = RowsQuery(sort=(SortKey("label"), SortKey("bucket")), fields=("id",), limit=250)
    rows = walk(con, ties, query)
    assert list(rows[0]) == ["id"]
    assert [r["id"] for r in rows] == expected_ids(
        con, ties, "", "label ASC NULLS LAST, bucket ASC NULLS LAST"
    )


def test_first_page_counts_exactly_and_the_cursor_carries_the_count(
    con: duckdb.DuckDBPyConnection, ties: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = RowsQuery(where=Where(filters=(Filter("bucket", Op.LT, 5),)), limit=10)
    first = fetch_page(con, ties, query, time_limit=10, count_limit=10)
    truth = con.execute(
        f"SELECT count(*) FROM read_parquet({duck.sql_string(str(ties.path))}) WHERE bucket < 5"
    ).fetchone()
    assert truth is not None
    assert first.count.value == truth[0]
    assert not first.count.estimated

    def no_counting(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the second page must not count again")

    monkeypatch.setattr("datenschatz.store.query.paging.count_rows", no_counting)
    second = fetch_page(
        con,
        ties,
        RowsQuery(query.where, limit=10, cursor=first.next_cursor),
        time_limit=10,
        count_limit=10,
    )
    assert second.count == first.count
    assert json.loads(second.rows[0])["id"] > json.loads(first.rows[-1])["id"]


def test_unfiltered_count_comes_from_the_catalog(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = write_table(tmp_path, "SELECT range AS id FROM range(3)")
    fake = Table(table.path, table.sha256, 12345, table.columns)
    page = fetch_page(con, fake, RowsQuery(limit=2), time_limit=10, count_limit=10)
    assert page.count.value == 12345


def test_cursor_of_another_query_is_refused_naming_the_cursor(
    con: duckdb.DuckDBPyConnection, ties: Table
) -> None:
    first = fetch_page(
        con, ties, RowsQuery(sort=(SortKey("id"),), limit=5), time_limit=10, count_limit=10
    )
    assert first.next_cursor is not None
    others = [
        RowsQuery(sort=(SortKey("id", descending=True),), limit=5, cursor=first.next_cursor),
        RowsQuery(
            where=Where(filters=(Filter("bucket", Op.EQ, 1),)),
            sort=(SortKey("id"),),
            cursor=first.next_cursor,
        ),
        RowsQuery(sort=(SortKey("id"),), fields=("id",), cursor=first.next_cursor),
        RowsQuery(sort=(SortKey("id"),), cursor="not a cursor"),
        RowsQuery(sort=(SortKey("id"),), cursor=base64.urlsafe_b64encode(b"[1,2]").decode()),
    ]
    for other in others:
        with pytest.raises(InputError) as info:
            fetch_page(con, ties, other, time_limit=10, count_limit=10)
        assert info.value.details["parameter"] == "_next"
    # the same query with another page size follows the cursor
    bigger = RowsQuery(sort=(SortKey("id"),), limit=8, cursor=first.next_cursor)
    page = fetch_page(con, ties, bigger, time_limit=10, count_limit=10)
    assert [json.loads(r)["id"] for r in page.rows] == list(range(5, 13))


def test_cursor_of_another_version_is_refused(con: duckdb.DuckDBPyConnection, ties: Table) -> None:
    first = fetch_page(con, ties, RowsQuery(limit=5), time_limit=10, count_limit=10)
    newer = Table(ties.path, "another-sha", ties.row_count, ties.columns)
    with pytest.raises(InputError):
        fetch_page(
            con, newer, RowsQuery(limit=5, cursor=first.next_cursor), time_limit=10, count_limit=10
        )


def test_empty_result_has_no_next_page(con: duckdb.DuckDBPyConnection, ties: Table) -> None:
    query = RowsQuery(where=Where(filters=(Filter("id", Op.LT, 0),)), limit=5)
    page = fetch_page(con, ties, query, time_limit=10, count_limit=10)
    assert page.rows == []
    assert page.next_cursor is None
    assert page.count.value == 0


def test_file_with_a_column_named_like_the_row_id_pages_by_offset(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = write_table(tmp_path, "SELECT range * 2 AS file_row_number, range AS id FROM range(25)")
    assert not table.has_row_id
    rows = walk(con, table, RowsQuery(sort=(SortKey("id", descending=True),), limit=10))
    assert [r["id"] for r in rows] == list(range(24, -1, -1))
    assert rows[0]["file_row_number"] == 48


class EndlessTable(Table):
    """A "file" of 10^11 generated rows: every query on it runs until it is stopped."""

    @property
    def source(self) -> str:
        rows = "range(100000000000)"
        return f"(SELECT range AS file_row_number, md5(range::VARCHAR) AS h FROM {rows})"


ENDLESS = EndlessTable(
    Path("/endless"),
    "endless",
    10**11,
    (Column("h", "VARCHAR", nullable=False),),
)


def test_slow_page_query_is_stopped_at_the_time_limit(con: duckdb.DuckDBPyConnection) -> None:
    query = RowsQuery(sort=(SortKey("h"),), limit=10, cursor=None)
    started = time.perf_counter()
    with pytest.raises(QueryTimeout) as info:
        fetch_page(con, ENDLESS, query, time_limit=0.2, count_limit=0.2)
    assert time.perf_counter() - started < 5
    assert info.value.status == 400
    assert "0.2 s" in info.value.message


def test_count_past_its_time_limit_is_an_estimate(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = count_module.SLICES * count_module.SLICE_ROWS * 2
    table = write_table(
        tmp_path, f"SELECT range AS id, 'x' || (range % 10) AS label FROM range({rows})"
    )
    where = Where(terms=("x3",))
    truth = len(range(3, rows, 10))
    assert count_rows(con, table, where, time_limit=30) == Count(truth, estimated=False)

    monkeypatch.setattr(count_module, "exact_count", lambda *_a, **_k: None)
    estimate = count_rows(con, table, where, time_limit=30)
    assert estimate.estimated
    assert estimate.value is not None
    assert abs(estimate.value - truth) < rows // 50  # within 2 % of all rows


def test_count_gives_up_within_its_time_limits(con: duckdb.DuckDBPyConnection) -> None:
    where = Where(terms=("abc",))
    started = time.perf_counter()
    count = count_rows(con, ENDLESS, where, time_limit=0.2, estimate_limit=0.2)
    assert count == Count(None, estimated=True)
    assert time.perf_counter() - started < 5


def test_exact_counts_are_remembered_per_version_and_selection(
    con: duckdb.DuckDBPyConnection, ties: Table
) -> None:
    where = Where(filters=(Filter("bucket", Op.EQ, 2),))
    first = count_rows(con, ties, where, time_limit=10)
    missing = Table(Path("/gone.parquet"), ties.sha256, ties.row_count, ties.columns)
    assert count_rows(con, missing, where, time_limit=10) == first


def _bytes_read() -> int:
    """Bytes this process has read from files so far (Linux)."""
    with open("/proc/self/io") as fh:
        for line in fh:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def _read_by(action: Callable[[], object]) -> int:
    before = _bytes_read()
    action()
    return _bytes_read() - before


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_deep_page_reads_only_the_row_groups_after_the_cursor(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = write_table(
        tmp_path,
        "SELECT range AS id, hash(range) AS h, range % 7 AS k FROM range(1000000)",
        "million.parquet",
    )
    size = table.path.stat().st_size  # 9 row groups
    query = RowsQuery(where=Where(filters=(Filter("k", Op.EQ, 3),)), limit=100)
    position = paging._Position((), 899_999, Count(142_857))
    deep = RowsQuery(
        query.where, limit=100, cursor=paging.encode_cursor(query.fingerprint(table), position)
    )
    pages: list[list[str]] = []
    deep_bytes = _read_by(
        lambda: pages.append(fetch_page(con, table, deep, time_limit=10, count_limit=10).rows)
    )
    scan = f"SELECT sum(h) FROM read_parquet({duck.sql_string(str(table.path))}) WHERE k = 3"
    full_bytes = _read_by(lambda: con.execute(scan).fetchall())
    assert deep_bytes < size / 4, (deep_bytes, size)  # about one row group and the footer
    assert full_bytes > size / 2, (full_bytes, size)
    ids = [json.loads(r)["id"] for r in pages[0]]
    assert ids == [i for i in range(900_000, 901_000) if i % 7 == 3][:100]


def test_keyset_paging_over_temporal_boolean_and_decimal_keys(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = write_table(
        tmp_path,
        """
        SELECT range AS id,
               TIMESTAMPTZ '2024-03-31 00:30:00+00' + INTERVAL ((range % 37) * 13) MINUTE AS tz,
               DATE '2024-01-01' + CAST(range % 5 AS INTEGER) AS d,
               range % 3 = 0 AS b,
               CAST((range % 11) / 3 AS DECIMAL(9, 3)) AS dec,
               CAST('2024-01-01 00:00:00.000000001' AS TIMESTAMP_NS)
                   + INTERVAL (range % 4) MICROSECOND AS ns
        FROM range(700)
        """,
    )
    sort = (
        SortKey("b"),
        SortKey("tz", descending=True),
        SortKey("dec"),
        SortKey("d", descending=True),
        SortKey("ns"),
    )
    got = [r["id"] for r in walk(con, table, RowsQuery(sort=sort, limit=33))]
    assert got == expected_ids(con, table, "", "b, tz DESC, dec, d DESC, ns")
