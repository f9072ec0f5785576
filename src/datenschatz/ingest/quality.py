"""Table Schema and quality report of a written version file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from datenschatz.ingest.model import ColumnNote, Staged
from datenschatz.store.duck import sql_ident, sql_string

_TABLE_SCHEMA_TYPES = {
    "BIGINT": "integer",
    "INTEGER": "integer",
    "SMALLINT": "integer",
    "TINYINT": "integer",
    "HUGEINT": "integer",
    "UBIGINT": "integer",
    "UINTEGER": "integer",
    "DOUBLE": "number",
    "FLOAT": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "datetime",
    "TIMESTAMP WITH TIME ZONE": "datetime",
    "TIMESTAMP_NS": "datetime",
    "TIMESTAMP_MS": "datetime",
    "TIMESTAMP_S": "datetime",
    "VARCHAR": "string",
    "JSON": "object",
    "BLOB": "string",
}

_UNIT_IN_NAME = re.compile(r"^(?P<label>.+?)\s*[\[(](?P<unit>[^\])]{1,20})[\])]\s*$")


def table_schema_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("GEOMETRY"):
        return "geojson"
    if duckdb_type.startswith("DECIMAL"):
        return "number"
    if duckdb_type.endswith("[]"):
        return "array"
    if duckdb_type.startswith(("STRUCT", "MAP")):
        return "object"
    return _TABLE_SCHEMA_TYPES.get(duckdb_type, "any")


def unit_from_name(name: str) -> str | None:
    """'Leistung [kW]' -> 'kW'; 'PM10 (µg/m³)' -> 'µg/m³'."""
    match = _UNIT_IN_NAME.match(name)
    return match.group("unit").strip() if match else None


def _source(path: Path) -> str:
    return f"read_parquet({sql_string(str(path))})"


def describe(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def build_schema(
    columns: list[tuple[str, str]], null_counts: dict[str, int], notes: dict[str, ColumnNote]
) -> dict[str, Any]:
    fields = []
    for name, dtype in columns:
        note = notes.get(name)
        field: dict[str, Any] = {
            "name": name,
            "type": table_schema_type(dtype),
            "duckdb_type": dtype,
            "nullable": null_counts.get(name, 0) > 0,
        }
        unit = (note.unit if note else None) or unit_from_name(name)
        if unit:
            field["unit"] = unit
        if note and note.source_name and note.source_name != name:
            field["source_name"] = note.source_name
        if table_schema_type(dtype) == "geojson":
            field["crs"] = "EPSG:4326"
        fields.append(field)
    return {"fields": fields}


def _text(value: Any, limit: int = 60) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_report(
    con: duckdb.DuckDBPyConnection, path: Path, staged: Staged
) -> tuple[dict[str, Any], dict[str, Any], list[float] | None]:
    """(table schema, quality report, bbox) for the version file at ``path``."""
    columns = describe(con, path)
    rows_row = con.execute(f"SELECT count(*) FROM {_source(path)}").fetchone()
    total = int(rows_row[0]) if rows_row else 0
    parts = []
    for name, dtype in columns:
        col = sql_ident(name)
        if dtype.startswith("GEOMETRY"):
            parts.append(
                f"count(*) - count({col}), NULL, NULL, NULL, "
                f"list_sort(list_distinct(list(ST_GeometryType({col})::VARCHAR)))::VARCHAR"
            )
            continue
        comparable = not (dtype.startswith(("STRUCT", "MAP", "JSON")) or dtype.endswith("[]"))
        value = col if comparable else f"{col}::VARCHAR"
        parts.append(
            f"count(*) - count({col}), count(DISTINCT {value}), "
            f"min({value})::VARCHAR, max({value})::VARCHAR, NULL"
        )
    stats_row = (
        con.execute(f"SELECT {', '.join(parts)} FROM {_source(path)}").fetchone() if parts else ()
    ) or ()
    report_columns = []
    null_counts: dict[str, int] = {}
    for i, (name, dtype) in enumerate(columns):
        nulls, distinct, lo, hi, geom_types = stats_row[i * 5 : i * 5 + 5]
        null_counts[name] = int(nulls)
        note = staged.notes.get(name, ColumnNote())
        entry: dict[str, Any] = {
            "name": name,
            "type": table_schema_type(dtype),
            "duckdb_type": dtype,
            "null_share": round(int(nulls) / total, 6) if total else 0.0,
            "null_count": int(nulls),
        }
        if geom_types is not None:
            entry["geometry_types"] = geom_types
        else:
            entry.update(distinct_count=int(distinct), min=_text(lo), max=_text(hi))
        if note.null_markers:
            entry["null_markers"] = dict(note.null_markers)
        if note.rejected_count:
            entry["rejected_count"] = note.rejected_count
            entry["rejected_examples"] = [
                {"line": r.line, "value": _text(r.value, 40)} for r in note.rejected
            ]
        if note.inferred_from:
            entry["inferred_from"] = note.inferred_from
        if note.message:
            entry["message"] = note.message
        if note.source_name and note.source_name != name:
            entry["source_name"] = note.source_name
        report_columns.append(entry)
    bbox = None
    geometry = staged.geometry_column or next(
        (name for name, dtype in columns if dtype.startswith("GEOMETRY")), None
    )
    staged.geometry_column = geometry
    if geometry:
        geom = sql_ident(geometry)
        row = con.execute(
            f"SELECT min(ST_XMin({geom})), min(ST_YMin({geom})), max(ST_XMax({geom})), "
            f"max(ST_YMax({geom})) FROM {_source(path)}"
        ).fetchone()
        if row and row[0] is not None:
            bbox = [round(float(v), 7) for v in row]
    report = {
        "rows": total,
        "columns": report_columns,
        "format": staged.format,
        "details": staged.details,
        "warnings": list(staged.warnings),
        "errors": [],
    }
    return build_schema(columns, null_counts, staged.notes), report, bbox
