from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datenschatz.cli import app
from datenschatz.db.migrate import head_revision

runner = CliRunner()

CSV = "id;name;wert\n1;Herne;1,5\n2;Wanne;2,25\n3;Eickel;3\n"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(data))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", database_url)
    return data


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "stadtteile.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_creates_data_dir_and_schema(env: Path) -> None:
    code, stdout, _ = run("init", "--json")
    assert code == 0
    info = json.loads(stdout)
    assert info["revision"] == head_revision()
    assert Path(info["data_dir"]) == env.resolve()
    assert (env / "versions").is_dir()


def test_db_upgrade_reports_the_revision(env: Path) -> None:
    code, stdout, _ = run("db", "upgrade", "--json")
    assert code == 0
    assert json.loads(stdout) == {"revision": head_revision()}


def test_ingest_versions_publish_and_check(env: Path, csv_file: Path) -> None:
    code, stdout, stderr = run(
        "ingest",
        str(csv_file),
        "--dataset",
        "stadtteile",
        "--title",
        "Stadtteile",
        "--org",
        "stadt-herne",
        "--json",
    )
    assert code == 0, stderr
    version = json.loads(stdout)
    assert (version["dataset"], version["version"], version["rows"]) == ("stadtteile", 1, 3)
    assert version["source_name"] == "stadtteile.csv"
    columns = {c["name"]: c for c in version["quality"]["columns"]}
    assert columns["wert"]["type"] == "number"

    code, stdout, _ = run("ingest", str(csv_file), "--dataset", "stadtteile", "--json")
    assert code == 0
    assert json.loads(stdout)["version"] == 2

    code, stdout, _ = run("versions", "stadtteile", "--json")
    assert [v["version"] for v in json.loads(stdout)] == [1, 2]

    code, stdout, _ = run("publish", "stadtteile", "--version", "1", "--json")
    assert code == 1  # no column has a confirmed role yet: the privacy gate refuses
    code, _, stderr = run("privacy", "roles", "stadtteile", "--accept-proposed", "--version", "1")
    assert code == 0, stderr
    code, stdout, _ = run("publish", "stadtteile", "--version", "1", "--json")
    assert code == 0
    assert json.loads(stdout)["published"] is True

    code, stdout, _ = run("store", "check", "--json")
    assert code == 0
    assert json.loads(stdout)["ok"] == 2


def test_human_output_names_the_version(
    env: Path, csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = run("ingest", str(csv_file), "--dataset", "stadtteile")
    assert code == 0
    assert "stadtteile v1: 3 rows, 3 columns" in stdout
    code, stdout, _ = run("versions", "stadtteile")
    assert "stadtteile.csv" in stdout


def test_missing_file_fails_naming_it_and_changes_nothing(env: Path, tmp_path: Path) -> None:
    code, _, stderr = run("ingest", str(tmp_path / "fehlt.csv"), "--dataset", "x")
    assert code == 1
    assert "fehlt.csv" in stderr
    code, _, stderr = run("versions", "x")
    assert code == 1
    assert "No such dataset" in stderr


def test_error_as_json_has_the_one_shape(env: Path, tmp_path: Path) -> None:
    code, stdout, _ = run("ingest", str(tmp_path / "fehlt.csv"), "--dataset", "x", "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["details"] == {"file": "fehlt.csv"}


def test_publish_failure_lists_the_reasons(env: Path, csv_file: Path) -> None:
    assert run("ingest", str(csv_file), "--dataset", "stadtteile")[0] == 0
    for parquet in (env / "versions").rglob("*.parquet"):
        parquet.write_bytes(parquet.read_bytes() + b"x")
    code, _, stderr = run("publish", "stadtteile")
    assert code == 1
    assert "store" in stderr
    assert "SHA-256" in stderr
    code, _, _ = run("store", "check")
    assert code == 1


def test_bad_setting_stops_the_start_naming_it(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATENSCHATZ_MAX_UPLOAD_BYTES", "-1")
    code, _, stderr = run("init")
    assert code == 2
    assert "DATENSCHATZ_MAX_UPLOAD_BYTES" in stderr


def test_settings_lists_every_setting(env: Path) -> None:
    code, stdout, _ = run("settings", "--json")
    assert code == 0
    names = {row["variable"] for row in json.loads(stdout)}
    assert {"DATENSCHATZ_DATA_DIR", "DATENSCHATZ_DATABASE_URL", "DATENSCHATZ_SECRET_KEY"} <= names


def test_file_over_the_size_limit_is_refused(
    env: Path, csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATENSCHATZ_MAX_UPLOAD_BYTES", "10")
    code, _, stderr = run("ingest", str(csv_file), "--dataset", "stadtteile")
    assert code == 1
    assert "DATENSCHATZ_MAX_UPLOAD_BYTES" in stderr
    assert not list((env / "versions").rglob("*.parquet"))
