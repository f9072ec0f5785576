"""Builders for the release-workflow and challenge tests: users with roles, principals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from datenschatz.access.policy import Principal
from datenschatz.db.models import utcnow
from datenschatz.governance.accounts import create_user, get_user, principal_for_user
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.helpers import add_version

CHECKLIST = {
    "purpose": "Let start-ups plan solar roofs.",
    "harm": "Nobody: values are per building block.",
    "context": "Low-cost sensors are not reference stations.",
    "linkage": "Blocks of at least 5 households; no linkage found.",
}


def user(hub: Hub, name: str, role: str | None = None, **kw: Any) -> Principal:
    """Create ``name`` with ``role`` (``org=`` for stewards, ``reviewer_kind=`` for reviewers)."""
    with hub.session() as session:
        create_user(session, name, role=role, actor="test", **kw)
    return who(hub, name)


def who(hub: Hub, name: str) -> Principal:
    """The current principal of ``name`` (grants and reviews as of now)."""
    with hub.session() as session:
        return principal_for_user(session, get_user(session, name).id)


def board(hub: Hub) -> dict[str, str]:
    """The three board members, by question answered."""
    user(hub, "dpo", "reviewer", reviewer_kind="data_protection_officer")
    user(hub, "owner", "reviewer", reviewer_kind="data_owner")
    user(hub, "ethics", "reviewer", reviewer_kind="ethics_reviewer")
    return {"technical": "dpo", "political": "owner", "ethical": "ethics"}


def describe(hub: Hub, slug: str) -> None:
    """Fill the DCAT-AP.de mandatory metadata a release request checks."""
    from datenschatz.catalog.datasets import get_dataset
    from datenschatz.catalog.metadata import apply_metadata

    with hub.session() as session:
        apply_metadata(
            session,
            get_dataset(session, slug),
            {
                "description": "Test data of the city.",
                "contact": {"name": "Open-Data-Team", "url": "https://example.org/kontakt"},
            },
            actor="test",
        )


def draft(hub: Hub, slug: str = "solar", sql: str = "SELECT 1 AS id, 2.5 AS kwh") -> None:
    add_version(hub, slug, sql)
    describe(hub, slug)


def published(hub: Hub, slug: str, sql: str = "SELECT 1 AS id, 2.5 AS kwh") -> None:
    draft(hub, slug, sql)
    publish(hub, slug, actor="test")


def days(n: float) -> Any:
    return utcnow() + timedelta(days=n)


def partner_dataset(hub: Hub, slug: str, sql: str = "SELECT 1 AS id, 7 AS kw") -> None:
    """A published dataset at the partner level."""
    from datenschatz.catalog.datasets import get_dataset
    from datenschatz.db.models import AccessLevel

    published(hub, slug, sql)
    with hub.session() as session:
        get_dataset(session, slug).access_level = AccessLevel.PARTNER


def bearer(hub: Hub, name: str, *scopes: str) -> dict[str, str]:
    """An Authorization header with a fresh token of ``name`` (default scopes read, write)."""
    from datenschatz.governance.tokens import create_token

    with hub.session() as session:
        issued = create_token(
            session, get_user(session, name), scopes=scopes or ("read", "write"), actor="test"
        )
    return {"Authorization": f"Bearer {issued.secret}"}


def granted(hub: Hub, datasets: list[str], member: str = "tom") -> int:
    """A published challenge over ``datasets`` whose team (``member``) holds an active grant."""
    from datenschatz.governance import challenges, grants

    admin = user(hub, "anna", "admin")
    reviewer = user(hub, "rita", "reviewer", reviewer_kind="data_owner")
    team_member = user(hub, member)
    with hub.session() as session:
        challenges.create_challenge(
            session,
            admin,
            slug="klima",
            title="Klima",
            question="q",
            terms="t",
            datasets=datasets,
            criteria=[{"name": "impact", "weight": 1}],
            applications_close_at=days(10),
            access_ends_at=days(60),
        )
        challenges.publish_challenge(session, admin, "klima")
        challenges.register_team(session, team_member, "Team")
        app_id = challenges.apply(
            session,
            team_member,
            "klima",
            team="Team",
            proposal="p",
            data_needs=[{"dataset": datasets[0], "why": "w"}],
        ).id
        challenges.score_application(session, reviewer, app_id, {"impact": 5})
        grant_id = challenges.decide_application(
            session, reviewer, app_id, qualify=True, reason="ok"
        ).grant_id
        assert grant_id is not None
        grants.accept_grant(session, team_member, grant_id)
    return grant_id
