"""Row filters (column operators, full text, bbox) and the WHERE clause they make.

Values arrive already converted to the column's Python type (see ``store.params``); they go
into SQL only as bound parameters, column names only as identifiers from the version schema.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from datenschatz.store.query.table import Table


class Op(enum.StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    IN = "in"
    CONTAINS = "contains"
    STARTSWITH = "startswith"
    ISNULL = "isnull"


_COMPARISONS = {Op.EQ: "=", Op.NE: "<>", Op.LT: "<", Op.LTE: "<=", Op.GT: ">", Op.GTE: ">="}


@dataclass(frozen=True)
class Filter:
    column: str
    op: Op
    value: Any  # a typed value; a tuple for IN; a bool for ISNULL; a str for text operators


@dataclass(frozen=True)
class BBox:
    minx: float
    miny: float
    maxx: float
    maxy: float


@dataclass(frozen=True)
class Where:
    """Everything that selects rows; the same for rows, aggregates and downloads."""

    filters: tuple[Filter, ...] = ()
    terms: tuple[str, ...] = ()  # full-text terms of q=, each must match some text column
    bbox: BBox | None = None
    _canonical: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_canonical", _canonical(self))

    @property
    def empty(self) -> bool:
        return not (self.filters or self.terms or self.bbox)

    @property
    def canonical(self) -> str:
        """A stable text for hashing: equal for equal selections, whatever the order."""
        return self._canonical


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return f"{type(value).__name__}:{value!s}"


def _canonical(where: Where) -> str:
    filters = sorted(
        json.dumps([f.column, f.op.value, _jsonable(f.value)], sort_keys=True)
        for f in where.filters
    )
    bbox = None
    if where.bbox:
        bbox = [where.bbox.minx, where.bbox.miny, where.bbox.maxx, where.bbox.maxy]
    return json.dumps({"f": filters, "q": sorted(where.terms), "b": bbox})


def _filter_sql(table: Table, flt: Filter, params: list[Any]) -> str:
    column = table.column(flt.column)
    assert column is not None, "filters are checked against the schema when parsed"
    col = column.sql
    if flt.op is Op.ISNULL:
        return f"{col} IS NULL" if flt.value else f"{col} IS NOT NULL"
    if flt.op in (Op.CONTAINS, Op.STARTSWITH):
        # Case-insensitive; contains() on lower() is faster in DuckDB than ILIKE '%...%'.
        params.append(str(flt.value))
        function = "contains" if flt.op is Op.CONTAINS else "starts_with"
        return f"{function}(lower({col}), lower(?))"
    if flt.op is Op.IN:
        values = tuple(flt.value)
        params.extend(values)
        return f"{col} IN ({', '.join('?' for _ in values)})"
    params.append(flt.value)
    if flt.op is Op.NE:
        # "not equal" keeps rows where the column is empty, as users expect.
        return f"({col} <> ? OR {col} IS NULL)"
    return f"{col} {_COMPARISONS[flt.op]} ?"


def where_parts(table: Table, where: Where) -> tuple[list[str], list[Any]]:
    """The conjuncts of the WHERE clause and their parameters, in order."""
    parts: list[str] = []
    params: list[Any] = []
    for flt in where.filters:
        parts.append(_filter_sql(table, flt, params))
    text = table.text_columns
    for term in where.terms:
        parts.append("(" + " OR ".join(f"contains(lower({c.sql}), lower(?))" for c in text) + ")")
        params.extend(term for _ in text)
    if where.bbox is not None and table.geometry is not None:
        geometry = table.column(table.geometry)
        assert geometry is not None
        b = where.bbox
        parts.append(f"ST_Intersects({geometry.sql}, ST_MakeEnvelope(?, ?, ?, ?))")
        params.extend([b.minx, b.miny, b.maxx, b.maxy])
    return parts, params


def where_sql(table: Table, where: Where, *extra: str) -> tuple[str, list[Any]]:
    """``WHERE ...`` (or an empty string) plus parameters; ``extra`` conjuncts come last."""
    parts, params = where_parts(table, where)
    parts.extend(extra)
    return ("WHERE " + " AND ".join(parts) if parts else ""), params
