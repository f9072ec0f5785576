"""`datenschatz privacy roles|scan|report` and the privacy line of `datenschatz ingest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datenschatz.cli import app

CORPUS = Path(__file__).parent / "corpus"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(data))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return data


def test_scan_a_file_names_columns_entities_and_rows_never_values(env: Path) -> None:
    code, stdout, stderr = run("privacy", "scan", str(CORPUS / "zahlungen_kommentar.csv"), "--json")
    assert code == 0, stderr
    found = {c["column"]: c for c in json.loads(stdout)["columns"]}
    assert found["Kommentar"]["proposed_role"] == "free_text"
    entities = {h["entity"]: h for h in found["Kommentar"]["hits"]}
    assert set(entities) == {"email", "iban", "vat_id", "phone"}
    assert entities["iban"]["rows"][0] == 2
    assert "@" not in stdout
    code, stdout, _ = run("privacy", "scan", str(CORPUS / "zahlungen_kommentar.csv"))
    assert code == 0
    assert "iban: 6 (rows 2," in stdout
    assert "DE22" not in stdout


def test_ingest_shows_a_privacy_line_and_roles_then_report(env: Path) -> None:
    code, stdout, stderr = run(
        "ingest", str(CORPUS / "lastgang_15min.csv"), "--dataset", "lastgang"
    )
    assert code == 0, stderr
    assert "privacy: does not pass yet" in stdout
    assert "4 column(s) without a confirmed role" in " ".join(stdout.split())

    code, stdout, _ = run("privacy", "roles", "lastgang", "--json")
    assert code == 0
    proposed = {c["column"]: c["proposed_role"] for c in json.loads(stdout)}
    assert proposed["Messlokation"] == "direct_id"
    assert proposed["kWh"] == "measure"

    code, _, stderr = run("privacy", "roles", "lastgang", "Zeit=geheim")
    assert code == 1
    assert "Unknown column role 'geheim' for column 'Zeit'" in stderr

    code, stdout, _ = run("privacy", "roles", "lastgang", "--accept-proposed", "--json")
    assert code == 0
    assert all(c["confirmed"] for c in json.loads(stdout))

    code, stdout, _ = run("privacy", "report", "lastgang")
    assert code == 0
    assert "privacy gate does not pass" in stdout
    assert "Column 'Messlokation' is direct_id" in " ".join(stdout.split())

    code, stdout, _ = run("privacy", "report", "lastgang", "--json")
    report = json.loads(stdout)
    assert report["passed"] is False
    assert report["k"] == 5
