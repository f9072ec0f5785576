"""Alembic environment: the engine is handed in by datenschatz.db.migrate."""

from __future__ import annotations

from alembic import context

from datenschatz.db.registry import all_metadata
from datenschatz.db.search_models import include_name

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    context.run_migrations()
