"""CSV columns whose values all fit a type DuckDB parses the same way are read typed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datenschatz.ingest.model import IngestOptions, Staged
from datenschatz.ingest.text import read_csv
from datenschatz.store.duck import connect


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(spatial=False, temp_dir=tmp_path / "duck")
    yield connection
    connection.close()


def load(con: duckdb.DuckDBPyConnection, tmp_path: Path, text: str) -> Staged:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return read_csv(con, path, IngestOptions())


def column(con: duckdb.DuckDBPyConnection, staged: Staged, name: str) -> list[Any]:
    rows = con.execute(f'SELECT "{name}" FROM ({staged.select_sql})').fetchall()
    return [r[0] for r in rows]


def read_types(staged: Staged) -> str:
    """The column list the SELECT's read_csv parses with."""
    return staged.select_sql.split("columns={", 1)[1].split("}", 1)[0]


def test_clean_columns_are_parsed_typed_by_the_reader(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(
        con,
        tmp_path,
        "id,wert,tag,zeit,ok,name\n"
        "1,1.5,2024-01-31,2024-01-31T10:00:01,true,a\n"
        "2,,2024-02-29,2024-02-29 23:59,FALSE,b\n",
    )
    assert read_types(staged) == (
        "'c1': 'BIGINT', 'c2': 'DOUBLE', 'c3': 'DATE', 'c4': 'TIMESTAMP', "
        "'c5': 'BOOLEAN', 'c6': 'VARCHAR'"
    )
    assert con.execute(staged.select_sql).fetchall() == [
        (1, 1.5, date(2024, 1, 31), datetime(2024, 1, 31, 10, 0, 1), True, "a"),
        (2, None, date(2024, 2, 29), datetime(2024, 2, 29, 23, 59), False, "b"),
    ]


def test_typed_read_gives_the_values_of_the_text_conversion(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    numbers = ["0", "-0.0", "+.5", ".25", "1e5", "1E-05", "-2.5e+17", "0.30000000000000004"]
    stamps = [
        "2024-05-01",
        "2024-05-01 10:00",
        "2024-05-01T10:00:59.5",
        "2024-05-01 10:00:00.123456",
    ]
    flags = ["true", "True", "FALSE", "fAlSe"]
    body = "".join(f"{n},{s},{f}\n" for n, s, f in zip(numbers, stamps * 2, flags * 2, strict=True))
    staged = load(con, tmp_path, "zahl,zeit,flag\n" + body)
    assert "'c1': 'DOUBLE', 'c2': 'TIMESTAMP', 'c3': 'BOOLEAN'" in read_types(staged)
    got = column(con, staged, "zahl")
    assert got == [float(n) for n in numbers]
    assert [math.copysign(1, v) for v in got[:2]] == [1, -1]  # the sign of zero is kept
    assert column(con, staged, "zeit") == [datetime.fromisoformat(s) for s in stamps * 2]
    assert column(con, staged, "flag") == [f.lower() == "true" for f in flags * 2]


def test_thousands_separators_keep_the_text_conversion(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(con, tmp_path, 'betrag;x\n"1,234.5";1\n"12.5";2\n"1,000,000.25";3\n')
    assert "'c1': 'VARCHAR', 'c2': 'BIGINT'" in read_types(staged)
    assert column(con, staged, "betrag") == [1234.5, 12.5, 1000000.25]


def test_columns_needing_nulls_trimming_or_german_forms_keep_text_reads(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(
        con,
        tmp_path,
        "a;b;c;d;e\n1;N/A;1,5;31.12.2024;ja\n2; 7 ;2,5;01.01.2025;nein\n3;8;3,5;02.01.2025;ja\n",
    )
    assert read_types(staged) == (
        "'c1': 'BIGINT', 'c2': 'VARCHAR', 'c3': 'VARCHAR', 'c4': 'VARCHAR', 'c5': 'VARCHAR'"
    )
    assert con.execute(staged.select_sql).fetchall() == [
        (1, None, 1.5, date(2024, 12, 31), True),
        (2, 7, 2.5, date(2025, 1, 1), False),
        (3, 8, 3.5, date(2025, 1, 2), True),
    ]


def test_quoted_empty_keeps_text_and_unquoted_empty_is_null_in_a_typed_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(con, tmp_path, 'text,n\n"",1\n,2\nx,\n')
    assert read_types(staged) == "'c1': 'VARCHAR', 'c2': 'BIGINT'"
    assert con.execute(staged.select_sql).fetchall() == [("", 1), (None, 2), ("x", None)]


def test_quoted_empty_in_a_number_column_keeps_the_text_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(con, tmp_path, 'a,n\nx,1\ny,""\nz,3\n')
    assert read_types(staged) == "'c1': 'VARCHAR', 'c2': 'VARCHAR'"
    assert column(con, staged, "n") == [1, None, 3]
