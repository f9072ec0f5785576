"""How column values are written out, as SQL expressions that DuckDB evaluates.

Formatting in SQL keeps per-row Python work out of every output path: JSON rows come out of
DuckDB as finished JSON text, CSV columns as Arrow arrays that the Arrow CSV writer writes.

JSON: numbers as numbers (NaN and infinities as null), timestamps as ISO 8601 with ``T``
(``timestamptz`` in UTC with ``Z``), dates ``YYYY-MM-DD``, geometry as a GeoJSON object,
binary as base64, lists and structs as JSON arrays and objects.
CSV: the same, except timestamps with a space (``2024-05-01 10:00:00``, which spreadsheets
read), geometry as WKT, lists and structs as JSON text; ``excel-de`` writes a decimal comma.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from datenschatz.store.duck import sql_ident, sql_string
from datenschatz.store.query.table import Column, Kind

EXCEL_CELL_LIMIT = 32_767  # characters in one XLSX cell


class Dialect(enum.StrEnum):
    """CSV flavours."""

    DEFAULT = "default"  # RFC 4180: comma, decimal point, UTF-8 without BOM
    EXCEL_DE = "excel-de"  # German Excel: semicolon, decimal comma, UTF-8 with BOM


def _nested(column: Column) -> bool:
    t = column.duckdb_type.upper()
    return t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION"))


def _utc_text(col: str, separator: str) -> str:
    return f"replace(CAST(timezone('UTC', {col}) AS VARCHAR), ' ', {sql_string(separator)}) || 'Z'"


def json_value(column: Column, expr: str | None = None) -> str:
    """An expression whose ``to_json`` is the column's JSON value."""
    col = expr or column.sql
    kind = column.kind
    upper = column.duckdb_type.upper()
    if kind is Kind.NUMBER:
        if upper.startswith("DECIMAL"):
            return col
        if upper in ("FLOAT", "REAL"):
            # FLOAT -> VARCHAR -> DOUBLE prints 0.1 instead of 0.10000000149011612
            return f"CASE WHEN isfinite({col}) THEN CAST(CAST({col} AS VARCHAR) AS DOUBLE) END"
        return f"CASE WHEN isfinite({col}) THEN {col} END"
    if kind is Kind.TIMESTAMP:
        return f"replace(CAST({col} AS VARCHAR), ' ', 'T')"
    if kind is Kind.TIMESTAMPTZ:
        return _utc_text(col, "T")
    if kind is Kind.GEOMETRY:
        return f"CAST(ST_AsGeoJSON({col}) AS JSON)"
    if upper == "BLOB":
        return f"base64({col})"
    return col


def json_object(columns: Sequence[Column]) -> str:
    """A VARCHAR expression: the JSON object of ``columns`` for one row."""
    if not columns:
        return "'{}'"
    members = ", ".join(f"{sql_string(c.name)}: {json_value(c)}" for c in columns)
    return f"CAST(to_json({{{members}}}) AS VARCHAR)"


def csv_value(column: Column, dialect: Dialect = Dialect.DEFAULT) -> str:
    """An expression the Arrow CSV writer writes as the column's CSV cell."""
    col = column.sql
    kind = column.kind
    upper = column.duckdb_type.upper()
    if kind is Kind.NUMBER:
        if dialect is Dialect.EXCEL_DE:
            return f"replace(CAST({col} AS VARCHAR), '.', ',')"
        return col
    if kind in (Kind.TIMESTAMP, Kind.TIME):
        return f"CAST({col} AS VARCHAR)"
    if kind is Kind.TIMESTAMPTZ:
        return _utc_text(col, " ")
    if kind is Kind.GEOMETRY:
        return f"ST_AsText({col})"
    if kind is Kind.OTHER:
        if upper == "BLOB":
            return f"base64({col})"
        if _nested(column):
            return f"CAST(to_json({col}) AS VARCHAR)"
        return f"CAST({col} AS VARCHAR)"
    return col


def xlsx_value(column: Column) -> str:
    """An expression whose Python value openpyxl writes as a sensible cell."""
    col = column.sql
    kind = column.kind
    upper = column.duckdb_type.upper()
    if kind is Kind.NUMBER:
        return f"CASE WHEN isfinite({col}) THEN CAST({col} AS DOUBLE) END"
    if kind is Kind.INTEGER and upper in ("HUGEINT", "UHUGEINT", "UBIGINT"):
        return f"CAST({col} AS DOUBLE)"
    if kind is Kind.TIMESTAMP:
        return f"CAST({col} AS TIMESTAMP)"
    if kind is Kind.TIMESTAMPTZ:
        return f"timezone('UTC', {col})"  # Excel has no time zones: UTC wall time
    if kind in (Kind.INTEGER, Kind.BOOLEAN, Kind.DATE, Kind.TIME):
        return col
    if kind is Kind.GEOMETRY:
        text = f"ST_AsText({col})"
    elif kind is Kind.TEXT:
        text = col
    else:
        text = csv_value(column)
    # XML 1.0 forbids most control characters; Excel cuts cells at 32,767 characters.
    cleaned = f"regexp_replace({text}, '[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]', '', 'g')"
    return f"left({cleaned}, {EXCEL_CELL_LIMIT})"


def select_list(expressions: Sequence[tuple[str, str]]) -> str:
    """``expr AS "name", ...`` for (name, expression) pairs."""
    return ", ".join(f"{expr} AS {sql_ident(name)}" for name, expr in expressions)
