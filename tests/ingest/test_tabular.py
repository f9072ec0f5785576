"""XLSX, JSON and NDJSON readers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from datenschatz.errors import IngestError
from datenschatz.ingest import tabular
from datenschatz.ingest.model import IngestOptions, Rejected, Staged
from datenschatz.store.duck import connect


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(spatial=False)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, staged: Staged) -> list[tuple[Any, ...]]:
    return con.execute(staged.select_sql).fetchall()


def types(con: duckdb.DuckDBPyConnection, staged: Staged) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {staged.select_sql}").fetchall()}


# --- XLSX ---------------------------------------------------------------------------------


def workbook(path: Path, sheets: dict[str, dict[str, Any]]) -> Path:
    """Write sheets given as {title: {"A1": value, ...}}."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, cells in sheets.items():
        sheet = book.create_sheet(title)
        for ref, value in cells.items():
            sheet[ref] = value
    book.save(path)
    return path


def table_cells(first_row: int, rows_: list[list[Any]]) -> dict[str, Any]:
    cells = {}
    for r, row in enumerate(rows_, start=first_row):
        for c, value in enumerate(row):
            if value is not None:
                cells[f"{'ABCDEFGH'[c]}{r}"] = value
    return cells


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None = None) -> Staged:
    return tabular.read_xlsx(con, path, IngestOptions(sheet=sheet, display_name="upload.xlsx"))


@pytest.fixture
def book(tmp_path: Path) -> Path:
    data = table_cells(
        3,
        [
            ["id", "Leistung [kW]", "Inbetrieb", "aktiv", "Zeit", "Notiz"],
            [1, 2.5, dt.datetime(2024, 1, 2), True, dt.datetime(2024, 1, 2, 10, 30), "a"],
            [2, 3, dt.datetime(2024, 1, 3), False, None, "#N/A"],
            [3, "N/A", None, None, dt.datetime(2024, 1, 4, 7, 0), None],
            [4, 1.234, dt.date(2024, 1, 5), True, None, "d"],
        ],
    )
    data["A1"] = "Stadtwerke Herne \u2013 Export"
    return workbook(tmp_path / "b.xlsx", {"Hinweise": {"A1": "siehe Blatt Daten"}, "Daten": data})


def test_named_sheet_is_read_with_types(con: duckdb.DuckDBPyConnection, book: Path) -> None:
    staged = read_xlsx(con, book, "Daten")
    assert staged.format == "xlsx"
    assert staged.details == {"sheet": "Daten", "header_row": 3, "preamble_rows": 1}
    assert types(con, staged) == {
        "id": "BIGINT",
        "Leistung [kW]": "DOUBLE",
        "Inbetrieb": "DATE",
        "aktiv": "BOOLEAN",
        "Zeit": "TIMESTAMP",
        "Notiz": "VARCHAR",
    }
    assert [r[1] for r in rows(con, staged)] == [2.5, 3.0, None, 1.234]
    assert staged.notes["Leistung [kW]"].null_markers == {"N/A": 1}
    assert [r[5] for r in rows(con, staged)] == ["a", "#N/A", None, "d"]


def test_first_sheet_is_the_default(con: duckdb.DuckDBPyConnection, book: Path) -> None:
    with pytest.raises(IngestError, match="no data rows below its header") as err:
        read_xlsx(con, book)
    assert err.value.details["sheet"] == "Hinweise"


def test_unknown_sheet_lists_the_available_ones(con: duckdb.DuckDBPyConnection, book: Path) -> None:
    with pytest.raises(IngestError, match="it has: Hinweise, Daten") as err:
        read_xlsx(con, book, "Tabelle1")
    assert err.value.details == {
        "file": "upload.xlsx",
        "sheet": "Tabelle1",
        "available": ["Hinweise", "Daten"],
    }


def test_rejected_cells_name_the_excel_row(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    data = table_cells(1, [["n"], [1], [2], ["zwei"], [4]])
    staged = read_xlsx(con, workbook(tmp_path / "r.xlsx", {"S": data}))
    assert staged.notes["n"].rejected == [Rejected(4, "zwei")]
    assert (staged.notes["n"].message or "").endswith("; row 4")


def test_empty_rows_between_data_are_skipped(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    data = table_cells(1, [["a", "b"], [1, "x"], [None, None], [2, "y"]])
    staged = read_xlsx(con, workbook(tmp_path / "e.xlsx", {"S": data}))
    assert rows(con, staged) == [(1, "x"), (2, "y")]


def test_value_outside_the_header_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    data = table_cells(1, [["a", "b"], [1, 2]])
    data["E2"] = "vergessen"
    with pytest.raises(IngestError, match="column E, which has no header") as err:
        read_xlsx(con, workbook(tmp_path / "o.xlsx", {"S": data}))
    assert err.value.details["line"] == 2
    assert "vergessen" not in str(err.value.to_dict())


def test_duplicate_header_in_sheet_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    data = table_cells(2, [["a", "b", "A"], [1, 2, 3]])
    with pytest.raises(IngestError, match="Columns 1 and 3 have the same name") as err:
        read_xlsx(con, workbook(tmp_path / "d.xlsx", {"S": data}))
    assert err.value.details["line"] == 2


def test_not_a_workbook_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "kaputt.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(IngestError, match="not a readable XLSX workbook"):
        read_xlsx(con, path)


def test_floats_that_look_like_thousands_stay_fractions() -> None:
    assert tabular._cell_text(1.234) == "1.2340"
    assert tabular._cell_text(-12.5) == "-12.5"
    assert tabular._cell_text(dt.datetime(2024, 1, 2)) == "2024-01-02"
    assert tabular._cell_text(dt.datetime(2024, 1, 2, 3, 4)) == "2024-01-02T03:04:00"


# --- JSON and NDJSON ------------------------------------------------------------------------


def read_json(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    reader = tabular.read_ndjson if path.suffix == ".ndjson" else tabular.read_json
    return reader(con, path, IngestOptions())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_objects_are_flattened(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    records = [
        {
            "id": 1,
            "ort": {"name": "Herne", "lage": {"lat": 51.5, "lon": 7.2, "tief": {"x": 1}}},
            "tags": ["a", "b"],
        },
        {"id": 2, "ort": {"name": "Bochum"}, "tags": [], "neu": "2024-01-01"},
    ]
    staged = read_json(con, write(tmp_path, "o.json", json.dumps(records, indent=2)))
    assert types(con, staged) == {
        "id": "BIGINT",
        "ort.name": "VARCHAR",
        "ort.lage.lat": "DOUBLE",
        "ort.lage.lon": "DOUBLE",
        "ort.lage.tief": "JSON",
        "tags": "JSON",
        "neu": "DATE",
    }
    got = con.execute(f'SELECT "ort.lage.tief"::VARCHAR, tags::VARCHAR FROM ({staged.select_sql})')
    assert got.fetchall() == [('{"x":1}', '["a","b"]'), (None, "[]")]
    assert staged.details["records"] == 2


def test_reported_line_is_where_the_record_starts(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = '[\n  {"n": 1},\n  {"n": 2},\n  {\n    "n": "viele"\n  },\n  {"n": 4}\n]\n'
    staged = read_json(con, write(tmp_path, "l.json", text))
    assert staged.notes["n"].rejected == [Rejected(4, "viele")]


def test_json_numbers_never_read_as_thousands(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = read_json(con, write(tmp_path, "n.json", '[{"x": 1.234}, {"x": 2.5}]'))
    assert rows(con, staged) == [(1.234,), (2.5,)]


@pytest.mark.parametrize(
    ("name", "text", "message", "line", "column"),
    [
        ("a.json", '[\n {"a": 1},\n {"a": 2,, "b": 3}\n]\n', "Invalid JSON: Expecting", 3, 10),
        ("b.json", '[{"a": 1} {"a": 2}]', "Expecting ',' or ']' after a record", 1, 11),
        ("c.json", '[{"a": 1}]\n]', "Extra data after the array", 2, 1),
        ("d.json", '[{"a": 1},\n {"a": "unterminated}]', "Invalid JSON: Unterminated string", 2, 8),
        (
            "e.ndjson",
            '{"a": 1}\n{"a": 2\n{"a": 3}\n',
            "Invalid JSON: Expecting ',' delimiter",
            2,
            8,
        ),
    ],
)
def test_syntax_errors_name_line_and_column(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    name: str,
    text: str,
    message: str,
    line: int,
    column: int,
) -> None:
    with pytest.raises(IngestError, match=message) as err:
        read_json(con, write(tmp_path, name, text))
    assert err.value.details == {"file": name, "line": line, "column": column}


def test_json_must_be_an_array(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="array of objects"):
        read_json(con, write(tmp_path, "o.json", '{"a": 1}'))


def test_records_must_be_objects(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="Record 2 is not a JSON object") as err:
        read_json(con, write(tmp_path, "r.json", '[{"a": 1},\n 5]'))
    assert (err.value.details["line"], err.value.details["feature"]) == (2, 1)


def test_flattened_name_collision_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with pytest.raises(IngestError, match=r"both become the column .a\.b."):
        read_json(con, write(tmp_path, "k.json", '[{"a.b": 1}, {"a": {"b": 2}}]'))


def test_empty_array_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="holds no records"):
        read_json(con, write(tmp_path, "e.json", " [ ] "))


def test_json_that_is_not_utf8_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    path.write_bytes('[{"ort": "Lünen"}]'.encode("latin-1"))
    with pytest.raises(IngestError, match="must be UTF-8") as err:
        read_json(con, path)
    assert (err.value.details["line"], err.value.details["column"]) == (1, 12)


def test_ndjson_skips_blank_lines_and_keeps_line_numbers(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = (
        '\ufeff{"a": 1, "t": "2024-01-01T10:00:00Z"}\n\n{"a": "N/A"}\r\n{"a": "viele", "t": null}\n'
    )
    staged = read_json(con, write(tmp_path, "s.ndjson", text))
    assert staged.format == "ndjson"
    assert types(con, staged) == {"a": "VARCHAR", "t": "TIMESTAMP WITH TIME ZONE"}
    assert staged.notes["a"].rejected == [Rejected(4, "viele")]


def test_mixed_json_and_plain_values_stay_text_with_note(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = read_json(con, write(tmp_path, "m.ndjson", '{"v": [1]}\n{"v": "eins"}\n'))
    assert rows(con, staged) == [("[1]",), ("eins",)]
    assert "JSON text" in (staged.notes["v"].message or "")
