"""A locked-down DuckDB for one read-only SQL statement over named Parquet files.

:func:`run_query` takes a map of table names to Parquet files and the caller's SQL. It knows
nothing of access rules or HTTP: the caller decides which files a user may see.

Three walls keep a query inside those files and its limits.

**The statement.** Before anything runs, the text must parse into exactly one SELECT. Its
parse tree (``json_serialize_sql``) is walked and refused when it

- names a table other than the dataset tables and the query's own CTEs, or a system table
  (``duckdb_views``, ``sqlite_master``, ``information_schema.*``, ``pg_catalog.*``, ...), or
  a table qualified with a catalog or a schema other than ``main``;
- calls a table function other than :data:`ALLOWED_TABLE_FUNCTIONS` (so no ``read_csv``,
  ``read_parquet``, ``read_text``, ``read_blob``, ``glob``, ``query``, ``duckdb_settings``,
  ``parquet_metadata``, ``sniff_csv``, ``pragma_*``, ``ST_Read`` ...);
- calls a function of :data:`FORBIDDEN_FUNCTIONS` (settings, view definitions, sleeping,
  writing to the log);
- uses SHOW other than ``SHOW TABLES``, ``DESCRIBE`` and ``SUMMARIZE``.

Allowed: any SELECT, CTE (recursive too), join, window, aggregate, scalar function,
``DESCRIBE``/``SUMMARIZE``/``SHOW TABLES``, ``range``/``generate_series``/``unnest``/
``json_each``/``json_tree``, the spatial functions, and harmless reads such as ``version()``.
A PIVOT without an ``IN`` list is two statements to DuckDB and is refused.

**The engine.** Every table map gets its own DuckDB instance (configuration is per instance,
so the shared ingest database is never used). It loads the spatial extension from the pinned
wheel, creates one view per table over ``read_parquet(<file>)`` plus an underscore alias,
then allows exactly those files (``allowed_paths``), switches off external access (no other
file, no URL, no INSTALL/LOAD, COPY, EXPORT or ATTACH even if the check above missed one)
and locks its configuration (no SET/RESET/PRAGMA loosens anything). It has no temp directory,
so nothing is ever written; it has a memory limit and a thread count. A timer interrupts the
query at the time limit. Instances are cached per table map: building one costs about 0.3 s
(mostly the spatial extension), a cursor on it microseconds.

**The process.** Some DuckDB functions allocate outside its memory accounting and do not
look at interrupts (``list_resize([1], 500000000)``, ``lpad('x', 2000000000, 'y')``). So
queries run in worker processes (:class:`_Pool`, ``workers`` at a time): each query caps the
worker's address space at its size plus the memory limit plus
:data:`WORKER_HEADROOM_BYTES`, and the parent kills a worker that overruns the time limit by
:data:`KILL_GRACE_SECONDS`, answering with a timeout and starting a fresh worker later.

At most ``max_rows`` rows (and about ``max_result_bytes``) are fetched; ``truncated`` says
when the result was cut. Values are made JSON-ready: geometry as a GeoJSON object, decimals
as numbers, dates and times as ISO text, NaN and infinities as null, other types (intervals,
time zones, BLOB, nested types) as DuckDB renders them in JSON.

Every refusal or failure is an :class:`SqlError` (400; ``sql_forbidden``, ``sql_timeout``,
``sql_memory_limit`` or ``sql_error``) whose message never contains a path of a dataset
file. A table the caller may not see does not exist in the instance, so asking for it fails
exactly like asking for a table that never existed.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import math
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb
from duckdb.sqltypes import DuckDBPyType

from datenschatz.errors import DatenschatzError, InputError
from datenschatz.store.duck import spatial_extension_path, sql_ident, sql_string

log = logging.getLogger(__name__)

#: Table functions a query may call: they compute values and touch no file or setting.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree"}
)

#: Scalar functions and macros a query may not call, and why.
FORBIDDEN_FUNCTIONS: Mapping[str, str] = {
    "current_setting": "it reveals the server configuration",
    "pg_get_viewdef": "it reveals view definitions, which name internal files",
    "pg_get_constraintdef": "it reads the system catalog",
    "format_type": "it reads the system catalog",
    "write_log": "it writes to the server log",
    "sleep_ms": "it only wastes time",
    "pg_sleep": "it only wastes time",
}

#: SHOW forms a query may use (DESCRIBE and SUMMARIZE are always allowed).
_ALLOWED_SHOW_TABLES = frozenset({'"tables"', "tables"})

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


class SqlError(InputError):
    """The SQL failed or was refused; the message says why, never with internal paths."""

    code = "sql_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, parameter="q", **details)


class SqlForbidden(SqlError):
    """The SQL tried something the sandbox does not allow."""

    code = "sql_forbidden"


class SqlTimeout(SqlError):
    code = "sql_timeout"


class SqlMemoryLimit(SqlError):
    code = "sql_memory_limit"


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


def run_query(tables: Mapping[str, Path], q: str, limits: SandboxLimits | None = None) -> SqlResult:
    """Run one read-only SELECT over ``tables`` (name → Parquet file) within ``limits``.

    The query runs in a worker process, so that a query that escapes DuckDB's own interrupt
    or memory accounting is still stopped: the worker's address space is capped and it is
    killed when the time limit passes.
    """
    limits = limits or SandboxLimits()
    if not q.strip():
        raise SqlError("The query is empty; give one SELECT statement.")
    if len(q) > limits.max_query_chars:
        raise SqlError(f"The query is longer than {limits.max_query_chars} characters.")
    if "\x00" in q:  # DuckDB would silently ignore everything after it
        raise SqlError("The query contains a NUL character.")
    return _POOL.run(tables, q, limits)


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


# --- the statement check --------------------------------------------------------------------


def _single_select(cursor: duckdb.DuckDBPyConnection, q: str) -> str:
    statements = cursor.extract_statements(q)
    if not statements:
        raise SqlError("The query is empty; give one SELECT statement.")
    if len(statements) > 1:
        raise SqlForbidden(
            f"Only one SELECT statement is allowed; the query has {len(statements)}."
        )
    [statement] = statements
    if statement.type != duckdb.StatementType.SELECT:
        kind = str(statement.type.name).replace("_", " ")
        raise SqlForbidden(f"Only a SELECT statement is allowed, not {kind}.")
    return str(statement.query)


def _parse_tree(cursor: duckdb.DuckDBPyConnection, statement: str) -> Any:
    row = cursor.execute("SELECT json_serialize_sql(?)", [statement]).fetchone()
    try:
        tree = json.loads(row[0]) if row else None
    except RecursionError:
        raise SqlError("The query is nested too deeply.") from None
    if not isinstance(tree, dict) or tree.get("error") or not tree.get("statements"):
        raise SqlForbidden("Only a plain SELECT statement is allowed.")
    return tree


@dataclass
class _References:
    tables: list[tuple[str, str, str]] = field(default_factory=list)
    table_functions: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    ctes: set[str] = field(default_factory=set)
    shows: list[tuple[str, str]] = field(default_factory=list)


def _references(tree: Any) -> _References:
    """Every table, table function, function, CTE name and SHOW in a parse tree."""
    found = _References()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "BASE_TABLE":
            found.tables.append(
                (
                    str(node.get("catalog_name") or ""),
                    str(node.get("schema_name") or ""),
                    str(node.get("table_name") or ""),
                )
            )
        elif kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            found.table_functions.append(str(function.get("function_name", "")))
        elif kind == "SHOW_REF":
            found.shows.append((str(node.get("show_type")), str(node.get("table_name") or "")))
        if node.get("class") in {"FUNCTION", "WINDOW"} and "function_name" in node:
            found.functions.append(str(node["function_name"]))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map") or []:
                found.ctes.add(str(entry.get("key", "")).casefold())
        stack.extend(node.values())
    return found


def unknown_table(name: str) -> SqlError:
    """The one error for a table that does not exist for the caller (hidden or never made).

    A name that looks like a file or a URL (DuckDB would read it as one) is refused without
    being echoed: it may be an internal path.
    """
    if re.search(r"[/\\.:]", name):
        return SqlForbidden("Files and URLs cannot be read: query the dataset tables by name.")
    return SqlError(
        f"Unknown table {sql_ident(name)}. SHOW TABLES lists the tables you can query; "
        'names with hyphens need double quotes, e.g. "luft-bochum".',
        table=name,
    )


def _check_references(found: _References, tables: frozenset[str], system: frozenset[str]) -> None:
    for show_type, name in found.shows:
        if show_type in {"DESCRIBE", "SUMMARY"} and not name:
            continue
        if show_type == "SHOW_UNQUALIFIED" and name in _ALLOWED_SHOW_TABLES:
            continue
        raise SqlForbidden("Only SHOW TABLES, DESCRIBE and SUMMARIZE are allowed.")
    for name in found.table_functions:
        if name.casefold() not in ALLOWED_TABLE_FUNCTIONS:
            raise SqlForbidden(
                f"The table function {name} is not allowed: query the dataset tables by name. "
                f"Allowed table functions: {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}."
            )
    for name in found.functions:
        reason = FORBIDDEN_FUNCTIONS.get(name.casefold())
        if reason:
            raise SqlForbidden(f"The function {name} is not allowed: {reason}.")
    for catalog, schema, name in found.tables:
        folded = name.casefold()
        if catalog or schema.casefold() not in {"", "main"}:
            if folded in system or schema.casefold() in {"information_schema", "pg_catalog"}:
                raise SqlForbidden(f"The system table {name} is not available.")
            raise SqlForbidden("Tables are named without a catalog or schema.")
        if folded in tables:
            continue
        if folded in system:
            raise SqlForbidden(f"The system table {name} is not available.")
        if folded not in found.ctes:
            raise unknown_table(name)


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


@cache
def _system_relations() -> frozenset[str]:
    """Names of DuckDB's built-in views and tables (catalog, settings, sqlite/pg shims)."""
    con = duckdb.connect(":memory:", config={"autoload_known_extensions": False})
    try:
        rows = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE internal "
            "UNION SELECT table_name FROM duckdb_tables() WHERE internal"
        ).fetchall()
    finally:
        con.close()
    return frozenset(str(r[0]).casefold() for r in rows)


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


# --- worker processes -----------------------------------------------------------------------

#: Address space a worker may use beyond its size before the query plus the memory limit.
WORKER_HEADROOM_BYTES = 1024**3
#: How long past the time limit the parent waits before it kills a worker.
KILL_GRACE_SECONDS = 2.0
#: Queries a worker answers before it is replaced (bounds what a long-lived process keeps).
QUERIES_PER_WORKER = 500
_START_SECONDS = 30.0
_READY = "ready"
_UNITS = {
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}


class SqlBusy(DatenschatzError):
    """Every SQL worker stayed busy for as long as a query may run."""

    status = 503
    code = "sql_busy"


class SqlWorkerFailed(DatenschatzError):
    code = "sql_worker_failed"


_ERRORS: dict[str, type[SqlError]] = {
    cls.code: cls for cls in (SqlError, SqlForbidden, SqlTimeout, SqlMemoryLimit)
}


def memory_bytes(size: str) -> int:
    """Bytes of a DuckDB memory size such as ``'512MB'`` or ``'2GiB'``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)\s*", size, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a memory size: {size!r}")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@contextmanager
def _capped_address_space(limits: SandboxLimits) -> Iterator[None]:
    """Cap this process's address space at its current size + memory limit + headroom."""
    now = _address_space()
    if now is None:
        yield
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = now + memory_bytes(limits.memory_limit) + WORKER_HEADROOM_BYTES
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _worker_main(conn: Connection) -> None:
    """A worker process: runs one query at a time for the parent, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(_READY)
    while True:
        try:
            tables, q, limits = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[Any, ...]
        try:
            _instance(tables, limits)  # built outside the cap; cached for _run_here
            with _capped_address_space(limits):
                reply = ("ok", _run_here(tables, q, limits))
        except SqlError as exc:
            reply = ("error", exc.code, exc.message, exc.details)
        except MemoryError:
            reply = ("error", SqlMemoryLimit.code, _memory_message(limits), {})
        except Exception:
            log.exception("SQL worker failed")
            reply = ("error", SqlError.code, "The query failed inside the database engine.", {})
        conn.send(reply)


def _worker_entry(fd: int) -> None:
    """Entry point of a worker process started by :class:`_Worker` (``python -c``)."""
    _worker_main(Connection(fd))


class _Worker:
    """A Python process running :func:`_worker_main`, talking over a socket pair.

    Started with ``python -c`` rather than ``multiprocessing``, so that it never re-imports
    the parent's main module.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        code = f"from {__name__} import _worker_entry; _worker_entry({theirs.fileno()})"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.queries = 0
        try:
            ready = self.conn.poll(_START_SECONDS) and self.conn.recv() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise SqlWorkerFailed("The SQL worker process did not start.")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.conn.close()


class _Pool:
    """Worker processes, each running one query at a time; broken workers are replaced."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._running = 0
        self._changed = threading.Condition()

    def run(self, tables: Mapping[str, Path], q: str, limits: SandboxLimits) -> SqlResult:
        worker = self._acquire(limits)
        worker.queries += 1
        healthy = False
        try:
            worker.conn.send(({k: Path(v) for k, v in tables.items()}, q, limits))
            if not worker.conn.poll(limits.timeout_seconds + KILL_GRACE_SECONDS):
                raise SqlTimeout(_timeout_message(limits), timeout_seconds=limits.timeout_seconds)
            reply = worker.conn.recv()
            healthy = True
        except (EOFError, OSError):
            raise SqlError(
                "The query stopped the database worker, most likely by needing too much "
                "memory; the worker was replaced."
            ) from None
        finally:
            self._release(worker, healthy)
        if reply[0] == "ok":
            result: SqlResult = reply[1]
            return result
        _, code, message, details = reply
        details.pop("parameter", None)
        raise _ERRORS.get(code, SqlError)(message, **details)

    def _acquire(self, limits: SandboxLimits) -> _Worker:
        deadline = time.monotonic() + limits.timeout_seconds
        with self._changed:
            while not self._idle and self._running + len(self._idle) >= limits.workers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SqlBusy("Every SQL worker is busy; try again in a moment.")
                self._changed.wait(left)
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    self._running += 1
                    return worker
                worker.kill()  # died while idle (e.g. killed by the system): replace it
            self._running += 1
        try:
            return _Worker()
        except BaseException:
            with self._changed:
                self._running -= 1
                self._changed.notify()
            raise

    def _release(self, worker: _Worker, healthy: bool) -> None:
        healthy = healthy and worker.queries < QUERIES_PER_WORKER
        if not healthy:
            worker.kill()
        with self._changed:
            self._running -= 1
            if healthy:
                self._idle.append(worker)
            self._changed.notify()

    def close(self) -> None:
        """Stop the idle workers (running ones stop when their query ends)."""
        with self._changed:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_POOL = _Pool()
atexit.register(_POOL.close)


def stop_workers() -> None:
    """Stop the idle worker processes (tests, shutdown); new ones start on demand."""
    _POOL.close()
