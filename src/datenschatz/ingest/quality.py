"""Table Schema and quality report of a written version file.

Per column the report gives nulls, the exact number of distinct values, minimum and maximum (as
DuckDB writes the value as VARCHAR). Nulls, minimum and maximum of flat columns come from the
row-group statistics of the Parquet file where these are complete and exact (the file was just
written by DuckDB, which records them); otherwise, and always for the distinct count, one
query reads the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from datenschatz.coded import code_of, codes_of
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

# Types whose row-group statistics give the same minimum and maximum as min()/max() do.
_STATS_TYPES = frozenset(
    {
        "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT",
        "UTINYINT", "DOUBLE", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE", "VARCHAR",
    }
)  # fmt: skip
_FLOATS = frozenset({"DOUBLE", "FLOAT"})
BOUNDS = ("stats_min_value", "stats_max_value")

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


def file_statistics(
    con: duckdb.DuckDBPyConnection, path: Path, columns: list[tuple[str, str]]
) -> dict[str, tuple[int, str | None, str | None]]:
    """(nulls, min, max) of flat columns, from the row-group statistics alone.

    A column is left out unless every row group has a null count and, where it has values,
    exact minimum and maximum; floating-point columns also when a bound is zero (the
    statistics may hold -0.0 where min() gives 0.0, or the other way round). A DuckDB-written
    file has no statistics for a floating-point column holding NaN, nor for very long strings.
    The bounds are cast to the column's type, compared and cast to VARCHAR in SQL, exactly as
    ``min(column)::VARCHAR`` would.
    """
    source = f"parquet_metadata({sql_string(str(path))})"
    meta = con.execute(
        "SELECT column_id, path_in_schema, row_group_num_rows, stats_null_count, stats_min_value, "
        f"stats_max_value, min_is_exact, max_is_exact FROM {source}"
    ).fetchall()
    if {int(r[0]) for r in meta} != set(range(len(columns))):
        return {}  # nested columns: leaves do not map one to one onto columns
    usable = {i: dtype in _STATS_TYPES for i, (_, dtype) in enumerate(columns)}
    for column_id, *chunk in meta:
        i = int(column_id)
        usable[i] = usable[i] and _complete(columns[i], *chunk)
    wanted = [i for i, ok in usable.items() if ok]
    if not wanted:
        return {}
    parts = []
    for i in wanted:
        dtype = columns[i][1]
        lo, hi = (f"CAST(CASE WHEN column_id = {i} THEN {b} END AS {dtype})" for b in BOUNDS)
        parts.append(
            f"sum(stats_null_count) FILTER (WHERE column_id = {i}), "
            f"min({lo})::VARCHAR, max({hi})::VARCHAR"
        )
    try:
        row = con.execute(f"SELECT {', '.join(parts)} FROM {source}").fetchone()
    except duckdb.ConversionException:  # a bound that does not read back: count instead
        return {}
    values = list(row or ())
    result: dict[str, tuple[int, str | None, str | None]] = {}
    for n, i in enumerate(wanted):
        nulls, lo, hi = values[n * 3 : n * 3 + 3]
        result[columns[i][0]] = (int(nulls or 0), lo, hi)
    return result


def _complete(
    column: tuple[str, str],
    leaf: str,
    rows: int,
    nulls: int | None,
    lo: str | None,
    hi: str | None,
    lo_exact: bool | None,
    hi_exact: bool | None,
) -> bool:
    """Whether one row group's statistics of a column can stand in for reading it."""
    name, dtype = column
    if leaf != name or nulls is None:
        return False
    if rows > nulls and (lo is None or hi is None or not (lo_exact and hi_exact)):
        return False
    return not (dtype in _FLOATS and (_is_zero(lo) or _is_zero(hi)))


def _is_zero(value: str | None) -> bool:
    try:
        return value is not None and float(value) == 0.0
    except ValueError:
        return True  # not a plain number: do not rely on it


def build_report(
    con: duckdb.DuckDBPyConnection, path: Path, staged: Staged
) -> tuple[dict[str, Any], dict[str, Any], list[float] | None]:
    """(table schema, quality report, bbox) for the version file at ``path``."""
    columns = describe(con, path)
    rows_row = con.execute(f"SELECT count(*) FROM {_source(path)}").fetchone()
    total = int(rows_row[0]) if rows_row else 0
    known = file_statistics(con, path, columns)
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
        if name in known:
            parts.append(f"NULL, count(DISTINCT {value}), NULL, NULL, NULL")
            continue
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
        if name in known:
            nulls, lo, hi = known[name]
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
            entry["message_codes"] = codes_of(note.message)  # one per sentence, if coded
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
        # Beside each warning its code and values (None where it has none), for the web UI.
        "warning_codes": [code_of(w) for w in staged.warnings],
        "errors": [],
    }
    return build_schema(columns, null_counts, staged.notes), report, bbox
