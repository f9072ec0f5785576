"""`datenschatz challenge|grant` on the command line: the whole programme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.governance.release_builders import days
from tests.governance.test_release_cli import env, ingest, ok, run

__all__ = ["env"]


def _dataset(csv: Path, slug: str, level: str) -> None:
    ingest(csv, slug)
    ok("publish", slug)
    if level == "partner":
        from datenschatz.catalog.datasets import get_dataset
        from datenschatz.db.models import AccessLevel
        from datenschatz.hub import Hub

        hub = Hub.from_env()
        with hub.session() as session:
            get_dataset(session, slug).access_level = AccessLevel.PARTNER


@pytest.mark.usefixtures("env")
def test_challenge_apply_score_qualify_accept_use_submit_revoke(env: Path) -> None:
    _dataset(env, "netz", "partner")
    _dataset(env, "luft", "public")
    _dataset(env, "waerme", "partner")
    ok("user", "add", "rita", "--role", "reviewer", "--kind", "data_owner")
    ok("user", "add", "tom", "--role", "partner")
    ok("user", "add", "tina", "--role", "partner")
    ok(
        "challenge",
        "create",
        "klima",
        "--title",
        "Klimadaten",
        "--question",
        "Where do roofs help the grid?",
        "--terms",
        "Challenge use only.",
        "--dataset",
        "netz",
        "--dataset",
        "luft",
        "--criterion",
        "impact:2:Less fine dust",
        "--criterion",
        "feasibility:1",
        "--applications-close",
        days(10).date().isoformat(),
        "--access-ends",
        days(60).date().isoformat(),
    )
    ok("challenge", "publish", "klima")
    listed = ok("challenge", "list", "--as", "tom")
    assert isinstance(listed, list)
    assert [c["slug"] for c in listed] == ["klima"]
    ok("challenge", "team", "Sonnenkinder", "--member", "tina", "--as", "tom")
    applied = ok(
        "challenge",
        "apply",
        "klima",
        "--team",
        "Sonnenkinder",
        "--proposal",
        "Roof planner",
        "--need",
        "netz:spare capacity",
        "--as",
        "tom",
    )
    assert isinstance(applied, dict)
    app_id = str(applied["id"])
    code, _, stderr = run("challenge", "score", app_id, "--score", "impact=8", "--as", "rita")
    assert code == 1
    assert "feasibility" in stderr
    ok(
        "challenge",
        "score",
        app_id,
        "--score",
        "impact=8",
        "--score",
        "feasibility=5",
        "--as",
        "rita",
    )
    qualified = ok("challenge", "qualify", app_id, "--reason", "Strong plan.", "--as", "rita")
    assert isinstance(qualified, dict)
    grant_id = str(qualified["grant_id"])
    code, stdout, _ = run("challenge", "applications", "klima", "--as", "tina")
    assert code == 0
    assert "qualified (Strong plan.)" in stdout

    accepted = ok("grant", "accept", grant_id, "--as", "tina")
    assert isinstance(accepted, dict)
    assert accepted["active"] is True
    assert accepted["scope"] == f"grant:{grant_id}"
    request = ok("grant", "request-dataset", grant_id, "waerme", "--why", "x", "--as", "tom")
    assert isinstance(request, dict)
    code, stdout, _ = run(
        "grant", "request-dataset", grant_id, "waerme", "--why", "x", "--as", "tom", "--json"
    )
    assert code == 1
    assert json.loads(stdout)["error"]["code"] == "conflict"
    usage = ok("grant", "usage", grant_id, "--as", "rita")
    assert isinstance(usage, dict)
    assert usage["requests"] == 0
    ok(
        "challenge",
        "submit",
        "klima",
        "--team",
        "Sonnenkinder",
        "--title",
        "Dachplaner",
        "--link",
        "https://example.org/d",
        "--as",
        "tom",
    )
    code, stdout, _ = run("challenge", "submissions", "klima", "--as", "rita")
    assert "Dachplaner" in stdout
    revoked = ok("grant", "revoke", grant_id, "--reason", "Programme ended.")
    assert isinstance(revoked, dict)
    assert revoked["active"] is False
    code, stdout, _ = run("grant", "list", "--as", "tom")
    assert "revoked" in stdout
