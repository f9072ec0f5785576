"""Time limits for queries on a DuckDB cursor.

A timer calls ``interrupt()`` on the cursor when the limit passes; DuckDB then stops the query
at its next check and raises. A stale interrupt does not carry over to the next query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

from datenschatz.errors import QueryTimeout


class Deadline:
    """Interrupts ``con`` once ``seconds`` have passed, unless cancelled or restarted."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self._con = con
        self.seconds = seconds
        self.fired = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
        self._con.interrupt()

    def start(self) -> None:
        """(Re)start the clock: the limit counts from now."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


@contextmanager
def deadline(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[Deadline]:
    """A running :class:`Deadline`, cancelled on exit."""
    clock = Deadline(con, seconds)
    clock.start()
    try:
        yield clock
    finally:
        clock.cancel()


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB (or Arrow, while streaming) reporting an interrupt."""
    if isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, (duckdb.Error, OSError)) and "interrupt" in str(exc).lower()


def fetch_all(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    *,
    seconds: float,
    what: str = "The query",
) -> list[tuple[Any, ...]]:
    """All rows of ``sql``, or :class:`QueryTimeout` after ``seconds``."""
    with deadline(con, seconds) as clock:
        try:
            return con.execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            if clock.fired or interrupted(exc):
                raise too_slow(seconds, what) from None
            raise


def too_slow(seconds: float, what: str = "The query") -> QueryTimeout:
    return QueryTimeout(
        f"{what} took longer than the limit of {seconds:g} s; narrow it down with filters."
    )
