"""`publish` is an admin's way through the release workflow, with every check and record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datenschatz.db.governance_models import AuditEvent
from datenschatz.db.governance_release_models import ReleaseDecision, ReleaseRequest
from datenschatz.errors import CheckFailed
from datenschatz.governance import audit
from datenschatz.hub import Hub
from datenschatz.services import publish as publishing
from datenschatz.services.publish import CheckResult, publish
from tests.governance.release_builders import draft


def test_publish_records_a_request_and_the_admin_as_decider_of_every_question(hub: Hub) -> None:
    draft(hub)
    publish(hub, "solar", actor="admin-anna")
    with hub.session() as session:
        request = session.scalars(select(ReleaseRequest)).one()
        assert request.status.value == "approved"
        assert request.requested_by_name == "admin-anna"
        assert request.checks_passed
        decisions = session.scalars(select(ReleaseDecision)).all()
        assert sorted(d.question.value for d in decisions) == ["ethical", "political", "technical"]
        assert {d.decided_by_name for d in decisions} == {"admin-anna"}
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor == "admin-anna")
        ).all()
        assert actions.count("release.approve") == 3
        assert actions[0] == "release.request"
        assert actions[-1] == "dataset.publish"
        assert audit.verify(session).ok


def test_publish_runs_every_check_in_the_list_and_records_the_refusal(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def privacy_gate(_hub: object, _dataset: object, _version: object) -> CheckResult:
        return CheckResult("privacy", False, "Column name holds personal names.")

    monkeypatch.setattr(publishing, "CHECKS", [*publishing.CHECKS, privacy_gate])
    draft(hub)
    with pytest.raises(CheckFailed, match="personal names") as caught:
        publish(hub, "solar", actor="admin-anna")
    assert [c["check"] for c in caught.value.details["checks"] if not c["passed"]] == ["privacy"]
    with hub.session() as session:
        request = session.scalars(select(ReleaseRequest)).one()
        assert request.status.value == "rejected"
        assert session.scalars(select(ReleaseDecision)).all() == []
        from datenschatz.catalog.datasets import get_dataset

        assert get_dataset(session, "solar").published_version_id is None
