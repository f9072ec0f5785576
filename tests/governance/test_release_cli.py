"""`datenschatz release|withdraw|publish` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datenschatz.cli import app

runner = CliRunner()
CSV = "id;kwh\n1;1,5\n2;2,25\n3;3\n"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", database_url)
    csv = tmp_path / "solar.csv"
    csv.write_text(CSV, encoding="utf-8")
    return csv


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> object:
    code, stdout, stderr = run(*args, "--json")
    assert code == 0, (args, stdout, stderr)
    return json.loads(stdout)


def ingest(csv: Path, slug: str = "solar") -> None:
    """Ingest, confirm the column roles and fill the mandatory metadata of ``slug``."""
    ok("ingest", str(csv), "--dataset", slug)
    ok("privacy", "roles", slug, "id=public_key", "kwh=measure")
    meta = csv.parent / "meta.yaml"
    meta.write_text(
        "description: Solar yield per roof.\n"
        "contact:\n  name: Open-Data-Team\n  url: https://example.org/kontakt\n",
        encoding="utf-8",
    )
    ok("meta", slug, "--file", str(meta))


def test_release_request_decide_status_and_withdraw(env: Path) -> None:
    ingest(env)
    ok("user", "add", "stella", "--role", "steward", "--org", "stadt")
    for name, kind in (
        ("dpo", "data_protection_officer"),
        ("owner", "data_owner"),
        ("ethics", "ethics_reviewer"),
    ):
        ok("user", "add", name, "--role", "reviewer", "--kind", kind)
    release = ok(
        "release",
        "request",
        "solar",
        "--purpose",
        "Start-ups",
        "--level",
        "partner",
        "--as",
        "stella",
    )
    assert isinstance(release, dict)
    rid = str(release["id"])
    assert release["status"] == "pending"

    code, _, stderr = run(
        "release", "decide", rid, "--question", "political", "--approve", "--as", "stella"
    )
    assert code == 1
    assert "release board" in stderr
    ok("release", "decide", rid, "--question", "technical", "--approve", "--as", "dpo")
    ok(
        "release",
        "decide",
        rid,
        "--question",
        "political",
        "--approve",
        "--as",
        "owner",
        "--reason",
        "Owner agrees.",
    )
    done = ok(
        "release",
        "decide",
        rid,
        "--question",
        "ethical",
        "--approve",
        "--as",
        "ethics",
        "--check",
        "purpose=start-ups",
        "--check",
        "harm=none",
        "--check",
        "context=sensor note",
        "--check",
        "linkage=none",
    )
    assert isinstance(done, dict)
    assert done["status"] == "approved"

    code, stdout, _ = run("release", "status", rid)
    assert code == 0
    assert "approved" in stdout
    assert "ethical: approved by ethics" in stdout
    listed = ok("release", "status", "solar")
    assert isinstance(listed, list)
    assert [r["id"] for r in listed] == [release["id"]]

    gone = ok("withdraw", "solar", "--reason", "Meter error.", "--as", "stella")
    assert isinstance(gone, dict)
    assert gone["status"] == "withdrawn"
    code, stdout, _ = run("withdraw", "solar", "--reason", "again", "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["code"] == "conflict"


def test_a_rejection_needs_a_reason_and_is_shown(env: Path) -> None:
    ingest(env)
    ok("user", "add", "owner", "--role", "reviewer", "--kind", "data_owner")
    release = ok("release", "request", "solar", "--purpose", "p", "--level", "public")
    assert isinstance(release, dict)
    rid = str(release["id"])
    code, stdout, _ = run(
        "release", "decide", rid, "--question", "political", "--reject", "--as", "owner", "--json"
    )
    assert code == 1
    assert json.loads(stdout)["error"]["details"]["parameter"] == "reason"
    code, _, _ = run("release", "decide", rid, "--question", "political", "--as", "owner")
    assert code == 1
    back = ok(
        "release",
        "decide",
        rid,
        "--question",
        "political",
        "--reject",
        "--as",
        "owner",
        "--reason",
        "Licence unclear.",
    )
    assert isinstance(back, dict)
    assert back["reason"] == "political: Licence unclear."


def test_publish_is_the_admins_way_through_the_workflow(env: Path) -> None:
    ingest(env)
    ok("publish", "solar")
    releases = ok("release", "status", "solar")
    assert isinstance(releases, list)
    assert releases[0]["status"] == "approved"
    assert {d["decided_by"] for d in releases[0]["decisions"]} == {"cli"}
