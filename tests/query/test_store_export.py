"""Exports of a version file: formats, dialects, refusals, temp files and bounded memory."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook

from datenschatz.errors import InputError
from datenschatz.store import duck
from datenschatz.store.query import (
    Dialect,
    ExportQuery,
    Filter,
    Format,
    Op,
    SortKey,
    Table,
    Where,
    export,
)
from datenschatz.store.query import exports as export_module
from tests.query.builders import write_table

DATA_SQL = r"""
SELECT * FROM (VALUES
    (1, 'Herne, Mitte', 1.5::DOUBLE, TIMESTAMP '2024-05-01 10:00:00',
     TIMESTAMPTZ '2024-05-01 10:00:00+02', DATE '2024-05-01', true, 12.30::DECIMAL(10,2),
     ST_SetCRS(ST_Point(7.2, 51.5), 'EPSG:4326')),
    (2, 'Sagt "Hallo"' || chr(10) || 'zweite Zeile', 'nan'::DOUBLE, NULL, NULL, NULL, false,
     NULL, ST_SetCRS(ST_Point(7.3, 51.6), 'EPSG:4326')),
    (3, NULL, 'inf'::DOUBLE, TIMESTAMP '2024-05-02 00:00:00.250', NULL, DATE '2024-05-02',
     NULL, -0.5::DECIMAL(10,2), NULL)
) AS t(id, ort, wert, zeit, zeit_utc, tag, aktiv, preis, geometry)
"""


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    return write_table(tmp_path_factory.mktemp("export"), DATA_SQL)


def content(table: Table, fmt: Format, tmp_path: Path, query: ExportQuery | None = None) -> bytes:
    result = export(
        duck.cursor, table, query or ExportQuery(), fmt, time_limit=10, tmp_dir=tmp_path
    )
    assert result.media_type == fmt.media_type
    return b"".join(result.chunks)


def test_csv_is_utf8_with_a_header_and_quoting(table: Table, tmp_path: Path) -> None:
    text = content(table, Format.CSV, tmp_path).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "ort", "wert", "zeit", "zeit_utc", "tag", "aktiv", "preis", "geometry"]
    assert rows[1] == [
        "1",
        "Herne, Mitte",
        "1.5",
        "2024-05-01 10:00:00",
        "2024-05-01 08:00:00Z",
        "2024-05-01",
        "true",
        "12.30",
        "POINT (7.2 51.5)",
    ]
    assert rows[2][1] == 'Sagt "Hallo"\nzweite Zeile'
    assert rows[3][1] == ""
    assert rows[3][3] == "2024-05-02 00:00:00.25"
    assert len(rows) == 4


def test_csv_for_german_excel_has_bom_semicolons_and_decimal_commas(
    table: Table, tmp_path: Path
) -> None:
    raw = content(table, Format.CSV, tmp_path, ExportQuery(dialect=Dialect.EXCEL_DE))
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0][:3] == ["id", "ort", "wert"]
    assert rows[1][:3] == ["1", "Herne, Mitte", "1,5"]
    assert rows[1][7] == "12,30"
    assert rows[3][7] == "-0,50"


def test_json_is_one_array_of_objects_with_nan_as_null(table: Table, tmp_path: Path) -> None:
    data = json.loads(content(table, Format.JSON, tmp_path))
    assert [r["id"] for r in data] == [1, 2, 3]
    assert data[0] == {
        "id": 1,
        "ort": "Herne, Mitte",
        "wert": 1.5,
        "zeit": "2024-05-01T10:00:00",
        "zeit_utc": "2024-05-01T08:00:00Z",
        "tag": "2024-05-01",
        "aktiv": True,
        "preis": 12.3,
        "geometry": {"type": "Point", "coordinates": [7.2, 51.5]},
    }
    assert data[1]["wert"] is None
    assert data[2]["wert"] is None
    assert data[2]["geometry"] is None


def test_json_of_an_empty_selection_is_an_empty_array(table: Table, tmp_path: Path) -> None:
    query = ExportQuery(where=Where(filters=(Filter("id", Op.GT, 99),)))
    assert json.loads(content(table, Format.JSON, tmp_path, query)) == []
    assert content(table, Format.NDJSON, tmp_path, query) == b""


def test_ndjson_has_one_object_per_line_honouring_fields_sort_and_limit(
    table: Table, tmp_path: Path
) -> None:
    query = ExportQuery(fields=("id", "ort"), sort=(SortKey("id", descending=True),), limit=2)
    lines = content(table, Format.NDJSON, tmp_path, query).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 3, "ort": None},
        {"id": 2, "ort": 'Sagt "Hallo"\nzweite Zeile'},
    ]


def test_geojson_is_a_feature_collection(table: Table, tmp_path: Path) -> None:
    data = json.loads(content(table, Format.GEOJSON, tmp_path))
    assert data["type"] == "FeatureCollection"
    first = data["features"][0]
    assert first["type"] == "Feature"
    assert first["geometry"] == {"type": "Point", "coordinates": [7.2, 51.5]}
    assert first["properties"]["ort"] == "Herne, Mitte"
    assert "geometry" not in first["properties"]
    assert data["features"][2]["geometry"] is None


def test_geojson_without_geometry_is_refused(tmp_path: Path) -> None:
    plain = write_table(tmp_path, "SELECT 1 AS a")
    with pytest.raises(InputError) as info:
        export(duck.cursor, plain, ExportQuery(), Format.GEOJSON, time_limit=1, tmp_dir=tmp_path)
    assert info.value.details["parameter"] == "format"


def test_whole_parquet_download_is_the_version_file(table: Table, tmp_path: Path) -> None:
    result = export(
        duck.cursor, table, ExportQuery(), Format.PARQUET, time_limit=1, tmp_dir=tmp_path
    )
    assert result.size == table.path.stat().st_size
    assert b"".join(result.chunks) == table.path.read_bytes()


def test_filtered_parquet_keeps_types_and_geometry(table: Table, tmp_path: Path) -> None:
    query = ExportQuery(where=Where(filters=(Filter("aktiv", Op.ISNULL, False),)))
    exports = tmp_path / "exports"
    result = export(duck.cursor, table, query, Format.PARQUET, time_limit=1, tmp_dir=exports)
    target = tmp_path / "out.parquet"
    target.write_bytes(b"".join(result.chunks))
    assert list(exports.iterdir()) == []  # the temporary file is gone
    con = duck.cursor()
    try:
        source = f"read_parquet({duck.sql_string(str(target))})"
        types = dict(
            con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()[i][:2] for i in range(9)
        )
        rows = con.execute(f"SELECT id, ST_AsText(geometry) FROM {source}").fetchall()
    finally:
        con.close()
    assert types["geometry"].startswith("GEOMETRY")
    assert types["preis"] == "DECIMAL(10,2)"
    assert rows == [(1, "POINT (7.2 51.5)"), (2, "POINT (7.3 51.6)")]


def test_xlsx_has_a_header_row_and_typed_cells(table: Table, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = export(duck.cursor, table, ExportQuery(), Format.XLSX, time_limit=10, tmp_dir=exports)
    book_path = tmp_path / "out.xlsx"
    book_path.write_bytes(b"".join(result.chunks))
    assert list(exports.iterdir()) == []
    workbook = load_workbook(book_path, read_only=True)
    try:
        sheet = workbook["data"]
        rows: list[tuple[Any, ...]] = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    assert rows[0] == ("id", "ort", "wert", "zeit", "zeit_utc", "tag", "aktiv", "preis", "geometry")
    assert rows[1][0] == 1
    assert rows[1][2] == 1.5
    assert rows[1][3].isoformat() == "2024-05-01T10:00:00"
    assert rows[1][4].isoformat() == "2024-05-01T08:00:00"
    assert rows[1][7] == pytest.approx(12.3)
    assert rows[1][8] == "POINT (7.2 51.5)"
    assert rows[2][2] is None  # NaN has no cell value in Excel
    assert len(rows) == 4


def test_xlsx_over_the_row_limit_is_refused_before_writing(
    table: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "XLSX_MAX_ROWS", 2)
    exports = tmp_path / "exports"
    with pytest.raises(InputError) as info:
        export(duck.cursor, table, ExportQuery(), Format.XLSX, time_limit=10, tmp_dir=exports)
    assert info.value.details["parameter"] == "format"
    assert "2 rows" in info.value.message
    assert not exports.exists() or list(exports.iterdir()) == []
    # a selection within the limit is fine
    small = ExportQuery(where=Where(filters=(Filter("id", Op.LTE, 2),)))
    result = export(duck.cursor, table, small, Format.XLSX, time_limit=10, tmp_dir=exports)
    assert b"".join(result.chunks).startswith(b"PK")


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident set size of this process while the block runs."""

    def __init__(self) -> None:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def test_csv_of_two_million_rows_streams_with_bounded_memory(tmp_path: Path) -> None:
    table = write_table(
        tmp_path,
        "SELECT range AS a, range % 1000 AS b, (range * 7) % 100000 AS c, range % 7 AS d "
        "FROM range(2000000)",
    )
    warm = export(
        duck.cursor, table, ExportQuery(limit=10), Format.CSV, time_limit=10, tmp_dir=tmp_path
    )
    assert b"".join(warm.chunks).count(b"\n") == 11
    total = 0
    lines = 0
    with PeakRss() as memory:
        result = export(
            duck.cursor, table, ExportQuery(), Format.CSV, time_limit=10, tmp_dir=tmp_path
        )
        for chunk in result.chunks:
            total += len(chunk)
            lines += chunk.count(b"\n")
    assert lines == 2_000_001
    assert total > 30_000_000
    # Holding the export (or the dataset) would grow memory by at least its size; streaming
    # keeps the growth to a few batches and chunks.
    assert memory.growth < total * 0.5, (memory.growth, total)


def test_slow_first_batch_is_an_error_before_the_download_starts(tmp_path: Path) -> None:
    class Endless(Table):
        @property
        def source(self) -> str:
            return "(SELECT range AS n FROM range(100000000000) WHERE md5(range::VARCHAR) = 'x')"

    endless = Endless(tmp_path / "none", "e", 1, write_table(tmp_path, "SELECT 1 AS n").columns)
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        export(duck.cursor, endless, ExportQuery(), Format.NDJSON, time_limit=0.2, tmp_dir=tmp_path)
    assert time.perf_counter() - started < 5
    assert info.value.code == "query_timeout"


def test_connection_is_closed_when_the_stream_ends_or_is_dropped(
    table: Table, tmp_path: Path
) -> None:
    opened: list[duckdb.DuckDBPyConnection] = []

    def connect() -> duckdb.DuckDBPyConnection:
        opened.append(duck.cursor())
        return opened[-1]

    result = export(connect, table, ExportQuery(), Format.CSV, time_limit=1, tmp_dir=tmp_path)
    assert len(opened) == 1
    assert b"".join(result.chunks).endswith(b"-0.50,\n")
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1")

    dropped = export(connect, table, ExportQuery(), Format.JSON, time_limit=1, tmp_dir=tmp_path)
    del dropped  # a client that went away before reading
    gc.collect()
    with pytest.raises(duckdb.ConnectionException):
        opened[1].execute("SELECT 1")
