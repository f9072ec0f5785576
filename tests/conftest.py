"""Shared fixtures: a hub on the embedded default (SQLite) and, where configured, PostgreSQL.

PostgreSQL tests run whenever DATENSCHATZ_TEST_DATABASE_URL is set, each test session in a
fresh database that is dropped at the end. Under CI=true a missing or unreachable server is a
failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datenschatz.config import Settings
from datenschatz.db.migrate import upgrade
from datenschatz.db.models import Base
from datenschatz.hub import Hub

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"


def shared_file(relative: str) -> Path:
    """A file from ../shared/, or skip the test with the reason."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} is not available on this machine")
    return path


def _server_missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    base = os.environ.get("DATENSCHATZ_TEST_DATABASE_URL")
    if not base:
        _server_missing("PostgreSQL (set DATENSCHATZ_TEST_DATABASE_URL)")
        return
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"datenschatz_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        _server_missing(f"PostgreSQL at {url.render_as_string(hide_password=True)} ({exc})")
        return
    test_url = url.set(database=name).render_as_string(hide_password=False)
    try:
        yield test_url
    finally:
        from datenschatz.db.session import engine_for

        engine_for(test_url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_migrated: set[str] = set()


def _clean_postgres(url: str) -> None:
    from datenschatz.db.session import engine_for

    engine = engine_for(url)
    if url not in _migrated:
        upgrade(engine)
        _migrated.add(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrizes a test over the embedded default and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'datenschatz.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    _clean_postgres(url)
    return url


def make_hub(data_dir: Path, database_url: str) -> Hub:
    hub = Hub(Settings(data_dir=data_dir, database_url=database_url))
    hub.store.ensure()
    upgrade(hub.engine)
    return hub


def _release(hub: Hub) -> None:
    """Close the pooled connections of a test's own SQLite file.

    Engines are cached per URL for the life of the process, and every test has its own SQLite
    file: without this, each test would leave a few open file descriptors behind, and after a
    thousand tests new sockets get numbers above 1024, which select()-based clients such as
    paho-mqtt cannot watch.
    """
    if hub.settings.resolved_database_url.startswith("sqlite"):
        hub.engine.dispose()


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    """A migrated hub on SQLite and on PostgreSQL."""
    made = make_hub(tmp_path / "data", database_url)
    yield made
    _release(made)


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    """A migrated hub on the embedded default only (for tests where the DB does not matter)."""
    made = make_hub(tmp_path / "data", f"sqlite:///{tmp_path / 'datenschatz.sqlite3'}")
    yield made
    _release(made)
