"""Pages of rows with keyset cursors that cost the same at any depth.

Every row has a stable id, its row number in the immutable Parquet file. A page is ordered by
the sort columns and then the row id, and the next page starts after the last row's key:
``WHERE (sort columns..., row id) > (last key)``. No OFFSET, so nothing before the page is
read; on the row id DuckDB skips whole row groups.

In file order (no sort), pages are read in row-id windows: without filters the window is the
page itself; with filters it is sized from the known share of matching rows and widened until
the page is full. With a sort, DuckDB keeps the top rows after the key in a heap.

The cursor is opaque to clients: base64 of a small JSON object with the last key, the count of
the first page and a hash that binds it to the version and the query (filters, sort, fields);
a cursor from another query is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from datenschatz.errors import InputError
from datenschatz.store.query.count import Count, count_rows
from datenschatz.store.query.filters import Where, where_sql
from datenschatz.store.query.limits import Deadline, interrupted, too_slow
from datenschatz.store.query.render import json_object
from datenschatz.store.query.table import ROW_ID, Column, Table

CURSOR_PARAMETER = "_next"
FIRST_WINDOW = 131_072  # rows in the first window of a filtered page in file order
_TYPE_NAME = re.compile(r"[A-Z_ ]+(\(\d+, ?\d+\))?")


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False


@dataclass(frozen=True)
class RowsQuery:
    """One page request: selection, order, columns, size and where to start."""

    where: Where = field(default_factory=Where)
    sort: tuple[SortKey, ...] = ()
    fields: tuple[str, ...] | None = None  # None: every column
    limit: int = 100
    cursor: str | None = None

    def fingerprint(self, table: Table) -> str:
        """What a cursor is bound to: the version and everything but size and position."""
        text = json.dumps(
            [
                table.sha256,
                self.where.canonical,
                [[k.column, k.descending] for k in self.sort],
                list(self.fields) if self.fields is not None else None,
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def columns(self, table: Table) -> tuple[Column, ...]:
        if self.fields is None:
            return table.columns
        selected = [table.column(name) for name in self.fields]
        return tuple(c for c in selected if c is not None)


@dataclass(frozen=True)
class Page:
    columns: tuple[Column, ...]
    rows: list[str]  # one JSON object per row, as text
    count: Count
    next_cursor: str | None


@dataclass(frozen=True)
class _Position:
    keys: tuple[str | None, ...]  # the last row's sort values, as DuckDB text
    row_id: int  # the last row's id (or, without row ids, the offset of the next page)
    count: Count


def _bad_cursor() -> InputError:
    return InputError(
        "The cursor does not belong to this query; follow the next link of the previous page "
        "without changing the other parameters.",
        parameter=CURSOR_PARAMETER,
    )


def encode_cursor(fingerprint: str, position: _Position) -> str:
    data = {
        "h": fingerprint,
        "k": list(position.keys),
        "r": position.row_id,
        "n": position.count.value,
        "e": position.count.estimated,
    }
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str, sort_len: int) -> _Position:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not isinstance(data, dict) or data.get("h") != fingerprint:
        raise _bad_cursor()
    keys, row_id, count, estimated = data.get("k"), data.get("r"), data.get("n"), data.get("e")
    if (
        not isinstance(keys, list)
        or len(keys) != sort_len
        or not all(k is None or isinstance(k, str) for k in keys)
        or not isinstance(row_id, int)
        or isinstance(row_id, bool)
        or row_id < 0
        or not (count is None or (isinstance(count, int) and count >= 0))
        or not isinstance(estimated, bool)
    ):
        raise _bad_cursor()
    return _Position(tuple(keys), row_id, Count(count, estimated))


def _typed(column: Column) -> str:
    """``CAST(? AS type)`` for a key value that round-trips through DuckDB's text form."""
    name = column.duckdb_type.upper()
    if not _TYPE_NAME.fullmatch(name):  # pragma: no cover - sortable kinds have plain names
        raise InputError("This column cannot be sorted.", parameter="_sort")
    return f"CAST(? AS {name})"


def _keyset(
    table: Table, sort: Sequence[SortKey], position: _Position
) -> tuple[list[str], list[Any]]:
    """Conjuncts selecting the rows after ``position`` in (sort keys..., row id) order."""
    alternatives: list[str] = []
    params: list[Any] = []
    equal: list[str] = []
    equal_params: list[Any] = []
    hint: tuple[str, list[Any]] | None = None  # a plain range on the first key, for pushdown
    for i, key in enumerate(sort):
        column = table.column(key.column)
        assert column is not None
        col, value = column.sql, position.keys[i]
        if value is None:  # nulls sort last: nothing of this column comes after a null
            after, after_params = None, []
            same, same_params = f"{col} IS NULL", []
            if i == 0:
                hint = (f"{col} IS NULL", [])
        else:
            op = "<" if key.descending else ">"
            nulls = f" OR {col} IS NULL" if column.nullable else ""
            after, after_params = f"({col} {op} {_typed(column)}{nulls})", [value]
            same, same_params = f"{col} = {_typed(column)}", [value]
            if i == 0:
                hint = (f"({col} {op}= {_typed(column)}{nulls})", [value])
        if after is not None:
            alternatives.append("(" + " AND ".join([*equal, after]) + ")")
            params.extend([*equal_params, *after_params])
        equal.append(same)
        equal_params.extend(same_params)
    alternatives.append("(" + " AND ".join([*equal, f"{ROW_ID} > ?"]) + ")")
    params.extend([*equal_params, position.row_id])
    parts = ["(" + " OR ".join(alternatives) + ")"]
    if hint is not None:
        parts.insert(0, hint[0])
        params[:0] = hint[1]
    return parts, params


def _order_by(table: Table, sort: Sequence[SortKey]) -> str:
    items = []
    for key in sort:
        column = table.column(key.column)
        assert column is not None
        items.append(f"{column.sql} {'DESC' if key.descending else 'ASC'} NULLS LAST")
    if table.has_row_id:
        items.append(ROW_ID)
    return ("ORDER BY " + ", ".join(items)) if items else ""


def _page_sql(
    table: Table, query: RowsQuery, columns: Sequence[Column], extra: Sequence[str]
) -> tuple[str, list[Any]]:
    """The page query: the top rows with raw columns first, then JSON for those rows only.

    Rendering inside the ordered query would render every candidate row before the top-N
    cut; the outer query renders only the rows of the page. Takes ``LIMIT ?`` last.
    """
    needed = {c.name for c in columns} | {k.column for k in query.sort}
    raw = [c.sql for c in table.columns if c.name in needed]
    clause, params = where_sql(table, query.where, *extra)
    order = _order_by(table, query.sort) or f"ORDER BY {ROW_ID}"
    inner = f"SELECT {', '.join([*raw, ROW_ID])} FROM {table.source} {clause} {order} LIMIT ?"
    keys = []
    for key in query.sort:
        column = table.column(key.column)
        assert column is not None
        keys.append(f"CAST({column.sql} AS VARCHAR)")
    outer = ", ".join([json_object(columns), *keys, ROW_ID])
    return f"SELECT {outer} FROM ({inner}) {order}", params


class _Reader:
    """Runs the probes of one page under one deadline."""

    def __init__(self, con: duckdb.DuckDBPyConnection, clock: Deadline) -> None:
        self.con = con
        self.clock = clock

    def rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            if self.clock.fired or interrupted(exc):
                raise too_slow(self.clock.seconds) from None
            raise


def _window(need: int, count: Count, table: Table, where: Where) -> int:
    if where.empty:
        return need
    if count.value is not None and not count.estimated and count.value > 0:
        share = count.value / max(table.row_count, 1)
        return max(need, math.ceil(need / share * 1.25) + 1024)
    return max(FIRST_WINDOW, need * 16)


def _file_order(
    reader: _Reader,
    table: Table,
    query: RowsQuery,
    columns: Sequence[Column],
    start: int,
    need: int,
    count: Count,
) -> list[tuple[Any, ...]]:
    """Up to ``need`` matching rows with row id >= ``start``, in file order."""
    found: list[tuple[Any, ...]] = []
    window = _window(need, count, table, query.where)
    while len(found) < need and start < table.row_count:
        end = start + window
        if end >= table.row_count:
            extra, bounds = f"{ROW_ID} >= ?", [start]
        else:
            extra, bounds = f"{ROW_ID} >= ? AND {ROW_ID} < ?", [start, end]
        sql, params = _page_sql(table, query, columns, [extra])
        found.extend(reader.rows(sql, [*params, *bounds, need - len(found)]))
        start, window = end, window * 4
    return found


def fetch_page(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    query: RowsQuery,
    *,
    time_limit: float,
    count_limit: float,
) -> Page:
    """One page of ``query`` with its total count and the cursor of the next page.

    Raises InputError (parameter ``_next``) for a cursor of another query and QueryTimeout
    when reading the page passes ``time_limit``. Counting that passes ``count_limit`` gives
    an estimated count instead.
    """
    fingerprint = query.fingerprint(table)
    position = None
    if query.cursor is not None:
        position = decode_cursor(query.cursor, fingerprint, len(query.sort))
    count = position.count if position else None
    if count is None:
        count = count_rows(
            con, table, query.where, time_limit=count_limit, estimate_limit=count_limit / 2
        )
    columns = query.columns(table)
    need = query.limit + 1
    if count.value == 0 and not count.estimated:
        return Page(columns, [], count, None)
    clock = Deadline(con, time_limit)
    clock.start()
    try:
        reader = _Reader(con, clock)
        if not table.has_row_id:
            found = _offset_page(reader, table, query, columns, position, need)
        elif not query.sort:
            start = position.row_id + 1 if position else 0
            found = _file_order(reader, table, query, columns, start, need, count)
        else:
            extra: list[str] = []
            extra_params: list[Any] = []
            if position is not None:
                extra, extra_params = _keyset(table, query.sort, position)
            sql, params = _page_sql(table, query, columns, extra)
            found = reader.rows(sql, [*params, *extra_params, need])
    finally:
        clock.cancel()
    rows = [str(r[0]) for r in found[: query.limit]]
    next_cursor = None
    if len(found) > query.limit:
        last = found[query.limit - 1]
        if table.has_row_id:
            keys_of_last = tuple(None if v is None else str(v) for v in last[1:-1])
            next_position = _Position(keys_of_last, int(last[-1]), count)
        else:
            offset = (position.row_id if position else 0) + query.limit
            next_position = _Position(tuple(None for _ in query.sort), offset, count)
        next_cursor = encode_cursor(fingerprint, next_position)
    return Page(columns, rows, count, next_cursor)


def _offset_page(
    reader: _Reader,
    table: Table,
    query: RowsQuery,
    columns: Sequence[Column],
    position: _Position | None,
    need: int,
) -> list[tuple[Any, ...]]:
    """Pages by OFFSET, for the rare file with a real column named like the row id."""
    offset = position.row_id if position else 0
    clause, params = where_sql(table, query.where)
    sql = (
        f"SELECT {json_object(columns)} FROM {table.source} {clause} "
        f"{_order_by(table, query.sort)} LIMIT ? OFFSET ?"
    )
    return [(r[0], offset) for r in reader.rows(sql, [*params, need, offset])]
