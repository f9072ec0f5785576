"""The ingest prepares its commit in a thread while DuckDB writes; a failure there (the CLI's
schema check) is raised before the catalog changes, and the written file is removed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datenschatz.db.models import Version
from datenschatz.db.session import engine_for
from datenschatz.errors import ConfigError
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "werte.csv"
    path.write_text("id;wert\n1;2,5\n2;3,5\n", encoding="utf-8")
    return path


def test_a_failed_preparation_changes_nothing(sqlite_hub: Hub, tmp_path: Path) -> None:
    def refuse() -> None:
        raise ConfigError("The database schema is newer than this Datenschatz.")

    with pytest.raises(ConfigError):
        ingest_file(sqlite_hub, _csv(tmp_path), dataset="werte", actor="test", prepare=refuse)
    with sqlite_hub.session() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 0
    assert list(sqlite_hub.store.files()) == []
    assert sqlite_hub.store.partials() == []


def test_the_preparation_runs_beside_the_parse_and_before_the_commit(
    sqlite_hub: Hub, tmp_path: Path
) -> None:
    ran: list[str] = []

    def prepare() -> None:
        ran.append(threading.current_thread().name)

    info = ingest_file(sqlite_hub, _csv(tmp_path), dataset="werte", actor="test", prepare=prepare)
    assert info.rows == 2
    assert len(ran) == 1
    assert ran[0] != threading.main_thread().name


def test_threads_asking_for_a_new_engine_at_once_share_one(tmp_path: Path) -> None:
    """A hub builds its engine on first use, possibly from several threads at once."""
    url = f"sqlite:///{tmp_path}/x.db"
    start = threading.Barrier(8)
    seen: list[object] = []

    def ask() -> None:
        start.wait()
        seen.append(engine_for(url))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(e) for e in seen}) == 1
    engine_for(url).dispose()
