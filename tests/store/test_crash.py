"""kill -9 at any point of an ingest leaves the previous state fully usable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datenschatz.catalog.datasets import get_dataset, list_versions
from datenschatz.config import Settings
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.services.publish import publish
from datenschatz.store.check import check_store
from tests.helpers import confirm_roles


def _big_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,zeit,wert,kategorie,text\n")
        for i in range(rows):
            fh.write(
                f"{i},2024-03-{1 + i % 28:02d}T{i % 24:02d}:00:00,{rng.random() * 100:.3f},"
                f"k{i % 17},zeile {i} mit etwas text\n"
            )


@pytest.mark.slow
def test_kill_during_ingest_leaves_previous_state_usable(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "data"
    hub = Hub(Settings(data_dir=data, database_url=database_url))
    from datenschatz.db.migrate import upgrade

    upgrade(hub.engine)
    small = tmp_path / "klein.csv"
    small.write_text("id,wert\n1,1.5\n2,2.5\n3,3.5\n", encoding="utf-8")
    ingest_file(hub, small, dataset="messwerte", actor="test")
    confirm_roles(hub, "messwerte")  # the privacy gate needs confirmed column roles
    published = publish(hub, "messwerte", actor="test")
    big = tmp_path / "gross.csv"
    _big_csv(big, 300_000)

    env = {
        **os.environ,
        "DATENSCHATZ_DATA_DIR": str(data),
        "DATENSCHATZ_DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "datenschatz.cli", "ingest", str(big), "-d", "messwerte"]
    killed_while_running = 0
    for delay in (0.2, 0.5, 0.8, 1.1, 1.5, 2.0, 2.6):
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_while_running += 1
        proc.wait(timeout=60)

        with hub.session() as session:
            report = check_store(session, hub.store)
            assert report.healthy, report.to_dict()
            dataset = get_dataset(session, "messwerte")
            assert dataset.published_version_id is not None
            assert dataset.published_version.number == published.number  # type: ignore[union-attr]
            path = hub.store.path(dataset.published_version.path)  # type: ignore[union-attr]
        con = hub.duckdb()
        try:
            row = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()
        finally:
            con.close()
        assert row == (3,)
    assert killed_while_running >= 3, "the ingest finished too fast to be interrupted"

    after = ingest_file(hub, small, dataset="messwerte", actor="test")
    with hub.session() as session:
        numbers = [v.number for v in list_versions(session, "messwerte")]
    assert numbers == sorted(set(numbers))
    assert after.number == numbers[-1]
