"""The locked DuckDB engine: instances per table map, running a query, JSON-ready results.

Every table map gets its own DuckDB instance (configuration is per instance, so the shared
ingest database is never used). It loads the spatial extension from the pinned wheel, creates
one view per table over ``read_parquet(<file>)`` plus an underscore alias, then allows exactly
those files (``allowed_paths``), switches off external access (no other file, no URL,
no INSTALL/LOAD, COPY, EXPORT or ATTACH even if the statement check missed one) and locks its
configuration (no SET/RESET/PRAGMA loosens anything). It has no temp directory, so nothing is
ever written; it has a memory limit and a thread count. A timer interrupts the query at the
time limit. Instances are cached per table map: building one costs about 0.3 s (mostly the
spatial extension), a cursor on it microseconds.

At most ``max_rows`` rows (and about ``max_result_bytes``) are fetched; ``truncated`` says
when the result was cut. Values are made JSON-ready: geometry as a GeoJSON object, decimals
as numbers, dates and times as ISO text, NaN and infinities as null, other types (intervals,
time zones, BLOB, nested types) as DuckDB renders them in JSON. DuckDB errors become
:class:`~datenschatz.errors.SqlError` with every dataset path scrubbed from the message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from duckdb.sqltypes import DuckDBPyType

from datenschatz.errors import SqlError, SqlForbidden, SqlMemoryLimit, SqlTimeout
from datenschatz.store.duck import spatial_extension_path, sql_ident, sql_string
from datenschatz.store.sandbox.check import (
    _check_references,
    _parse_tree,
    _references,
    _single_select,
    _system_relations,
    unknown_table,
)

log = logging.getLogger(__name__)

#: Column types whose Python values are already JSON-ready (after :func:`_plain`).
_PLAIN_TYPES = frozenset(
    {
        "boolean",
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "hugeint",
        "utinyint",
        "usmallint",
        "uinteger",
        "ubigint",
        "uhugeint",
        "float",
        "double",
        "decimal",
        "varchar",
        "date",
        "time",
        "time_ns",
        "timestamp",
        "timestamp_s",
        "timestamp_ms",
        "timestamp_ns",
        "uuid",
        "enum",
    }
)

_FETCH_BATCH = 256
_MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one query."""

    timeout_seconds: float = 5.0
    memory_limit: str = "2GB"
    threads: int = 2
    max_rows: int = 10_000
    max_result_bytes: int = 64 * 1024 * 1024
    max_query_chars: int = 100_000
    #: Queries that may run at once in this process (one worker process each).
    workers: int = 2


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type: str


@dataclass(frozen=True)
class SqlResult:
    columns: list[ResultColumn]
    rows: list[list[Any]]
    truncated: bool
    limit: int
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [{"name": c.name, "type": c.type} for c in self.columns],
            "rows": self.rows,
            "truncated": self.truncated,
            "row_count": len(self.rows),
            "limit": self.limit,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


def table_aliases(names: Iterable[str]) -> dict[str, str]:
    """Underscore aliases (``luft_bochum``) for names with hyphens, where none collides."""
    names = list(names)
    taken = {n.casefold() for n in names} | _system_relations()
    aliases: dict[str, str] = {}
    for name in names:
        alias = name.replace("-", "_")
        if alias != name and alias.casefold() not in taken:
            aliases[alias] = name
            taken.add(alias.casefold())
    return aliases


def _run_here(tables: Mapping[str, Path], q: str, limits: SandboxLimits) -> SqlResult:
    """Run the query in this process (a worker), with DuckDB's own limits."""
    instance = _instance(tables, limits)
    cursor = instance.cursor()
    timer = _Deadline(limits.timeout_seconds, cursor)
    started = time.perf_counter()
    try:
        with timer:
            statement = _single_select(cursor, q)
            instance.check(_parse_tree(cursor, statement))
            relation = cursor.sql(statement)
            columns = [
                ResultColumn(name, _type_name(t))
                for name, t in zip(relation.columns, relation.types, strict=True)
            ]
            projection, converters = _presentable(relation.types)
            if projection:
                relation = relation.project(projection)
            rows, truncated = _fetch(relation, converters, limits)
    except duckdb.Error as exc:
        raise _translate(exc, timer.fired, limits, instance) from None
    finally:
        cursor.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    return SqlResult(columns, rows, truncated, limits.max_rows, elapsed_ms)


# --- instances ------------------------------------------------------------------------------

_CACHE_SIZE = 4
_CACHE: OrderedDict[tuple[Any, ...], _Instance] = OrderedDict()
_CACHE_LOCK = threading.Lock()


class _Instance:
    """A locked DuckDB instance with one view per table; hands out cursors."""

    def __init__(self, tables: Mapping[str, Path], limits: SandboxLimits) -> None:
        self.paths = sorted({str(p) for p in tables.values()}, key=len, reverse=True)
        self.root = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "allow_community_extensions": False,
                "allow_unsigned_extensions": False,
                "enable_external_file_cache": False,
                "temp_directory": "",
                "memory_limit": limits.memory_limit,
                "threads": limits.threads,
            },
        )
        try:
            self.root.execute(f"LOAD {sql_string(str(spatial_extension_path()))}")
            names = sorted(tables)
            for name in names:
                source = f"read_parquet({sql_string(str(tables[name]))})"
                self.root.execute(f"CREATE VIEW {sql_ident(name)} AS SELECT * FROM {source}")
            aliases = table_aliases(names)
            for alias, name in aliases.items():
                self.root.execute(
                    f"CREATE VIEW {sql_ident(alias)} AS SELECT * FROM {sql_ident(name)}"
                )
            self.system = _system_relations()
            self.tables = frozenset(n.casefold() for n in [*names, *aliases])
            self.root.execute("SET allowed_paths = ?", [self.paths])
            self.root.execute("SET enable_external_access = false")
            self.root.execute("SET lock_configuration = true")
        except BaseException:
            self.root.close()
            raise

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with _CACHE_LOCK:
            return self.root.cursor()

    def check(self, tree: Any) -> None:
        _check_references(_references(tree), self.tables, self.system)

    def scrub(self, message: str) -> str:
        """``message`` without any path of a dataset file or its directories."""
        for path in self.paths:
            message = message.replace(path, "<dataset file>")
        for path in self.paths:
            for parent in Path(path).parents:
                if len(str(parent)) > 1:
                    message = message.replace(str(parent), "<dir>")
        return message


def _instance(tables: Mapping[str, Path], limits: SandboxLimits) -> _Instance:
    key = (
        tuple(sorted((name, str(path)) for name, path in tables.items())),
        limits.memory_limit,
        limits.threads,
    )
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = _Instance(tables, limits)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:  # another thread built it meanwhile
            built.root.close()
            return found
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _, old = _CACHE.popitem(last=False)
            old.root.close()  # running cursors keep the database alive until they finish
    return built


def _evict(instance: _Instance) -> None:
    with _CACHE_LOCK:
        for key, value in list(_CACHE.items()):
            if value is instance:
                del _CACHE[key]
                value.root.close()


# --- running and fetching -------------------------------------------------------------------


class _Deadline:
    """Interrupts ``cursor`` when the time limit passes."""

    def __init__(self, seconds: float, cursor: duckdb.DuckDBPyConnection) -> None:
        self.fired = False
        self._cursor = cursor
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        self._cursor.interrupt()

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()


Converter = Callable[[Any], Any]


def _type_name(kind: DuckDBPyType) -> str:
    text = str(kind)
    return "GEOMETRY" if text.startswith("GEOMETRY") else text


def _presentable(types: list[DuckDBPyType]) -> tuple[str | None, list[Converter]]:
    """A projection that makes every column JSON-ready (None if none is needed), converters."""
    expressions: list[str] = []
    converters: list[Converter] = []
    for position, kind in enumerate(types, start=1):
        ref = f"#{position}"
        if str(kind).startswith("GEOMETRY"):
            expressions.append(f"ST_AsGeoJSON({ref})")
            converters.append(_from_json)
        elif str(kind) == "JSON":
            expressions.append(ref)
            converters.append(_from_json)
        elif kind.id in _PLAIN_TYPES:
            expressions.append(ref)
            converters.append(_plain)
        else:
            expressions.append(f"to_json({ref})")
            converters.append(_from_json)
    if all(e.startswith("#") for e in expressions):
        return None, converters
    return ", ".join(expressions), converters


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _plain(float(value))
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _from_json(value: Any) -> Any:
    if value is None:
        return None
    try:
        return _finite(json.loads(value))
    except (ValueError, RecursionError):
        return str(value)


def _finite(value: Any) -> Any:
    """JSON from DuckDB may hold NaN or Infinity, which JSON cannot carry: null instead."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, list):
        return sum(_size(v) for v in value) + 2
    if isinstance(value, dict):
        return sum(len(k) + _size(v) for k, v in value.items()) + 2
    return 8


def _fetch(
    relation: duckdb.DuckDBPyRelation, converters: list[Converter], limits: SandboxLimits
) -> tuple[list[list[Any]], bool]:
    rows: list[list[Any]] = []
    budget = limits.max_result_bytes
    while len(rows) <= limits.max_rows:
        batch = relation.fetchmany(min(_FETCH_BATCH, limits.max_rows + 1 - len(rows)))
        if not batch:
            return rows, False
        for raw in batch:
            row = [convert(v) for convert, v in zip(converters, raw, strict=True)]
            budget -= _size(row)
            if budget < 0:
                return rows, True
            rows.append(row)
    return rows[: limits.max_rows], True


# --- errors ---------------------------------------------------------------------------------


def _timeout_message(limits: SandboxLimits) -> str:
    return f"The query ran longer than the time limit of {limits.timeout_seconds:g} s."


def _memory_message(limits: SandboxLimits) -> str:
    return f"The query needs more memory than the limit of {limits.memory_limit}."


def _translate(
    exc: duckdb.Error, timed_out: bool, limits: SandboxLimits, instance: _Instance
) -> SqlError:
    if isinstance(exc, duckdb.InterruptException) or timed_out:
        return SqlTimeout(_timeout_message(limits), timeout_seconds=limits.timeout_seconds)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return SqlMemoryLimit(_memory_message(limits), memory_limit=limits.memory_limit)
    if isinstance(exc, duckdb.PermissionException):
        return SqlForbidden("The query tried to reach outside the dataset tables.")
    if isinstance(exc, (duckdb.InternalException, duckdb.FatalException)):
        log.error("DuckDB failed internally on a sandboxed query: %s", instance.scrub(str(exc)))
        _evict(instance)
        return SqlError("The query failed inside the database engine.")
    message = instance.scrub(str(exc))
    if isinstance(exc, duckdb.CatalogException) and message.startswith(
        "Catalog Error: Table with name "
    ):
        name = message.removeprefix("Catalog Error: Table with name ").split(" does not exist")[0]
        return unknown_table(name)
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + " …"
    return SqlError(message)
