"""Format detection and the registry of readers, one per source format."""

from __future__ import annotations

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


def registry() -> dict[str, Reader]:
    """Readers by format name; imported lazily so a broken optional reader names itself."""
    from datenschatz.ingest import geo, tabular, text

    return {
        "csv": text.read_csv,
        "xlsx": tabular.read_xlsx,
        "json": tabular.read_json,
        "ndjson": tabular.read_ndjson,
        "geojson": geo.read_geojson,
        "shapefile": geo.read_shapefile_zip,
        "gpkg": geo.read_gpkg,
        "parquet": geo.read_parquet,
    }


def read(
    con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions, fmt: str | None = None
) -> Staged:
    fmt = fmt or detect_format(path, options.display_name)
    reader = registry().get(fmt)
    if reader is None:
        raise UnsupportedFormat(
            "A zip archive must contain a Shapefile (.shp with .shx, .dbf and .prj).",
            file=options.display_name or path.name,
        )
    return reader(con, path, options)
