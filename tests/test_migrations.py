from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from datenschatz.db.migrate import (
    SCHEMA_HEAD,
    alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
    upgrade,
)
from datenschatz.db.registry import MODEL_MODULES, all_metadata
from datenschatz.db.search_models import include_name
from datenschatz.db.session import make_engine


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": include_name}), all_metadata()
        )
    engine.dispose()
    assert diff == []


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert {"organization", "dataset", "version"} <= set(inspect(engine).get_table_names())
    assert current_revision(engine) is not None
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_schema_head_constant_matches_alembic() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_ensure_schema_migrates_an_empty_database_once(database_url: str) -> None:
    engine = make_engine(database_url)
    if current_revision(engine):
        command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == SCHEMA_HEAD
    ensure_schema(engine)  # a second call is a no-op
    assert {"organization", "dataset", "version"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_every_models_module_is_registered() -> None:
    from pathlib import Path

    import datenschatz.db

    found = {
        f"datenschatz.db.{p.stem}"
        for p in Path(datenschatz.db.__file__).parent.glob("*.py")
        if p.stem == "models" or p.stem.endswith("_models")
    }
    assert found == set(MODEL_MODULES)
