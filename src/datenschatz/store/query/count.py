"""Counting matching rows under a time limit: exact when it is quick, else marked estimated.

Without a filter the count is the version's row count, free. With a filter DuckDB counts
within ``time_limit``; when that passes, a few evenly spread slices of the file are counted
(filters on the row number skip the row groups in between) and scaled up. Versions never
change, so finished exact counts are remembered per (file hash, selection).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import duckdb

from datenschatz.store.query.filters import Where, where_sql
from datenschatz.store.query.limits import deadline, interrupted
from datenschatz.store.query.table import ROW_ID, Table

SLICES = 16  # slices counted for an estimate
SLICE_ROWS = 32_768  # rows per slice


@dataclass(frozen=True)
class Count:
    """A total: exact, or estimated (``value`` None when not even an estimate was possible)."""

    value: int | None
    estimated: bool = False

    def to_dict(self) -> dict[str, int | bool | None]:
        return {"value": self.value, "estimated": self.estimated}


class _Remembered:
    """A small, thread-safe LRU of exact counts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> int | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str], value: int) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


REMEMBERED = _Remembered(4096)


def _run_count(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object], seconds: float
) -> int | None:
    """The count, or None when it ran past ``seconds``."""
    with deadline(con, seconds) as clock:
        try:
            row = con.execute(sql, params).fetchone()
        except duckdb.Error as exc:
            if clock.fired or interrupted(exc):
                return None
            raise
    return int(row[0]) if row else 0


def exact_count(
    con: duckdb.DuckDBPyConnection, table: Table, where: Where, *, time_limit: float
) -> int | None:
    """The exact number of matching rows, or None when counting passes ``time_limit``."""
    if where.empty:
        return table.row_count
    key = (table.sha256, where.canonical)
    known = REMEMBERED.get(key)
    if known is not None:
        return known
    clause, params = where_sql(table, where)
    value = _run_count(con, f"SELECT count(*) FROM {table.source} {clause}", params, time_limit)
    if value is not None:
        REMEMBERED.put(key, value)
    return value


def estimate_count(
    con: duckdb.DuckDBPyConnection, table: Table, where: Where, *, time_limit: float
) -> int | None:
    """Matching rows in evenly spread slices of the file, scaled to the whole file."""
    total = table.row_count
    if not table.has_row_id or total <= SLICES * SLICE_ROWS:
        return None  # small files are counted exactly or not at all
    step = total // SLICES
    selects: list[str] = []
    params: list[object] = []
    for i in range(SLICES):
        start = i * step
        clause, slice_params = where_sql(table, where, f"{ROW_ID} >= ? AND {ROW_ID} < ?")
        selects.append(f"SELECT count(*) AS n FROM {table.source} {clause}")
        params.extend([*slice_params, start, start + SLICE_ROWS])
    sql = f"SELECT sum(n) FROM ({' UNION ALL '.join(selects)})"
    matched = _run_count(con, sql, params, time_limit)
    if matched is None:
        return None
    return round(matched * total / (SLICES * SLICE_ROWS))


def count_rows(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    where: Where,
    *,
    time_limit: float,
    estimate_limit: float | None = None,
) -> Count:
    """Exact within ``time_limit``, else an estimate (within ``estimate_limit``)."""
    exact = exact_count(con, table, where, time_limit=time_limit)
    if exact is not None:
        return Count(exact)
    estimate = estimate_count(
        con, table, where, time_limit=estimate_limit if estimate_limit is not None else time_limit
    )
    return Count(estimate, estimated=True)
