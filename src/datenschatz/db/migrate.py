"""Apply Alembic migrations programmatically (``datenschatz init`` / ``db upgrade``).

Alembic is imported only when a migration has to run: :func:`ensure_schema` first compares
the database's revision with :data:`SCHEMA_HEAD` in one plain query, which keeps every CLI
command's start-up short.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# The newest revision in migrations/versions; a test keeps it equal to Alembic's head.
SCHEMA_HEAD = "0011"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, or None for an empty database."""
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:
        return None
    return str(row[0]) if row else None


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to :data:`SCHEMA_HEAD`, importing Alembic only when needed."""
    if current_revision(engine) != SCHEMA_HEAD:
        upgrade(engine)


def head_revision() -> str:
    """The newest migration shipped with this version of Datenschatz (asks Alembic)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
