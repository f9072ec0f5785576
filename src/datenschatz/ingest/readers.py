"""Format detection and the registry of readers, one per source format."""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from datenschatz.errors import UnsupportedFormat
from datenschatz.ingest.model import IngestOptions, Staged

Reader = Callable[[duckdb.DuckDBPyConnection, Path, IngestOptions], Staged]

_BY_SUFFIX = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".geojson": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".zip": "zip",
    ".shz": "zip",
}


# Formats whose readers (or whose content) need DuckDB's spatial extension.
SPATIAL_FORMATS = frozenset({"geojson", "shapefile", "gpkg", "parquet", "zip"})


def detect_format(path: Path, name: str | None = None) -> str:
    """The format of a file, from its name and its first bytes."""
    shown = name or path.name
    suffix = Path(shown).suffix.lower()
    head = _head(path, 16)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04"):
        if suffix == ".xlsx":
            return "xlsx"
        return "shapefile" if _zip_has_shapefile(path) else "zip"
    fmt = _BY_SUFFIX.get(suffix)
    if fmt == "json" and _looks_like_geojson(path):
        return "geojson"
    if fmt in {None, "xlsx", "parquet", "gpkg", "zip"}:
        raise UnsupportedFormat(
            f"Unsupported or unrecognised file format ({suffix or 'no extension'}). "
            "Supported: CSV, TSV, TXT, XLSX, JSON, NDJSON, GeoJSON, zipped Shapefile, "
            "GeoPackage, Parquet, GeoParquet.",
            key="ingest.unsupported_format",
            params={"suffix": suffix or "?"},
            file=shown,
        )
    return fmt


def _head(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _zip_has_shapefile(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.lower().endswith(".shp") for n in zf.namelist())
    except zipfile.BadZipFile:
        return False


def _looks_like_geojson(path: Path) -> bool:
    head = _head(path, 65536).decode("utf-8", errors="ignore")
    return '"FeatureCollection"' in head or '"Feature"' in head


# Reader by format: (module, function); modules are imported only when their format is read,
# so a CSV ingest does not pay for openpyxl or the GDAL readers.
READERS: dict[str, tuple[str, str]] = {
    "csv": ("datenschatz.ingest.text", "read_csv"),
    "xlsx": ("datenschatz.ingest.tabular", "read_xlsx"),
    "json": ("datenschatz.ingest.tabular", "read_json"),
    "ndjson": ("datenschatz.ingest.tabular", "read_ndjson"),
    "geojson": ("datenschatz.ingest.geo", "read_geojson"),
    "shapefile": ("datenschatz.ingest.geo", "read_shapefile_zip"),
    "gpkg": ("datenschatz.ingest.geo", "read_gpkg"),
    "parquet": ("datenschatz.ingest.geo", "read_parquet"),
}


def reader_for(fmt: str) -> Reader | None:
    entry = READERS.get(fmt)
    if entry is None:
        return None
    module, function = entry
    reader: Reader = getattr(importlib.import_module(module), function)
    return reader


def read(
    con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions, fmt: str | None = None
) -> Staged:
    fmt = fmt or detect_format(path, options.display_name)
    reader = reader_for(fmt)
    if reader is None:
        raise UnsupportedFormat(
            "A zip archive must contain a Shapefile (.shp with .shx, .dbf and .prj).",
            key="ingest.zip_without_shapefile",
            file=options.display_name or path.name,
        )
    return reader(con, path, options)
