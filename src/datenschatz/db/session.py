"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from datenschatz import events


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(url: str) -> Engine:
    """One engine per URL per process, also when threads ask for it at once (a hub builds its
    engine on first use, possibly in an ingest's preparing thread or a request's worker)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = make_engine(url)
        return engine


def _mark_flushed(session: Session, _context: Any) -> None:
    session.info["flushed"] = True


def _mark_bulk_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["flushed"] = True


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    A commit that wrote anything moves the catalog generation (read caches drop entries).
    """
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    event.listen(session, "after_flush", _mark_flushed)
    event.listen(session, "do_orm_execute", _mark_bulk_write)
    try:
        yield session
        flushed = session.info.get("flushed", False) or bool(
            session.new or session.dirty or session.deleted
        )
        session.commit()
        if flushed:
            events.catalog_changed()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
