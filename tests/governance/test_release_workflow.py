"""The release workflow: request, recorded checks, the board's three questions, publish."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from datenschatz.access.policy import Principal, ensure_dataset, ensure_version
from datenschatz.catalog.datasets import get_dataset
from datenschatz.db.governance_models import AuditEvent
from datenschatz.db.models import AccessLevel, DatasetStatus
from datenschatz.errors import CheckFailed, Conflict, Forbidden, InputError, NotFound
from datenschatz.governance import audit
from datenschatz.governance.releases import (
    decide,
    list_releases,
    pending_review_dataset_ids,
    release_status,
    request_release,
)
from datenschatz.hub import Hub
from tests.governance.release_builders import CHECKLIST, board, draft, user, who
from tests.helpers import add_version


def _actions(hub: Hub, object_type: str, object_id: str) -> list[str]:
    with hub.session() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
                .order_by(AuditEvent.seq)
            )
        )


def test_three_approvals_publish_at_the_target_level_and_everything_is_recorded(
    hub: Hub,
) -> None:
    draft(hub, "solar")
    steward = user(hub, "stella", "steward", org="stadt")
    members = board(hub)
    info = request_release(hub, steward, "solar", purpose="Solar start-ups", level="partner")
    assert info.status == "pending"
    assert info.checks_passed
    assert {c["check"] for c in info.checks} >= {"store", "quality", "metadata"}
    assert info.missing == ["technical", "political", "ethical"]
    with hub.session() as session:
        assert get_dataset(session, "solar").status is DatasetStatus.IN_REVIEW

    decide(hub, who(hub, members["technical"]), info.id, question="technical", approve=True)
    decide(hub, who(hub, members["political"]), info.id, question="political", approve=True)
    with hub.session() as session:
        assert get_dataset(session, "solar").published_version_id is None
    done = decide(
        hub,
        who(hub, members["ethical"]),
        info.id,
        question="ethical",
        approve=True,
        reason="Fine with the context note.",
        checklist=CHECKLIST,
    )
    assert done.status == "approved"
    assert done.missing == []
    assert [d.decided_by for d in done.decisions] == ["dpo", "owner", "ethics"]
    assert done.decisions[2].checklist == CHECKLIST
    with hub.session() as session:
        dataset = get_dataset(session, "solar")
        assert dataset.status is DatasetStatus.PUBLISHED
        assert dataset.access_level is AccessLevel.PARTNER
        assert dataset.published_version is not None
        assert dataset.published_version.number == 1
        assert audit.verify(session).ok
    assert _actions(hub, "release", str(info.id)) == [
        "release.request",
        "release.approve",
        "release.approve",
        "release.approve",
    ]
    assert _actions(hub, "dataset", "solar")[-1] == "dataset.publish"


def test_the_requester_may_not_approve_their_own_release(hub: Hub) -> None:
    draft(hub)
    user(hub, "both", "steward", org="stadt")
    with hub.session() as session:
        from datenschatz.governance.accounts import add_role, get_user

        add_role(
            session, get_user(session, "both"), "reviewer", reviewer_kind="data_owner", actor="t"
        )
    both = who(hub, "both")
    info = request_release(hub, both, "solar", purpose="p", level="public")
    with pytest.raises(Forbidden, match="Four-eyes"):
        decide(hub, who(hub, "both"), info.id, question="political", approve=True)
    # Rejecting one's own request is allowed: it only stops the release.
    back = decide(
        hub, who(hub, "both"), info.id, question="political", approve=False, reason="Too early."
    )
    assert back.status == "rejected"


def test_a_rejection_returns_the_request_with_its_reason_and_nothing_is_published(
    hub: Hub,
) -> None:
    draft(hub)
    steward = user(hub, "stella", "steward", org="stadt")
    board(hub)
    info = request_release(hub, steward, "solar", purpose="p", level="public")
    decide(hub, who(hub, "dpo"), info.id, question="technical", approve=True)
    with pytest.raises(InputError) as no_reason:
        decide(hub, who(hub, "owner"), info.id, question="political", approve=False)
    assert no_reason.value.details["parameter"] == "reason"
    back = decide(
        hub,
        who(hub, "owner"),
        info.id,
        question="political",
        approve=False,
        reason="The licence is not settled.",
    )
    assert back.status == "rejected"
    assert back.reason == "political: The licence is not settled."
    with hub.session() as session:
        seen = release_status(session, who(hub, "stella"), info.id)
        assert seen.reason == back.reason
        dataset = get_dataset(session, "solar")
        assert dataset.published_version_id is None
        assert dataset.status is DatasetStatus.DRAFT
    with pytest.raises(Conflict):
        decide(
            hub,
            who(hub, "ethics"),
            info.id,
            question="ethical",
            approve=True,
            checklist=CHECKLIST,
        )
    again = request_release(hub, steward, "solar", purpose="p, licence settled", level="public")
    assert again.id != info.id


def test_a_failed_check_returns_the_request_at_once_and_keeps_it_on_record(hub: Hub) -> None:
    draft(hub, "solar")
    with hub.session() as session:
        dataset = get_dataset(session, "solar")
        path = hub.store.path(dataset.versions[0].path)
    path.write_bytes(path.read_bytes() + b"tampered")
    steward = user(hub, "stella", "steward", org="stadt")
    with pytest.raises(CheckFailed) as caught:
        request_release(hub, steward, "solar", purpose="p", level="public")
    release_id = caught.value.details["release"]
    with hub.session() as session:
        info = release_status(session, steward, release_id)
    assert info.status == "rejected"
    assert not info.checks_passed
    assert [c["check"] for c in info.checks if not c["passed"]] == ["store"]
    assert _actions(hub, "release", str(release_id)) == ["release.request", "release.reject"]


def test_each_board_member_answers_only_their_question(hub: Hub) -> None:
    draft(hub)
    steward = user(hub, "stella", "steward", org="stadt")
    board(hub)
    info = request_release(hub, steward, "solar", purpose="p", level="public")
    with pytest.raises(Forbidden, match="ethics reviewer"):
        decide(hub, who(hub, "dpo"), info.id, question="ethical", approve=True)
    with pytest.raises(Forbidden):
        decide(hub, steward, info.id, question="technical", approve=True)
    with pytest.raises(InputError) as bad:
        decide(hub, who(hub, "dpo"), info.id, question="legal", approve=True)
    assert bad.value.details["parameter"] == "question"
    decide(hub, who(hub, "dpo"), info.id, question="technical", approve=True)
    with pytest.raises(Conflict, match="already decided"):
        decide(hub, who(hub, "dpo"), info.id, question="technical", approve=False, reason="x")


def test_the_ethics_approval_needs_the_whole_checklist(hub: Hub) -> None:
    draft(hub)
    steward = user(hub, "stella", "steward", org="stadt")
    board(hub)
    info = request_release(hub, steward, "solar", purpose="p", level="public")
    partial = {k: v for k, v in CHECKLIST.items() if k != "linkage"}
    with pytest.raises(InputError) as caught:
        decide(
            hub, who(hub, "ethics"), info.id, question="ethical", approve=True, checklist=partial
        )
    assert caught.value.details["missing"] == ["linkage"]
    with pytest.raises(InputError):
        decide(
            hub,
            who(hub, "ethics"),
            info.id,
            question="ethical",
            approve=True,
            checklist={**CHECKLIST, "mood": "good"},
        )


def test_the_setting_says_which_decisions_are_needed(hub: Hub) -> None:
    one = Hub(hub.settings.model_copy(update={"release_decisions": "technical"}))
    draft(one)
    steward = user(one, "stella", "steward", org="stadt")
    board(one)
    info = request_release(one, steward, "solar", purpose="p", level="public")
    assert info.required == ["technical"]
    with pytest.raises(InputError):
        decide(one, who(one, "owner"), info.id, question="political", approve=True)
    done = decide(one, who(one, "dpo"), info.id, question="technical", approve=True)
    assert done.status == "approved"
    with one.session() as session:
        assert get_dataset(session, "solar").status is DatasetStatus.PUBLISHED


def test_requests_are_hidden_from_outsiders_and_drafts_visible_to_the_board(hub: Hub) -> None:
    draft(hub)
    draft(hub, "other")
    steward = user(hub, "stella", "steward", org="stadt")
    partner = user(hub, "pia")
    board(hub)
    info = request_release(hub, steward, "solar", purpose="p", level="public")
    with hub.session() as session:
        with pytest.raises(NotFound):
            release_status(session, partner, info.id)
        assert list_releases(session, partner) == []
        assert [r.id for r in list_releases(session, who(hub, "dpo"))] == [info.id]
        assert [r.id for r in list_releases(session, steward, dataset="solar")] == [info.id]
        with pytest.raises(InputError):
            list_releases(session, steward, status="maybe")
        dataset_id = get_dataset(session, "solar").id
        assert pending_review_dataset_ids(session, who(hub, "dpo").user_id or 0) == {dataset_id}
        assert pending_review_dataset_ids(session, partner.user_id or 0) == set()
        # The board sees the draft under review, and its unpublished version; not others.
        assert ensure_dataset(session, who(hub, "dpo"), "solar").slug == "solar"
        assert ensure_version(session, who(hub, "dpo"), "solar", 1).number == 1
        with pytest.raises(NotFound):
            ensure_dataset(session, who(hub, "dpo"), "other")
        with pytest.raises(NotFound):
            ensure_dataset(session, partner, "solar")


def test_only_stewards_of_the_organization_request_and_one_request_at_a_time(hub: Hub) -> None:
    draft(hub)
    add_version(hub, "netz", "SELECT 1 AS id", org="stadtwerke")
    outsider = user(hub, "otto", "steward", org="stadtwerke")
    steward = user(hub, "stella", "steward", org="stadt")
    with pytest.raises(NotFound):
        request_release(hub, outsider, "solar", purpose="p", level="public")
    with pytest.raises(InputError) as bad_level:
        request_release(hub, steward, "solar", purpose="p", level="internal")
    assert bad_level.value.details["parameter"] == "level"
    with pytest.raises(InputError):
        request_release(hub, steward, "solar", purpose="  ", level="public")
    request_release(hub, steward, "solar", purpose="p", level="public")
    with pytest.raises(Conflict, match="pending"):
        request_release(hub, steward, "solar", purpose="p", level="public")


def test_a_request_needs_complete_dcat_metadata_but_an_admin_publish_records_it(
    hub: Hub,
) -> None:
    from datenschatz.services.publish import publish

    add_version(hub, "kahl", "SELECT 1 AS id")
    steward = user(hub, "stella", "steward", org="stadt")
    with pytest.raises(CheckFailed, match="description, contact") as caught:
        request_release(hub, steward, "kahl", purpose="p", level="public")
    failed = [c["check"] for c in caught.value.details["checks"] if not c["passed"]]
    assert failed == ["metadata_complete"]
    publish(hub, "kahl", actor="admin-anna")
    with hub.session() as session:
        latest = list_releases(session, who(hub, "stella"), dataset="kahl")[0]
    advisory = [c for c in latest.checks if c["check"] == "metadata_complete"]
    assert advisory == [
        {
            "check": "metadata_complete",
            "passed": True,
            "advisory": True,
            "reason": "Missing DCAT-AP.de metadata: description, contact",
            "reason_codes": [
                {"code": "dcat_missing", "params": {"fields": ["description", "contact"]}}
            ],
        }
    ]


def test_two_last_approvals_at_once_publish_exactly_once(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    import threading

    from datenschatz.governance import releases

    if hub.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only (SQLite serialises whole transactions)")
    draft(hub)
    steward = user(hub, "stella", "steward", org="stadt")
    board(hub)
    info = request_release(hub, steward, "solar", purpose="p", level="public")
    decide(hub, who(hub, "dpo"), info.id, question="technical", approve=True)
    owner, ethics = who(hub, "owner"), who(hub, "ethics")
    # Hold each decision open until the other has recorded its own (or 2 s have passed):
    # unless deciding is serialised, neither would see the other's approval.
    barrier = threading.Barrier(2)
    record = releases.record_decision

    def record_and_wait(*args: Any, **kwargs: Any) -> None:
        record(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)

    monkeypatch.setattr(releases, "record_decision", record_and_wait)
    errors: list[BaseException] = []

    def answer(principal: Principal, question: str) -> None:
        try:
            decide(
                hub,
                principal,
                info.id,
                question=question,
                approve=True,
                checklist=CHECKLIST if question == "ethical" else None,
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=answer, args=(owner, "political")),
        threading.Thread(target=answer, args=(ethics, "ethical")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with hub.session() as session:
        assert release_status(session, steward, info.id).status == "approved"
    assert _actions(hub, "dataset", "solar").count("dataset.publish") == 1
