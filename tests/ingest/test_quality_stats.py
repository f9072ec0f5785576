"""Quality report: nulls, minimum and maximum from Parquet statistics equal the full query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datenschatz.ingest.model import Staged
from datenschatz.ingest.quality import build_report, describe, file_statistics
from datenschatz.store.duck import connect, sql_ident, sql_string


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(spatial=False, temp_dir=tmp_path / "duck")
    yield connection
    connection.close()


def write(con: duckdb.DuckDBPyConnection, path: Path, select: str, row_group: int = 3) -> Path:
    con.execute(
        f"COPY ({select}) TO {sql_string(str(path))} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {row_group})"
    )
    return path


def queried(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, tuple[Any, ...]]:
    """(nulls, min, max) per column as one query over all rows computes them."""
    result = {}
    for name, _ in describe(con, path):
        col = sql_ident(name)
        row = con.execute(
            f"SELECT count(*) - count({col}), min({col})::VARCHAR, max({col})::VARCHAR "
            f"FROM read_parquet({sql_string(str(path))})"
        ).fetchone()
        assert row is not None
        result[name] = tuple(row)
    return result


SELECT = """
SELECT * FROM (VALUES
    (1, 2.5::DOUBLE, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.5', true, 'b', NULL::INT),
    (NULL, -7.25, NULL, TIMESTAMP '1999-12-31 23:59:59', false, 'Äpfel', NULL),
    (-3, 1e300, DATE '1900-01-01', NULL, NULL, NULL, NULL),
    (40, NULL, DATE '2100-12-31', TIMESTAMP '2024-01-01 00:00:00', true, '', NULL),
    (5, 3.0, DATE '2000-02-29', TIMESTAMP '2024-06-01 12:00:00', false, 'zz', NULL),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (6, -1e-300, DATE '2000-01-01', TIMESTAMP '2024-01-01 00:00:00.000001', true, 'a', NULL)
) t(i, d, day, ts, flag, s, empty)
"""


def test_statistics_give_what_the_query_gives(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(con, tmp_path / "a.parquet", SELECT)
    stats = file_statistics(con, path, describe(con, path))
    assert set(stats) == {"i", "d", "day", "ts", "flag", "s", "empty"}
    assert stats == queried(con, path)
    assert stats["ts"] == (2, "1999-12-31 23:59:59", "2024-06-01 12:00:00")


def test_timestamps_with_offset_are_shown_as_the_session_shows_them(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    select = (
        "SELECT * FROM (VALUES (TIMESTAMPTZ '2024-01-01 10:00:00+02'), "
        "(TIMESTAMPTZ '2023-05-05 00:00:00.25+00'), (NULL)) t(seen)"
    )
    path = write(con, tmp_path / "tz.parquet", select, row_group=2)
    stats = file_statistics(con, path, describe(con, path))
    assert stats == queried(con, path)
    assert stats["seen"] == (1, "2023-05-05 00:00:00.25+00", "2024-01-01 08:00:00+00")
    con.execute("SET TimeZone = 'Europe/Berlin'")
    berlin = file_statistics(con, path, describe(con, path))
    assert berlin == queried(con, path)
    assert berlin["seen"][2] == "2024-01-01 09:00:00+01"


def test_nan_zero_and_long_strings_fall_back_to_the_query(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    select = (
        "SELECT * FROM (VALUES (1.0::DOUBLE, 0.0::DOUBLE, 'a', 'x'), "
        "('nan'::DOUBLE, -0.0, repeat('ä', 20000), 'y'), (2.0, 5.0, 'b', NULL)) t(n, z, s, ok)"
    )
    path = write(con, tmp_path / "b.parquet", select)
    stats = file_statistics(con, path, describe(con, path))
    assert set(stats) == {"ok"}
    staged = Staged("unused", "csv")
    _, report, _ = build_report(con, path, staged)
    by_name = {c["name"]: c for c in report["columns"]}
    assert (by_name["n"]["min"], by_name["n"]["max"]) == ("1.0", "nan")
    assert by_name["s"]["max"] == "ä" * 59 + "…"
    assert (
        by_name["ok"] | {"null_count": 1, "min": "x", "max": "y", "distinct_count": 2}
        == (by_name["ok"])
    )


def test_nested_columns_use_the_query(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    select = "SELECT * FROM (VALUES (1, [1, 2], {'a': 1}), (NULL, NULL, NULL)) t(i, l, st)"
    path = write(con, tmp_path / "n.parquet", select)
    assert file_statistics(con, path, describe(con, path)) == {"i": (1, "1", "1")}
    wide = "SELECT * FROM (VALUES ({'a': 1, 'b': 2}, 3)) t(st, i)"  # 3 leaves, 2 columns
    other = write(con, tmp_path / "w.parquet", wide)
    assert file_statistics(con, other, describe(con, other)) == {}
    _, report, _ = build_report(con, path, Staged("unused", "json"))
    by_name = {c["name"]: c for c in report["columns"]}
    assert (by_name["i"]["null_count"], by_name["i"]["min"], by_name["i"]["max"]) == (1, "1", "1")
    assert by_name["l"]["distinct_count"] == 1


def test_report_counts_distinct_values_exactly(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(con, tmp_path / "a.parquet", SELECT)
    _, report, _ = build_report(con, path, Staged("unused", "csv"))
    by_name = {c["name"]: c for c in report["columns"]}
    assert report["rows"] == 7
    assert [by_name[n]["distinct_count"] for n in ("i", "flag", "s", "empty")] == [5, 2, 5, 0]
    assert (by_name["d"]["null_count"], by_name["d"]["min"], by_name["d"]["max"]) == (
        2,
        "-7.25",
        "1e+300",
    )
