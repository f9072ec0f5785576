"""Data challenges end to end on the service layer: apply, score, qualify, grant, use, submit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from datenschatz.access.policy import ANONYMOUS, Principal, ensure_dataset
from datenschatz.catalog.datasets import get_dataset
from datenschatz.db.governance_models import AuditEvent
from datenschatz.errors import Conflict, Forbidden, InputError, NotFound
from datenschatz.governance import audit, challenges, grants
from datenschatz.hub import Hub
from tests.governance.release_builders import days, partner_dataset, published, user, who

CRITERIA = [
    {"name": "impact", "weight": 2, "description": "Less fine dust"},
    {"name": "feasibility", "weight": 1},
]


def _challenge(hub: Hub, admin: Principal, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "slug": "klima",
        "title": "Klimadaten-Challenge",
        "question": "Where do solar roofs relieve the grid most?",
        "background": "The grid areas differ in spare capacity.",
        "terms": "Use the data for the challenge only; no re-identification.",
        "datasets": ["netz", "luft"],
        "criteria": CRITERIA,
        "applications_close_at": days(10),
        "access_ends_at": days(60),
        "demo_day_at": days(70),
    }
    fields.update(overrides)
    with hub.session() as session:
        challenges.create_challenge(session, admin, **fields)
        challenges.publish_challenge(session, admin, fields["slug"])


def _setup(hub: Hub) -> dict[str, Principal]:
    partner_dataset(hub, "netz")
    partner_dataset(hub, "waerme")
    published(hub, "luft")
    people = {
        "anna": user(hub, "anna", "admin"),
        "rita": user(hub, "rita", "reviewer", reviewer_kind="data_owner"),
        "tom": user(hub, "tom"),
        "tina": user(hub, "tina"),
        "otto": user(hub, "otto"),
    }
    _challenge(hub, people["anna"])
    with hub.session() as session:
        challenges.register_team(session, people["tom"], "Sonnenkinder", ["tina"])
    return people


def _apply(hub: Hub, tom: Principal) -> int:
    with hub.session() as session:
        return challenges.apply(
            session,
            tom,
            "klima",
            team="Sonnenkinder",
            proposal="A roof planner for grid areas.",
            data_needs=[{"dataset": "netz", "why": "spare capacity per area"}],
        ).id


def _ids(hub: Hub, *slugs: str) -> set[int]:
    with hub.session() as session:
        return {get_dataset(session, s).id for s in slugs}


def test_a_qualified_team_gets_exactly_the_challenge_data_once_it_accepts(hub: Hub) -> None:
    p = _setup(hub)
    app_id = _apply(hub, p["tom"])
    with hub.session() as session:
        scored = challenges.score_application(
            session, p["rita"], app_id, {"impact": 8, "feasibility": 5}, "good"
        )
        assert scored.mean_score == 7.0  # (8*2 + 5*1) / 3
        decided = challenges.decide_application(
            session, p["rita"], app_id, qualify=True, reason="Strong, feasible proposal."
        )
    assert decided.status == "qualified"
    assert decided.grant_id is not None
    grant_id = decided.grant_id
    # Not active before the team accepts the terms.
    assert who(hub, "tina").partner_dataset_ids == frozenset()
    with hub.session() as session:
        with pytest.raises(Forbidden):  # a reviewer does not accept for the team
            grants.accept_grant(session, p["rita"], grant_id)
        with pytest.raises(NotFound):  # an outsider does not even see the grant
            grants.accept_grant(session, p["otto"], grant_id)
        info = grants.accept_grant(session, who(hub, "tina"), grant_id)
    assert info.active
    assert info.datasets == ["luft", "netz"]
    assert who(hub, "tina").partner_dataset_ids == _ids(hub, "luft", "netz")
    with hub.session() as session:
        assert ensure_dataset(session, who(hub, "tom"), "netz").slug == "netz"
        with pytest.raises(NotFound):
            ensure_dataset(session, who(hub, "tom"), "waerme")
        with pytest.raises(NotFound):
            ensure_dataset(session, ANONYMOUS, "netz")
        with pytest.raises(NotFound):
            ensure_dataset(session, who(hub, "otto"), "netz")
        # The team reads the decision and its reason, not the reviewers' scores.
        seen = challenges.get_application(session, who(hub, "tina"), app_id).to_dict()
        assert seen["decision_reason"] == "Strong, feasible proposal."
        assert "scores" not in seen
        with pytest.raises(NotFound):
            challenges.get_application(session, p["otto"], app_id)
        assert audit.verify(session).ok
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "challenge.create",
        "challenge.publish",
        "team.register",
        "challenge.apply",
        "application.score",
        "application.qualify",
        "grant.create",
        "grant.accept",
    } <= actions


def test_access_ends_at_the_end_date_and_at_once_on_revocation(hub: Hub) -> None:
    partner_dataset(hub, "netz")
    published(hub, "luft")
    anna = user(hub, "anna", "admin")
    rita = user(hub, "rita", "reviewer", reviewer_kind="data_owner")
    tom = user(hub, "tom")
    _challenge(hub, anna, applications_close_at=days(1), access_ends_at=days(2))
    with hub.session() as session:
        challenges.register_team(session, tom, "Sonnenkinder")
    app_id = _apply(hub, tom)
    with hub.session() as session:
        challenges.score_application(session, rita, app_id, {"impact": 5, "feasibility": 5})
        grant_id = challenges.decide_application(
            session, rita, app_id, qualify=True, reason="ok"
        ).grant_id
        assert grant_id is not None
        grants.accept_grant(session, who(hub, "tom"), grant_id)
    tom_id = who(hub, "tom").user_id or 0
    with hub.session() as session:
        assert grants.active_grant_dataset_ids(session, tom_id, days(1.5)) == _ids(
            hub, "netz", "luft"
        )
        assert grants.active_grant_dataset_ids(session, tom_id, days(2.5)) == set()
        # A token scoped to another grant reaches none of this grant's data.
        assert (
            grants.active_grant_dataset_ids(
                session, tom_id, days(1), scopes=frozenset({"read", "grant:999"})
            )
            == set()
        )
        assert grants.active_grant_dataset_ids(
            session, tom_id, days(1), scopes=frozenset({"read", grants.grant_scope(grant_id)})
        ) == _ids(hub, "netz", "luft")
        with pytest.raises(Forbidden):
            grants.revoke_grant(session, rita, grant_id, "no")
        with pytest.raises(InputError):
            grants.revoke_grant(session, anna, grant_id, " ")
        revoked = grants.revoke_grant(session, anna, grant_id, "Terms broken.")
    assert not revoked.active
    assert who(hub, "tom").partner_dataset_ids == frozenset()


def test_a_rejected_team_reads_the_reason_and_gets_no_grant(hub: Hub) -> None:
    p = _setup(hub)
    app_id = _apply(hub, p["tom"])
    with hub.session() as session:
        with pytest.raises(Conflict, match="Score"):
            challenges.decide_application(session, p["rita"], app_id, qualify=True, reason="x")
        with pytest.raises(Forbidden):
            challenges.decide_application(session, p["tom"], app_id, qualify=True, reason="x")
        with pytest.raises(InputError):
            challenges.decide_application(session, p["rita"], app_id, qualify=False, reason="")
        challenges.decide_application(
            session, p["rita"], app_id, qualify=False, reason="Outside the question."
        )
        seen = challenges.get_application(session, p["tom"], app_id)
        assert (seen.status, seen.decision_reason, seen.grant_id) == (
            "rejected",
            "Outside the question.",
            None,
        )
        with pytest.raises(Conflict):
            _apply(hub, p["tom"])


def test_scores_need_every_criterion_in_range(hub: Hub) -> None:
    p = _setup(hub)
    app_id = _apply(hub, p["tom"])
    with hub.session() as session:
        for bad in (
            {"impact": 8},
            {"impact": 11, "feasibility": 1},
            {"impact": 1, "feasibility": 1, "style": 1},
        ):
            with pytest.raises(InputError):
                challenges.score_application(session, p["rita"], app_id, bad)
        with pytest.raises(Forbidden):
            challenges.score_application(session, p["tom"], app_id, {"impact": 1, "feasibility": 1})


def test_named_reviewers_alone_review_their_challenge(hub: Hub) -> None:
    partner_dataset(hub, "netz")
    published(hub, "luft")
    anna = user(hub, "anna", "admin")
    user(hub, "rita", "reviewer", reviewer_kind="data_owner")
    rolf = user(hub, "rolf", "reviewer", reviewer_kind="ethics_reviewer")
    tom = user(hub, "tom")
    _challenge(hub, anna, reviewers=["rita"])
    with hub.session() as session:
        challenges.register_team(session, tom, "Sonnenkinder")
    app_id = _apply(hub, tom)
    with hub.session() as session:
        with pytest.raises(NotFound):
            challenges.score_application(session, rolf, app_id, {"impact": 1, "feasibility": 1})
        assert challenges.list_applications(session, rolf, "klima") == []
        assert len(challenges.list_applications(session, who(hub, "rita"), "klima")) == 1


def test_drafts_are_hidden_and_challenges_need_valid_fields(hub: Hub) -> None:
    partner_dataset(hub, "netz")
    anna = user(hub, "anna", "admin")
    tom = user(hub, "tom")
    with hub.session() as session:
        challenges.create_challenge(
            session,
            anna,
            slug="entwurf",
            title="t",
            question="q",
            terms="t",
            datasets=["netz"],
            criteria=CRITERIA,
            applications_close_at=days(1),
            access_ends_at=days(2),
        )
        with pytest.raises(NotFound):
            challenges.get_challenge(session, tom, "entwurf")
        assert challenges.list_challenges(session, ANONYMOUS) == []
        with pytest.raises(Forbidden):
            challenges.publish_challenge(session, tom, "entwurf")
        base: dict[str, Any] = {
            "slug": "neu",
            "title": "t",
            "question": "q",
            "terms": "t",
            "datasets": ["netz"],
            "criteria": CRITERIA,
            "applications_close_at": days(1),
            "access_ends_at": days(2),
        }
        for change, parameter in (
            ({"access_ends_at": days(0.5)}, "access_ends_at"),
            ({"criteria": [{"name": "a", "weight": 0}]}, "criteria.0.weight"),
            ({"criteria": []}, "criteria"),
            ({"terms": " "}, "terms"),
        ):
            with pytest.raises(InputError) as caught:
                challenges.create_challenge(session, anna, **{**base, **change})
            assert caught.value.details["parameter"] == parameter
        with pytest.raises(NotFound):
            challenges.create_challenge(session, anna, **{**base, "datasets": ["geheim"]})


def test_usage_is_counted_per_grant_and_shown_to_the_reviewers(hub: Hub) -> None:
    p = _setup(hub)
    app_id = _apply(hub, p["tom"])
    with hub.session() as session:
        challenges.score_application(session, p["rita"], app_id, {"impact": 5, "feasibility": 5})
        grant_id = challenges.decide_application(
            session, p["rita"], app_id, qualify=True, reason="ok"
        ).grant_id
        assert grant_id is not None
        grants.accept_grant(session, p["tom"], grant_id)
    netz = _ids(hub, "netz").pop()
    tom = who(hub, "tom")
    with hub.session() as session:
        assert grants.count_usage(session, tom, netz, rows=10) == grant_id
        assert grants.count_usage(session, tom, netz, downloads=1, rows=5) == grant_id
        assert grants.count_usage(session, who(hub, "otto"), netz) is None
        assert grants.count_usage(session, ANONYMOUS, netz) is None
    with hub.session() as session:
        usage = grants.grant_usage(session, p["rita"], grant_id)
        assert (usage["requests"], usage["downloads"], usage["rows"]) == (2, 1, 15)
        listed = challenges.list_applications(session, p["rita"], "klima")
        assert listed[0].usage == {"requests": 2, "downloads": 1, "rows": 15}
        assert "usage" not in challenges.get_application(session, p["tom"], app_id).to_dict()
        assert usage["datasets"][0]["dataset"] == "netz"
        with pytest.raises(NotFound):
            grants.grant_usage(session, p["otto"], grant_id)


def test_extra_datasets_are_each_a_recorded_decision(hub: Hub) -> None:
    p = _setup(hub)
    app_id = _apply(hub, p["tom"])
    with hub.session() as session:
        challenges.score_application(session, p["rita"], app_id, {"impact": 5, "feasibility": 5})
        grant_id = challenges.decide_application(
            session, p["rita"], app_id, qualify=True, reason="ok"
        ).grant_id
        assert grant_id is not None
        with pytest.raises(Conflict):  # not active yet
            grants.request_extra_dataset(session, p["tom"], grant_id, "waerme", "heat demand")
        grants.accept_grant(session, p["tom"], grant_id)
        with pytest.raises(Conflict):  # already covered
            grants.request_extra_dataset(session, p["tom"], grant_id, "netz", "again")
        request = grants.request_extra_dataset(
            session, p["tom"], grant_id, "waerme", "heat demand per block"
        )
        with pytest.raises(Forbidden):
            grants.decide_extra_dataset(session, p["tom"], request.id, approve=True, reason="self")
        decided = grants.decide_extra_dataset(
            session, p["rita"], request.id, approve=True, reason="Within the programme."
        )
        assert decided.status == "approved"
    assert _ids(hub, "waerme") <= who(hub, "tom").partner_dataset_ids
    with hub.session() as session:
        listed = grants.list_extra_requests(session, p["tom"], grant_id)
        assert [(r.dataset, r.status, r.decision_reason) for r in listed] == [
            ("waerme", "approved", "Within the programme.")
        ]
        actions = list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.object_type == "extra_dataset_request")
            )
        )
        assert actions == ["grant.extra_request", "grant.extra_approve"]


def test_qualified_teams_submit_results_for_the_demo_day(hub: Hub) -> None:
    p = _setup(hub)
    app_id = _apply(hub, p["tom"])
    with hub.session() as session:
        with pytest.raises(Forbidden):
            challenges.submit_result(
                session, p["tom"], "klima", team="Sonnenkinder", title="x", text="y"
            )
        challenges.score_application(session, p["rita"], app_id, {"impact": 5, "feasibility": 5})
        challenges.decide_application(session, p["rita"], app_id, qualify=True, reason="ok")
        with pytest.raises(InputError):
            challenges.submit_result(
                session, p["tom"], "klima", team="Sonnenkinder", title="x", links=["ftp://x"]
            )
        sub = challenges.submit_result(
            session,
            p["tina"],
            "klima",
            team="Sonnenkinder",
            title="Dachplaner",
            text="Roof planner prototype.",
            links=["https://example.org/dachplaner"],
        )
        assert sub.team == "Sonnenkinder"
        assert [s.id for s in challenges.list_submissions(session, p["rita"], "klima")] == [sub.id]
        assert challenges.list_submissions(session, p["otto"], "klima") == []
