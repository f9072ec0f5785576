"""Streamed exports of a version (whole or filtered) with bounded memory.

DuckDB hands over Arrow record batches of at most :data:`BATCH_ROWS` rows; each is written
and passed on before the next is read, so memory does not grow with the size of the data.

- CSV: the Arrow CSV writer (C++) writes each batch.
- JSON, NDJSON, GeoJSON: DuckDB renders each row or feature as JSON text, separators
  included; a batch's text is one contiguous Arrow buffer, passed on as it is.
- Parquet: the version file itself when nothing is filtered; else DuckDB writes a temporary
  Parquet file (GeoParquet for geometry), which is streamed and deleted.
- XLSX: openpyxl in write-only mode writes a temporary file, which is streamed and deleted;
  at most :data:`XLSX_MAX_ROWS` rows (Excel's limit, less the header).
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from datenschatz.errors import InputError
from datenschatz.store.duck import sql_string
from datenschatz.store.query.count import exact_count
from datenschatz.store.query.filters import Where, where_sql
from datenschatz.store.query.limits import Deadline, interrupted, too_slow
from datenschatz.store.query.paging import SortKey
from datenschatz.store.query.render import (
    Dialect,
    csv_value,
    json_object,
    json_value,
    select_list,
    xlsx_value,
)
from datenschatz.store.query.table import ROW_ID, Column, Table

if TYPE_CHECKING:
    # pyarrow (and numpy under it) is imported by the writers that use it: the catalog, and
    # so every ingest, imports this module for :class:`Format` alone.
    import pyarrow as pa

BATCH_ROWS = 65_536
CHUNK_BYTES = 1024 * 1024
XLSX_MAX_ROWS = 1_048_575
BOM = b"\xef\xbb\xbf"

Connect = Callable[[], duckdb.DuckDBPyConnection]


class Format(enum.StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"
    GEOJSON = "geojson"
    PARQUET = "parquet"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.JSON: "application/json",
    Format.NDJSON: "application/x-ndjson",
    Format.GEOJSON: "application/geo+json",
    Format.PARQUET: "application/vnd.apache.parquet",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportQuery:
    where: Where = field(default_factory=Where)
    sort: tuple[SortKey, ...] = ()
    fields: tuple[str, ...] | None = None
    limit: int | None = None
    dialect: Dialect = Dialect.DEFAULT

    @property
    def whole(self) -> bool:
        """Every row and column in file order: the version file itself, for Parquet."""
        return self.where.empty and not self.sort and self.fields is None and self.limit is None

    def columns(self, table: Table) -> tuple[Column, ...]:
        if self.fields is None:
            return table.columns
        return tuple(c for c in (table.column(n) for n in self.fields) if c is not None)

    def fingerprint(self, table: Table, fmt: Format) -> str:
        text = json.dumps(
            [
                table.sha256,
                fmt.value,
                self.where.canonical,
                [[k.column, k.descending] for k in self.sort],
                list(self.fields) if self.fields is not None else None,
                self.limit,
                self.dialect.value,
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Export:
    """A download ready to send: ``chunks`` yields its bytes once."""

    media_type: str
    chunks: Iterator[bytes]
    size: int | None = None  # known for files


def _select(table: Table, query: ExportQuery, expressions: str) -> tuple[str, list[Any]]:
    clause, params = where_sql(table, query.where)
    order = ""
    if query.sort:
        items = []
        for key in query.sort:
            column = table.column(key.column)
            assert column is not None
            items.append(f"{column.sql} {'DESC' if key.descending else 'ASC'} NULLS LAST")
        if table.has_row_id:
            items.append(ROW_ID)
        order = "ORDER BY " + ", ".join(items)
    sql = f"SELECT {expressions} FROM {table.source} {clause} {order}"
    if query.limit is not None:
        sql += " LIMIT ?"
        params.append(query.limit)
    return sql, params


def _batches(
    connect: Connect, sql: str, params: Sequence[Any], batch_timeout: float
) -> Generator[pa.RecordBatch, None, None]:
    """Record batches of ``sql``; producing any one batch may take ``batch_timeout``.

    The clock runs only while DuckDB works, not while the client reads.
    """
    con = connect()
    clock = Deadline(con, batch_timeout)
    try:
        clock.start()
        try:
            reader = con.execute(sql, list(params)).to_arrow_reader(BATCH_ROWS)
            while True:
                clock.start()
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                finally:
                    clock.cancel()
                yield batch
        except (duckdb.Error, OSError) as exc:
            if clock.fired or interrupted(exc):
                raise too_slow(batch_timeout, "Producing the download") from None
            raise
    finally:
        clock.cancel()
        con.close()


def _started(
    connect: Connect, sql: str, params: Sequence[Any], batch_timeout: float
) -> Iterator[pa.RecordBatch]:
    """:func:`_batches` with the first batch already produced.

    A sort over all rows, or a selective filter, does most of its work before the first
    batch: failing then (e.g. past the time limit) is still a clean error response, not a
    truncated download.
    """
    batches = _batches(connect, sql, params, batch_timeout)
    first = next(batches, None)

    def rest() -> Iterator[pa.RecordBatch]:
        try:
            if first is not None:
                yield first
            yield from batches
        finally:
            batches.close()

    return rest()


def _text_bytes(array: pa.Array) -> bytes:
    """The concatenated UTF-8 of a non-null string array, straight from its data buffer."""
    import pyarrow as pa

    if array.type != pa.large_string():
        array = array.cast(pa.large_string())  # 64-bit offsets
    if len(array) == 0:
        return b""
    _validity, offsets, data = array.buffers()
    bounds = memoryview(offsets).cast("q")
    start, end = bounds[array.offset], bounds[array.offset + len(array)]
    return bytes(memoryview(data)[start:end])


def _json_lines(
    batches: Iterator[pa.RecordBatch], head: bytes, separator: bytes, tail: bytes
) -> Iterator[bytes]:
    """``head``, the rows' texts (each starting with ``separator``, dropped once), ``tail``."""
    pending = bytearray(head)
    first = True
    for batch in batches:
        text = _text_bytes(batch.column(0))
        if not text:
            continue
        if first:
            text = text[len(separator) :]
            first = False
        pending += text
        if len(pending) >= CHUNK_BYTES:
            yield bytes(pending)
            pending.clear()
    pending += tail
    yield bytes(pending)


def _csv(
    batches: Iterator[pa.RecordBatch], columns: Sequence[Column], dialect: Dialect
) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    excel = dialect is Dialect.EXCEL_DE
    options = pa_csv.WriteOptions(
        include_header=False,
        batch_size=8192,
        delimiter=";" if excel else ",",
        eol="\r\n" if excel else "\n",
    )
    out = io.BytesIO()
    if excel:
        out.write(BOM)
    header = pa.table({c.name: pa.array([], pa.string()) for c in columns})
    header_options = pa_csv.WriteOptions(
        include_header=True, delimiter=options.delimiter, eol=options.eol
    )
    pa_csv.write_csv(header, out, write_options=header_options)
    for batch in batches:
        pa_csv.write_csv(batch, out, write_options=options)
        if out.tell() >= CHUNK_BYTES:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _file_chunks(path: Path, *, delete: bool) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                yield chunk
    finally:
        if delete:
            path.unlink(missing_ok=True)


def _temp_path(tmp_dir: Path, suffix: str) -> Path:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="export-", suffix=suffix, dir=tmp_dir)
    os.close(fd)
    return Path(name)


def export(
    connect: Connect,
    table: Table,
    query: ExportQuery,
    fmt: Format,
    *,
    time_limit: float,
    tmp_dir: Path,
) -> Export:
    """Prepare the download of ``query`` as ``fmt``.

    Everything that can be refused is refused here, before a byte is sent: GeoJSON without
    geometry, XLSX over Excel's row limit, a query whose first batch takes too long.
    Streaming formats produce their first batch here and the rest while iterated; Parquet of
    a selection and XLSX are written to a temporary file first.
    ``time_limit`` bounds each batch (and the count and file writing of XLSX).
    """
    columns = query.columns(table)
    if fmt is Format.CSV:
        expressions = select_list([(c.name, csv_value(c, query.dialect)) for c in columns])
        sql, params = _select(table, query, expressions)
        batches = _started(connect, sql, params, time_limit)
        return Export(fmt.media_type, _csv(batches, columns, query.dialect))
    if fmt is Format.NDJSON:
        sql, params = _select(table, query, f"{json_object(columns)} || chr(10)")
        batches = _started(connect, sql, params, time_limit)
        return Export(fmt.media_type, _json_lines(batches, b"", b"", b""))
    if fmt is Format.JSON:
        sql, params = _select(table, query, f"',' || chr(10) || {json_object(columns)}")
        batches = _started(connect, sql, params, time_limit)
        lines = _json_lines(batches, b"[\n", b",\n", b"\n]\n")
        return Export(fmt.media_type, lines)
    if fmt is Format.GEOJSON:
        return _geojson(connect, table, query, columns, time_limit)
    if fmt is Format.PARQUET:
        return _parquet(connect, table, query, columns, tmp_dir)
    return _xlsx(connect, table, query, columns, time_limit, tmp_dir)


def _geojson(
    connect: Connect,
    table: Table,
    query: ExportQuery,
    columns: Sequence[Column],
    time_limit: float,
) -> Export:
    geometry = table.column(table.geometry) if table.geometry else None
    if geometry is None:
        raise InputError(
            "GeoJSON is only available for datasets with geometry; use JSON or CSV.",
            parameter="format",
        )
    properties = [c for c in columns if c.name != geometry.name]
    feature = (
        "',' || chr(10) || CAST(to_json({'type': 'Feature', "
        f"'geometry': {json_value(geometry)}, "
        f"'properties': json({json_object(properties)})}}) AS VARCHAR)"
    )
    sql, params = _select(table, query, feature)
    head = b'{"type":"FeatureCollection","features":[\n'
    lines = _json_lines(_started(connect, sql, params, time_limit), head, b",\n", b"\n]}\n")
    return Export(Format.GEOJSON.media_type, lines)


def _parquet(
    connect: Connect, table: Table, query: ExportQuery, columns: Sequence[Column], tmp_dir: Path
) -> Export:
    if query.whole:
        size = table.path.stat().st_size
        return Export(Format.PARQUET.media_type, _file_chunks(table.path, delete=False), size)
    expressions = select_list([(c.name, c.sql) for c in columns])
    sql, params = _select(table, query, expressions)
    path = _temp_path(tmp_dir, ".parquet")
    con = connect()
    try:
        con.execute(
            f"COPY ({sql}) TO {sql_string(str(path))} (FORMAT parquet, COMPRESSION zstd)", params
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return Export(Format.PARQUET.media_type, _file_chunks(path, delete=True), path.stat().st_size)


def _xlsx(
    connect: Connect,
    table: Table,
    query: ExportQuery,
    columns: Sequence[Column],
    time_limit: float,
    tmp_dir: Path,
) -> Export:
    from openpyxl import Workbook

    con = connect()
    try:
        rows = exact_count(con, table, query.where, time_limit=time_limit)
    finally:
        con.close()
    if rows is None:
        raise too_slow(time_limit, "Counting the rows for the XLSX file")
    if query.limit is not None:
        rows = min(rows, query.limit)
    if rows > XLSX_MAX_ROWS:
        raise InputError(
            f"XLSX holds at most {XLSX_MAX_ROWS:,} rows and this selection has {rows:,}. "
            "Download CSV or Parquet, or filter the rows.",
            parameter="format",
        )
    expressions = select_list([(c.name, xlsx_value(c)) for c in columns])
    sql, params = _select(table, query, expressions)
    path = _temp_path(tmp_dir, ".xlsx")
    try:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append([c.name for c in columns])
        for batch in _batches(connect, sql, params, time_limit):
            for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                sheet.append(row)
        book.save(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Export(Format.XLSX.media_type, _file_chunks(path, delete=True), path.stat().st_size)
