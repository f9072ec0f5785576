"""What a run of the command line imports: start-up is part of every command's time.

Each test runs the real entry point (``datenschatz.cli:main``) in a fresh interpreter with
``-X importtime``, which names every module the run imports, and checks the set: module sets
are deterministic where timings on a shared machine are not (timings live in bench/).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Never needed to start the command line, to ingest a file or to list versions.
HEAVY = (
    "alembic",  # migrations: only when the schema is behind (db/migrate.ensure_schema)
    "argon2",
    "fastapi",
    "jinja2",
    "numpy",
    "opendp",
    "openpyxl",  # XLSX ingest and export only
    "pandas",
    "paho",
    "pyarrow",  # exports only
    "pyshacl",
    "rdflib",
    "sklearn",
    "starlette",
    "uvicorn",
    "datenschatz.access.policy",  # and the release tables it needs
    "datenschatz.analysis",
    "datenschatz.api",
    "datenschatz.db.analysis_models",
    "datenschatz.db.governance_release_models",
    "datenschatz.db.registry",  # every table module at once
    "datenschatz.db.sensor_models",
    "datenschatz.demo",
    "datenschatz.mqtt_bridge",
    "datenschatz.sensors",
    "datenschatz.web",
)
# Nor are these before a command touches the relational store.
DATABASE = ("duckdb", "pydantic", "pydantic_settings", "sqlalchemy", "datenschatz.hub")

_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")
_MAIN = "import sys; from datenschatz.cli import main; sys.argv[0] = 'datenschatz'; main()"


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module a run of ``datenschatz ARGS`` imports; the run must succeed."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _MAIN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = {m.group(1) for line in done.stderr.splitlines() if (m := _LINE.match(line))}
    assert "datenschatz.cli" in names  # importtime reported
    return names


def loaded(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    """The modules of ``names`` that are, or lie under, one of ``prefixes``."""
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data directory on the embedded SQLite default, schema created."""
    child = {k: v for k, v in os.environ.items() if not k.startswith("DATENSCHATZ_")}
    child["DATENSCHATZ_DATA_DIR"] = str(tmp_path / "data")
    imported("init", env=child)
    return child


def test_help_imports_no_service_database_or_heavy_module() -> None:
    names = imported("--help")
    assert loaded(names, HEAVY + DATABASE) == []
    ours = {n for n in names if n.startswith("datenschatz")}
    allowed = {"datenschatz", "datenschatz.cli", "datenschatz.commands", "datenschatz.errors"}
    assert {n for n in ours if not n.startswith("datenschatz.commands.")} == allowed


def test_settings_reads_the_settings_without_the_database() -> None:
    names = imported("settings", "--json")
    assert "datenschatz.config" in names
    assert loaded(names, (*HEAVY, "duckdb", "sqlalchemy", "datenschatz.hub")) == []


def test_ingest_imports_only_what_an_ingest_needs(env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "messstellen.csv"
    csv.write_text("id,ort,wert\n1,Herne,1.5\n2,Wanne,2.25\n", encoding="utf-8")
    names = imported("ingest", str(csv), "--dataset", "messstellen", "--json", env=env)
    assert {"datenschatz.ingest.pipeline", "datenschatz.privacy.gate", "duckdb"} <= names
    assert loaded(names, HEAVY) == []
    # The schema is current after `init`: its check is one query, not Alembic.
    assert "alembic" not in names


def test_versions_imports_no_heavy_module(env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "messstellen.csv"
    csv.write_text("id,wert\n1,1.5\n", encoding="utf-8")
    imported("ingest", str(csv), "--dataset", "messstellen", env=env)
    names = imported("versions", "messstellen", "--json", env=env)
    assert "datenschatz.catalog.datasets" in names
    # Reading changes nothing: neither DuckDB nor the search index's text machinery loads.
    assert loaded(names, (*HEAVY, "duckdb", "datenschatz.catalog.search_index")) == []


def test_a_named_command_builds_only_itself() -> None:
    """Typer converts every command it knows before parsing: a named one comes alone."""
    from datenschatz.cli import app, app_for

    assert app_for(["--help"]) is app
    assert app_for([]) is app
    assert app_for(["no-such-command"]) is app
    only = app_for(["ingest", "x.csv", "--dataset", "x"])
    assert [c.callback.__name__ for c in only.registered_commands if c.callback] == ["ingest"]
    assert only.registered_groups == []
    group = app_for(["user", "list"])
    assert group.registered_commands == []
    assert [g.name for g in group.registered_groups] == ["user"]
    assert len(app.registered_commands) > 1  # the full app is left as it was


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "--help"],
        ["ingest"],  # usage error: FILE missing
        ["user", "--help"],
        ["user", "list", "--bogus"],
        ["versions"],
    ],
)
def test_a_named_command_answers_as_in_the_full_app(args: list[str]) -> None:
    from typer.testing import CliRunner

    from datenschatz.cli import app, app_for

    runner = CliRunner()
    full = runner.invoke(app, args, prog_name="datenschatz")
    alone = runner.invoke(app_for(args), args, prog_name="datenschatz")
    assert (alone.exit_code, alone.output) == (full.exit_code, full.output)
    assert full.output
