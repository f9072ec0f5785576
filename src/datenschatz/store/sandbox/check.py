"""The statement check: one SELECT whose parse tree names only what a query may use.

Before anything runs, the text must parse into exactly one SELECT. Its parse tree
(``json_serialize_sql``) is walked and refused when it

- names a table other than the dataset tables and the query's own CTEs, or a system table
  (``duckdb_views``, ``sqlite_master``, ``information_schema.*``, ``pg_catalog.*``, ...), or
  a table qualified with a catalog or a schema other than ``main``;
- calls a table function other than :data:`ALLOWED_TABLE_FUNCTIONS`;
- calls a function of :data:`FORBIDDEN_FUNCTIONS`;
- uses SHOW other than ``SHOW TABLES``, ``DESCRIBE`` and ``SUMMARIZE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import duckdb

from datenschatz.errors import SqlError, SqlForbidden
from datenschatz.store.duck import sql_ident

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


def check_select(cursor: duckdb.DuckDBPyConnection, q: str, tables: frozenset[str]) -> str:
    """The one SELECT of ``q``, if it names only ``tables`` (casefolded) and allowed functions.

    For SQL that runs outside the sandbox's worker processes but must obey the same statement
    rules, such as a recipe's transformation. Raises SqlError/SqlForbidden like the sandbox.
    """
    statement = _single_select(cursor, q)
    _check_references(_references(_parse_tree(cursor, statement)), tables, _system_relations())
    return statement
