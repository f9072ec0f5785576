"""XLSX workbooks, JSON arrays and NDJSON: rows of cells or records into a typed table.

All three are turned into text cells, loaded into a DuckDB temp table of VARCHAR columns in
batches, and typed by :mod:`datenschatz.ingest.infer` from every row, exactly like CSV. Typed
source values are written so that inference reads them back unchanged: numbers with a decimal
point (a float that would look like a German thousands group, 1.234, is written 1.2340), dates
and times in ISO 8601, booleans as true/false.

XLSX: the first worksheet, or the one named in ``IngestOptions.sheet``. Formulas count with the
value Excel last computed. Title rows above the header are skipped as preamble (the header is
the first row that fills at least half of the columns); fully empty rows are skipped. Reported
lines are Excel row numbers. A cell with a value in a column without a header is refused.

JSON and NDJSON: a JSON file holds one array of objects; an NDJSON file one object per line
(blank lines are skipped). Nested objects are flattened into ``parent.child`` columns, up to
three levels (``a.b.c``); arrays, and objects nested deeper, are kept as JSON text in one
column (type JSON when the column holds nothing else). Columns appear in the order their keys
first appear. Syntax errors are refused with line and column. Reported lines are the lines
where the records start. A JSON array is parsed from memory (the whole text is held once);
NDJSON is read line by line. Both load rows into DuckDB in batches.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
from openpyxl.utils import get_column_letter

from datenschatz.coded import coded
from datenschatz.errors import IngestError
from datenschatz.ingest.infer import Source, check_names, infer
from datenschatz.ingest.model import ColumnNote, IngestOptions, Staged
from datenschatz.store.duck import sql_ident

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
HEADER_SCAN_ROWS = 30
MAX_DEPTH = 3
_AMBIGUOUS_FLOAT = re.compile(r"-?[1-9][0-9]{0,2}\.[0-9]{3}")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON = json.JSONDecoder()


# --- a VARCHAR table filled in batches --------------------------------------------------------


@dataclass
class _Table:
    con: duckdb.DuckDBPyConnection
    name: str = field(default_factory=lambda: sql_ident(f"ds_tab_{uuid.uuid4().hex[:12]}"))
    width: int = 0  # columns in the DuckDB table
    rows: list[list[str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # source line (row) of each table row
    created: bool = False

    def append(self, row: list[str | None], line: int) -> None:
        self.rows.append(row)
        self.lines.append(line)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        width = max([self.width, *(len(r) for r in self.rows)])
        if width == 0:
            return
        if not self.created:
            cols = ", ".join(f"{sql_ident(f'c{i}')} VARCHAR" for i in range(1, width + 1))
            self.con.execute(f"CREATE TEMP TABLE {self.name} ({cols})")
            self.created, self.width = True, width
        for i in range(self.width + 1, width + 1):
            self.con.execute(f"ALTER TABLE {self.name} ADD COLUMN {sql_ident(f'c{i}')} VARCHAR")
        self.width = width
        if not self.rows:
            return
        columns = [[r[i] if i < len(r) else None for r in self.rows] for i in range(width)]
        batch = pa.table(
            {f"c{i}": pa.array(col, type=pa.string()) for i, col in enumerate(columns, start=1)}
        )
        view = f"ds_batch_{uuid.uuid4().hex[:12]}"
        self.con.register(view, batch)
        try:
            self.con.execute(f"INSERT INTO {self.name} SELECT * FROM {sql_ident(view)}")
        finally:
            self.con.unregister(view)
        self.rows.clear()

    def locate(self, rowids: list[int]) -> list[int]:
        return [self.lines[r] for r in rowids]


def _float_text(value: float) -> str:
    text = repr(value)
    return text + "0" if _AMBIGUOUS_FLOAT.fullmatch(text) else text


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- XLSX ---------------------------------------------------------------------------------


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> Staged:
    """Read one worksheet; see the module docstring."""
    shown = options.display_name or path.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # style and extension warnings say nothing about data
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a damaged file can fail anywhere inside openpyxl
            log.info("cannot open workbook %s: %s", shown, exc)
            raise IngestError(
                "The file is not a readable XLSX workbook.",
                key="ingest.unreadable_format",
                params={"format": "XLSX"},
                file=shown,
            ) from None
        try:
            return _read_sheet(con, workbook, options, shown)
        finally:
            workbook.close()


def _read_sheet(
    con: duckdb.DuckDBPyConnection, workbook: Any, options: IngestOptions, shown: str
) -> Staged:
    names = [ws.title for ws in workbook.worksheets]
    if not names:
        raise IngestError("The workbook has no worksheet.", key="ingest.no_sheet", file=shown)
    title = options.sheet or names[0]
    if title not in names:
        raise IngestError(
            f"The workbook has no worksheet named {title!r}; it has: {', '.join(names)}.",
            key="ingest.sheet_missing",
            params={"sheets": ", ".join(names)},
            file=shown,
            sheet=title,
            available=names,
        )
    rows = _sheet_rows(workbook[title])
    head: list[tuple[int, list[str | None]]] = []
    for number, cells in rows:
        head.append((number, cells))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise IngestError(
            "The worksheet is empty.", key="ingest.sheet_empty", file=shown, sheet=title
        )
    index = _header_index(head)
    header_row, header_cells = head[index]
    width = _last_filled(header_cells)
    columns = check_names([c or "" for c in header_cells[:width]], file=shown, line=header_row)
    table = _Table(con)
    for number, cells in [*head[index + 1 :], *rows]:
        extra = _last_filled(cells)
        if extra > width:
            raise IngestError(
                f"Row {number} has a value in column {get_column_letter(extra)}, "
                "which has no header.",
                key="ingest.cell_without_header",
                file=shown,
                sheet=title,
                line=number,
                column=get_column_letter(extra),
            )
        table.append(cells[:width], number)
    table.flush()
    if not table.lines:
        raise IngestError(
            f"The worksheet has no data rows below its header (row {header_row}).",
            key="ingest.no_rows_below_header",
            file=shown,
            sheet=title,
            line=header_row,
        )
    result = infer(
        Source(con, table.name, table=True),
        [(f"c{i}", name) for i, name in enumerate(columns, start=1)],
        locate=table.locate,
        line_label="row",
    )
    details = {"sheet": title, "header_row": header_row, "preamble_rows": index}
    return Staged(result.select_sql, "xlsx", result.notes, details=details)


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, list[str | None]]]:
    """(Excel row number, cell texts) of the rows that hold anything."""
    for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if any(c is not None and c.strip() for c in cells):
            yield number, cells


def _last_filled(cells: list[str | None]) -> int:
    for i in range(len(cells), 0, -1):
        cell = cells[i - 1]
        if cell is not None and cell.strip():
            return i
    return 0


def _header_index(head: list[tuple[int, list[str | None]]]) -> int:
    """The first row filling at least half of the widest row's cells (at least two)."""
    filled = [sum(1 for c in cells if c is not None and c.strip()) for _, cells in head]
    widest = max(filled)
    need = 1 if widest == 1 else max(2, (widest + 1) // 2)
    return next(i for i, n in enumerate(filled) if n >= need)


# --- JSON and NDJSON --------------------------------------------------------------------------


@dataclass
class _Flattener:
    """Record -> row of texts; columns are numbered in order of first appearance."""

    positions: dict[str, int] = field(default_factory=dict)
    origins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    containers: dict[str, int] = field(default_factory=dict)  # column -> arrays/objects seen
    scalars: dict[str, int] = field(default_factory=dict)  # column -> other values seen

    def row(self, record: dict[str, Any], shown: str, line: int) -> list[str | None]:
        values: dict[int, str | None] = {}
        self._walk(record, (), values, shown, line)
        row: list[str | None] = [None] * len(self.positions)
        for position, text in values.items():
            row[position] = text
        return row

    def _walk(
        self,
        obj: dict[str, Any],
        path: tuple[str, ...],
        values: dict[int, str | None],
        shown: str,
        line: int,
    ) -> None:
        for key, value in obj.items():
            here = (*path, key)
            if isinstance(value, dict) and value and len(here) < MAX_DEPTH:
                self._walk(value, here, values, shown, line)
                continue
            name = ".".join(here)
            origin = self.origins.setdefault(name, here)
            if origin != here:
                raise IngestError(
                    f"Two different keys both become the column {name!r} when nested "
                    "objects are flattened; rename one of them.",
                    key="ingest.flattened_name_clash",
                    file=shown,
                    line=line,
                    column=name,
                )
            position = self.positions.setdefault(name, len(self.positions))
            if isinstance(value, dict | list):
                self.containers[name] = self.containers.get(name, 0) + 1
                text: str | None = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            else:
                if value is not None:
                    self.scalars[name] = self.scalars.get(name, 0) + 1
                text = _cell_text(value)
            values[position] = text

    def columns(self) -> list[str]:
        return sorted(self.positions, key=self.positions.__getitem__)


def read_json(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> Staged:
    """A file holding one JSON array of objects; see the module docstring."""
    shown = options.display_name or path.name
    text = _decode(path.read_bytes(), shown)
    return _load_records(con, _array_records(text, shown), "json", shown)


def read_ndjson(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> Staged:
    """One JSON object per line; see the module docstring."""
    shown = options.display_name or path.name
    return _load_records(con, _line_records(path, shown), "ndjson", shown)


def _decode(data: bytes, shown: str, line: int | None = None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        raise IngestError(
            "JSON must be UTF-8; the file holds bytes of another encoding.",
            key="ingest.not_utf8",
            file=shown,
            line=line or before.count(b"\n") + 1,
            column=exc.start - (before.rfind(b"\n") + 1) + 1,
        ) from None


def _syntax_error(message: str, shown: str, line: int, column: int) -> IngestError:
    return IngestError(
        f"Invalid JSON: {message}.",
        key="ingest.json_syntax",
        file=shown,
        line=line,
        column=column,
    )


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _array_records(text: str, shown: str) -> Iterator[tuple[int, Any]]:
    index = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    if index >= len(text):
        raise IngestError("The file is empty.", key="ingest.empty", file=shown)
    if text[index] != "[":
        raise IngestError(
            "A JSON file must hold an array of objects ([{...}, ...]); "
            "for one object per line use the .ndjson extension.",
            key="ingest.json_not_array",
            file=shown,
            line=_position(text, index)[0],
            column=_position(text, index)[1],
        )
    index = _WHITESPACE.match(text, index + 1).end()  # type: ignore[union-attr]
    line, counted = 1, 0
    if index < len(text) and text[index] == "]":
        index += 1
    else:
        while True:
            line += text.count("\n", counted, index)
            counted = index
            try:
                record, index = _JSON.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                raise _syntax_error(exc.msg, shown, exc.lineno, exc.colno) from None
            yield line, record
            index = _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]
            following = text[index : index + 1]
            if following == "]":
                index += 1
                break
            if following != ",":
                expected = "Expecting ',' or ']' after a record"
                raise _syntax_error(expected, shown, *_position(text, index))
            index = _WHITESPACE.match(text, index + 1).end()  # type: ignore[union-attr]
    index = _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]
    if index < len(text):
        raise _syntax_error("Extra data after the array", shown, *_position(text, index))


def _line_records(path: Path, shown: str) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            line = _decode(raw, shown, number).rstrip("\r\n")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _syntax_error(exc.msg, shown, number, exc.colno) from None
            yield number, record


def _load_records(
    con: duckdb.DuckDBPyConnection, records: Iterable[tuple[int, Any]], fmt: str, shown: str
) -> Staged:
    flat = _Flattener()
    table = _Table(con)
    for count, (line, record) in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise IngestError(
                f"Record {count:,} is not a JSON object; every record must be an object.",
                key="ingest.json_record_not_object",
                params={"record": count},
                file=shown,
                line=line,
                feature=count - 1,
            )
        table.append(flat.row(record, shown, line), line)
    table.flush()
    if not table.lines:
        raise IngestError("The file holds no records.", key="ingest.no_records", file=shown)
    names = flat.columns()
    if not names:
        raise IngestError("The records have no fields.", key="ingest.no_fields", file=shown)
    check_names(names, file=shown, what="field")
    fixed = {
        f"c{i}": "JSON"
        for i, name in enumerate(names, start=1)
        if flat.containers.get(name) and not flat.scalars.get(name)
    }
    result = infer(
        Source(con, table.name, table=True),
        [(f"c{i}", name) for i, name in enumerate(names, start=1)],
        locate=table.locate,
        line_label="line",
        fixed=fixed,
    )
    notes = result.notes
    for i, name in enumerate(names, start=1):
        if flat.containers.get(name) and f"c{i}" not in fixed:
            note = notes.setdefault(name, ColumnNote())
            note.message = coded(
                "holds arrays or deeply nested objects as JSON text besides plain values",
                "nested_as_json",
            )
    details = {"encoding": "UTF-8", "records": len(table.lines), "flatten_depth": MAX_DEPTH}
    return Staged(result.select_sql, fmt, notes, details=details)
