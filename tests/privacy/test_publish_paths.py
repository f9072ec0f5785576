"""No path publishes without a passing privacy report: every one of them is tried here.

Paths today: ``services.publish.publish`` (admins; the demo loader uses it), the CLI
``datenschatz publish``, and the release workflow (request, board decisions, completion), for
public and partner data. A static check makes sure nothing else moves the published pointer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datenschatz.catalog.datasets import get_dataset
from datenschatz.cli import app
from datenschatz.errors import CheckFailed
from datenschatz.governance import releases
from datenschatz.hub import Hub
from datenschatz.privacy.gate import evaluate_version
from datenschatz.services import publish as publishing
from datenschatz.services.publish import publish
from tests.governance.release_builders import CHECKLIST, board, describe, user, who
from tests.helpers import add_version, confirm_roles

SRC = Path(__file__).resolve().parents[2] / "src" / "datenschatz"
PERSONAL_SQL = (
    "SELECT range AS n, 'anna.meyer' || range || '@example.org' AS kontakt, range * 1.5 AS wert "
    "FROM range(20)"
)


def _unpublished(hub: Hub, slug: str) -> None:
    with hub.session() as session:
        assert get_dataset(session, slug).published_version_id is None


def test_the_privacy_check_is_in_the_list_every_path_runs() -> None:
    assert publishing.check_privacy in publishing.CHECKS


def test_nothing_but_the_checked_paths_moves_the_published_pointer() -> None:
    movers = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"published_version_id\s*=\s*(?!None)\w", text):
            movers.add(path.relative_to(SRC).as_posix())
    # Both run services.publish.run_checks (CHECKS) right before they move the pointer.
    assert movers <= {"services/publish.py", "governance/releases.py"}, movers


def test_publish_service_refuses_personal_data(hub: Hub) -> None:
    add_version(hub, "kontakte", PERSONAL_SQL, roles={"kontakt": "public_key"})
    with pytest.raises(CheckFailed) as caught:
        publish(hub, "kontakte", actor="test")
    failed = [c["check"] for c in caught.value.details["checks"] if not c["passed"]]
    assert failed == ["privacy"]
    assert "email found in 20 row(s)" in caught.value.message
    assert "@example.org" not in caught.value.message
    _unpublished(hub, "kontakte")


def test_cli_publish_refuses_and_names_the_privacy_findings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", database_url)
    csv = tmp_path / "kontakte.csv"
    csv.write_text("n;kontakt\n1;anna@example.org\n2;paul@example.org\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(csv), "-d", "kontakte"]).exit_code == 0
    result = runner.invoke(app, ["privacy", "roles", "kontakte", "kontakt=measure", "n=measure"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["publish", "kontakte"])
    assert result.exit_code == 1
    assert "privacy" in result.stderr
    assert "email found in 2 row(s)" in " ".join(result.stderr.split())
    assert "example.org" not in result.stderr


def test_release_request_is_refused_by_the_gate_and_stays_recorded(hub: Hub) -> None:
    steward = user(hub, "stella", "admin")
    add_version(hub, "kontakte", PERSONAL_SQL, accept_proposed=False)
    describe(hub, "kontakte")
    with pytest.raises(CheckFailed) as caught:
        releases.request_release(hub, steward, "kontakte", purpose="Open data", level="partner")
    assert "has no confirmed role" in caught.value.message
    _unpublished(hub, "kontakte")


def test_the_gate_runs_again_when_the_board_completes_a_release(hub: Hub) -> None:
    user(hub, "stella", "admin")
    members = board(hub)
    add_version(hub, "messwerte", "SELECT range AS n, range * 0.5 AS wert FROM range(20)")
    describe(hub, "messwerte")
    info = releases.request_release(
        hub, who(hub, "stella"), "messwerte", purpose="Open data", level="public"
    )
    # After the request, a steward declares a column a direct identifier: no longer publishable.
    confirm_roles(hub, "messwerte", {"wert": "direct_id"}, accept_proposed=False)
    assert not evaluate_version(hub, "messwerte").passed
    questions = list(members.items())
    for question, name in questions[:-1]:
        releases.decide(
            hub,
            who(hub, name),
            info.id,
            question=question,
            approve=True,
            reason="ok",
            checklist=CHECKLIST,
        )
    last_question, last_name = questions[-1]
    with pytest.raises(CheckFailed, match="never published raw"):
        releases.decide(
            hub,
            who(hub, last_name),
            info.id,
            question=last_question,
            approve=True,
            reason="ok",
            checklist=CHECKLIST,
        )
    _unpublished(hub, "messwerte")
