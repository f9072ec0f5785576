"""Worker processes that run the queries, each capped in address space and killed when late.

Some DuckDB functions allocate outside its memory accounting and do not look at interrupts
(``list_resize([1], 500000000)``, ``lpad('x', 2000000000, 'y')``). So queries run in worker
processes (:class:`_Pool`, ``workers`` at a time): each query caps the worker's address space
at its size plus the memory limit plus :data:`WORKER_HEADROOM_BYTES`, and the parent kills a
worker that overruns the time limit by :data:`KILL_GRACE_SECONDS`, answering with a timeout
and starting a fresh worker later.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from datenschatz.errors import (
    SqlBusy,
    SqlError,
    SqlForbidden,
    SqlMemoryLimit,
    SqlTimeout,
    SqlWorkerFailed,
)
from datenschatz.store.sandbox.engine import (
    SandboxLimits,
    SqlResult,
    _instance,
    _memory_message,
    _run_here,
    _timeout_message,
)

log = logging.getLogger(__name__)

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

_ERRORS: dict[str, type[SqlError]] = {
    cls.code: cls for cls in (SqlError, SqlForbidden, SqlTimeout, SqlMemoryLimit)
}


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
