"""What the query layer knows about one version file: its path, identity and typed columns.

Built from the catalog's Table Schema (each field carries its ``duckdb_type``), so that
parameters can be checked and converted without opening the file.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datenschatz.store.duck import sql_ident, sql_string

# DuckDB exposes the position of a row in its Parquet file as a virtual column. The file is
# immutable, so it is a stable row id; filters on it skip whole row groups.
ROW_ID = "file_row_number"


class Kind(enum.StrEnum):
    """How the query layer treats a column (filters, sorting, rendering, aggregates)."""

    INTEGER = "integer"
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIMESTAMPTZ = "timestamptz"
    TIME = "time"
    GEOMETRY = "geometry"
    OTHER = "other"

    @property
    def numeric(self) -> bool:
        return self in (Kind.INTEGER, Kind.NUMBER)

    @property
    def temporal(self) -> bool:
        return self in (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMPTZ, Kind.TIME)

    @property
    def orderable(self) -> bool:
        """Values can be compared with <, > and sorted."""
        return self not in (Kind.GEOMETRY, Kind.OTHER)


_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
_SIMPLE_KINDS = {
    "DOUBLE": Kind.NUMBER,
    "FLOAT": Kind.NUMBER,
    "REAL": Kind.NUMBER,
    "VARCHAR": Kind.TEXT,
    "BOOLEAN": Kind.BOOLEAN,
    "DATE": Kind.DATE,
    "TIMESTAMP": Kind.TIMESTAMP,
    "TIMESTAMP_S": Kind.TIMESTAMP,
    "TIMESTAMP_MS": Kind.TIMESTAMP,
    "TIMESTAMP_NS": Kind.TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": Kind.TIMESTAMPTZ,
    "TIME": Kind.TIME,
}


def kind_of(duckdb_type: str) -> Kind:
    """The kind of a DuckDB type name as DESCRIBE prints it."""
    name = duckdb_type.strip().upper()
    if name in _INTEGER_TYPES:
        return Kind.INTEGER
    if name.startswith("DECIMAL"):
        return Kind.NUMBER
    if name.startswith("GEOMETRY"):
        return Kind.GEOMETRY
    return _SIMPLE_KINDS.get(name, Kind.OTHER)


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    nullable: bool = True
    kind: Kind = field(init=False)
    # The catalog's Table Schema entry (type, unit, ...), shown to clients as is.
    schema: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", kind_of(self.duckdb_type))

    @property
    def sql(self) -> str:
        return sql_ident(self.name)


@dataclass(frozen=True)
class Table:
    """One immutable version file and its columns."""

    path: Path
    sha256: str
    row_count: int
    columns: tuple[Column, ...]
    geometry: str | None = None
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @classmethod
    def from_schema(
        cls,
        path: Path,
        *,
        sha256: str,
        row_count: int,
        table_schema: Mapping[str, Any],
        geometry_column: str | None = None,
    ) -> Table:
        fields: Sequence[Mapping[str, Any]] = table_schema.get("fields") or []
        columns = tuple(
            Column(
                name=str(f["name"]),
                duckdb_type=str(f.get("duckdb_type") or "VARCHAR"),
                nullable=bool(f.get("nullable", True)),
                schema=dict(f),
            )
            for f in fields
        )
        geometry = geometry_column
        if geometry is None:
            geometry = next((c.name for c in columns if c.kind is Kind.GEOMETRY), None)
        return cls(path, sha256, row_count, columns, geometry)

    def column(self, name: str) -> Column | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def text_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind is Kind.TEXT]

    @property
    def has_row_id(self) -> bool:
        """False when a real column shadows DuckDB's virtual row number."""
        return all(c.name.lower() != ROW_ID for c in self.columns)

    @property
    def source(self) -> str:
        """The FROM item reading the version file."""
        return f"read_parquet({sql_string(str(self.path))})"
