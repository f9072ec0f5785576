"""The detectors of the privacy gate: scan a version file or any file for personal data.

Value detectors live in :mod:`datenschatz.privacy.detect_values`, column-name rules in
:mod:`datenschatz.privacy.detect_names`; this module runs them over a whole table and turns
"plausible birth dates" into a finding only in tables that hold other personal data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from datenschatz.hub import Hub
from datenschatz.ingest.quality import describe, table_schema_type
from datenschatz.privacy.detect_values import (
    Hit,
    TableScan,
    load_names,
    parquet_source,
    scan,
    scan_name_column,
)
from datenschatz.store.duck import sql_string

__all__ = ["Hit", "TableScan", "names_for", "scan_file", "scan_parquet"]


def names_for(hub: Hub) -> frozenset[str]:
    """The person-name deny-list the hub is configured with."""
    return load_names(hub.settings.privacy_names_file)


def scan_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, names: frozenset[str] | None = None
) -> TableScan:
    """Scan a Parquet file (a version) for personal data."""
    columns = [(n, t, table_schema_type(t)) for n, t in describe(con, path)]
    source = parquet_source(path, [c[0] for c in columns])
    table = scan(con, source, columns, names=names)
    scan_name_column(con, source, columns, table, names)
    personal = table.personal
    for column in table.columns:
        birth = column.hits.pop("plausible_birth_date", None)
        if birth is not None and personal:
            column.hits["date_of_birth"] = Hit("date_of_birth", birth.count, birth.rows)
    return table


def scan_file(hub: Hub, path: Path) -> TableScan:
    """Scan any file the ingest reads (CSV, XLSX, GeoJSON, ...) without storing a version."""
    from datenschatz.ingest import readers
    from datenschatz.ingest.model import IngestOptions

    options = IngestOptions(
        display_name=path.name,
        max_unpacked_bytes=hub.settings.max_unpacked_bytes,
        max_compression_ratio=hub.settings.max_compression_ratio,
    )
    fmt = readers.detect_format(path, path.name)
    con = hub.duckdb(spatial=fmt in readers.SPATIAL_FORMATS)
    staged = None
    try:
        staged = readers.read(con, path, options, fmt)
        hub.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="privacy-scan-", dir=hub.settings.tmp_dir) as tmp:
            out = Path(tmp) / "scan.parquet"
            con.execute(f"COPY ({staged.select_sql}) TO {sql_string(str(out))} (FORMAT parquet)")
            return scan_parquet(con, out, names_for(hub))
    finally:
        con.close()
        for leftover in staged.cleanup if staged else []:
            leftover.unlink(missing_ok=True)
