"""Small builders shared by tests (not fixtures)."""

from __future__ import annotations

from datenschatz.catalog.datasets import VersionInfo
from datenschatz.hub import Hub
from datenschatz.ingest.model import Staged
from datenschatz.ingest.pipeline import Source, commit_version


def add_version(
    hub: Hub, slug: str, select_sql: str, *, org: str | None = None, fmt: str = "sql"
) -> VersionInfo:
    """Store the result of ``select_sql`` as the next version of ``slug``."""
    con = hub.duckdb()
    try:
        staged = Staged(select_sql=select_sql, format=fmt)
        return commit_version(
            hub,
            con,
            staged,
            dataset=slug,
            source=Source("test.sql", 1, "0" * 64),
            org=org,
            actor="test",
        )
    finally:
        con.close()
