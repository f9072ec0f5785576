"""The hub: settings, relational engine and version store, built once and handed to services.

Services take a :class:`Hub` as their first argument; interfaces (CLI, API, web) build one
from the settings. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from datenschatz.config import Settings, load_settings
from datenschatz.store import duck
from datenschatz.store.versions import VersionStore

if TYPE_CHECKING:
    import duckdb
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session


@dataclass
class Hub:
    settings: Settings
    store: VersionStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = VersionStore(self.settings.versions_dir, self.settings.tmp_dir)

    @cached_property
    def engine(self) -> Engine:
        """The relational engine, built on first use: SQLAlchemy's ORM loads only then (an
        ingest converts its file meanwhile; see :func:`datenschatz.ingest.pipeline.ingest_file`).
        """
        from datenschatz.db.session import engine_for

        return engine_for(self.settings.resolved_database_url)

    @classmethod
    def from_env(cls, **overrides: object) -> Hub:
        return cls(load_settings(**overrides))

    @property
    def data_dir(self) -> Path:
        return self.settings.resolved_data_dir

    @contextmanager
    def session(self) -> Iterator[Session]:
        from datenschatz.db.session import session_scope

        with session_scope(self.engine) as session:
            yield session

    def query_duckdb(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor for read queries, under the query memory limit."""
        return self.duckdb(memory_limit=self.settings.query_memory_limit)

    def duckdb(
        self, *, memory_limit: str | None = None, spatial: bool = True
    ) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor for ingest, spatial loaded, spilling into the data dir.

        Use TEMP tables and views only: the database behind the cursor is shared. Without
        ``spatial`` the (half-second) load of the spatial extension is skipped, for callers
        that handle no geometry.
        """
        return duck.cursor(
            threads=self.settings.duckdb_threads,
            memory_limit=memory_limit or self.settings.ingest_memory_limit,
            temp_dir=self.settings.tmp_dir / "duckdb",
            spatial=spatial,
        )
