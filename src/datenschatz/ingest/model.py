"""What every reader hands to the pipeline.

A reader parses one source file into DuckDB on the given connection and returns a
:class:`Staged`: a SELECT that yields the final, typed columns (geometry, if any, as a
GEOMETRY in EPSG:4326 named ``geometry``), plus what it learned on the way (rejected values
with line numbers, the source CRS, notes). The pipeline writes the SELECT as the version's
Parquet file and builds the quality report from the file and from these findings.

Readers raise :class:`datenschatz.errors.IngestError` (or a subclass) for bad input, naming
file, line, column or feature in the error's details. They never touch the catalog or store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_EXAMPLES = 5


@dataclass
class Rejected:
    """A value that did not fit the column's type (kept as null, or the column kept as text)."""

    line: int  # 1-based line in the source file (or row number for XLSX/JSON, feature index)
    value: str


@dataclass
class ColumnNote:
    """Per-column findings of a reader, merged into the quality report."""

    source_name: str | None = None  # name in the source, when it had to be changed
    null_markers: dict[str, int] = field(default_factory=dict)  # "N/A" -> count
    rejected: list[Rejected] = field(default_factory=list)  # examples, at most MAX_EXAMPLES
    rejected_count: int = 0
    inferred_from: str | None = None  # e.g. "german_decimal", "german_date"
    unit: str | None = None
    message: str | None = None  # a sentence for the report, e.g. "kept as text because ..."


@dataclass
class IngestOptions:
    """What the caller may say about a file."""

    crs: str | None = None  # "EPSG:25832", overrides what the file says
    sheet: str | None = None  # XLSX sheet name
    make_valid: bool = False  # repair invalid geometries instead of refusing them
    display_name: str | None = None  # name to use in messages (upload's original name)
    max_unpacked_bytes: int = 8 * 1024**3
    max_compression_ratio: int = 200


@dataclass
class Staged:
    """A parsed source, ready to be written."""

    select_sql: str  # SELECT over objects on the reader's connection, final typed columns
    format: str  # "csv", "xlsx", "json", "ndjson", "geojson", "shapefile", "gpkg", "parquet", ...
    notes: dict[str, ColumnNote] = field(default_factory=dict)  # by final column name
    geometry_column: str | None = None
    source_crs: str | None = None  # e.g. "EPSG:25832"; None for non-spatial data
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # format facts: encoding, delimiter...
    cleanup: list[Path] = field(default_factory=list)  # temp files to delete after writing
    # For an optimistic reading, whose SELECT raises where the data defies its guess: returns
    # the careful reading of the same source (same cleanup), which the pipeline writes instead.
    retry: Callable[[], Staged] | None = None
