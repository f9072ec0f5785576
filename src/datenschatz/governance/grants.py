"""Grants: a qualified team's scoped, time-limited partner access, and its usage counters.

A grant covers exactly its challenge's datasets plus approved extra requests. It is active
from the team's acceptance of the terms until its end date or an admin's revocation,
whichever comes first. The access policy asks :func:`active_grant_dataset_ids`; the data
services call :func:`count_usage` for partner reads. Who may see, accept, extend or revoke a
grant is decided in :mod:`datenschatz.access.policy`; this module does the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datenschatz.access import policy
from datenschatz.access.policy import Principal, Scope, ensure_scope
from datenschatz.db.governance_release_models import (
    Challenge,
    ExtraDatasetRequest,
    ExtraStatus,
    Grant,
    GrantDataset,
    GrantUsage,
    TeamMember,
)
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, utcnow
from datenschatz.errors import Conflict, InputError, NotFound
from datenschatz.governance import audit
from datenschatz.hub import Hub

GRANT_SCOPE_PREFIX = "grant:"


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def grant_scope(grant_id: int) -> str:
    """The token scope that limits a team member's token to one grant."""
    return f"{GRANT_SCOPE_PREFIX}{grant_id}"


def _scoped_grant_ids(scopes: frozenset[str] | None) -> set[int] | None:
    if not scopes:
        return None
    ids = {
        int(s[len(GRANT_SCOPE_PREFIX) :])
        for s in scopes
        if s.startswith(GRANT_SCOPE_PREFIX) and s[len(GRANT_SCOPE_PREFIX) :].isdigit()
    }
    return ids or None


def _active_grants(
    session: Session, user_id: int, now: datetime, scopes: frozenset[str] | None = None
) -> list[Grant]:
    grants = session.scalars(
        select(Grant)
        .join(TeamMember, TeamMember.team_id == Grant.team_id)
        .where(
            TeamMember.user_id == user_id,
            Grant.accepted_at.is_not(None),
            Grant.revoked_at.is_(None),
        )
    ).all()
    only = _scoped_grant_ids(scopes)
    now = utc(now)
    return [g for g in grants if utc(g.ends_at) > now and (only is None or g.id in only)]


def active_grant_dataset_ids(
    session: Session, user_id: int, now: datetime, *, scopes: frozenset[str] | None = None
) -> set[int]:
    """The datasets ``user_id`` holds an active grant for at ``now``.

    With ``scopes`` naming grants (``grant:N``, a token scoped to a grant), only those count.
    """
    grants = _active_grants(session, user_id, now, scopes)
    if not grants:
        return set()
    return set(
        session.scalars(
            select(GrantDataset.dataset_id).where(GrantDataset.grant_id.in_([g.id for g in grants]))
        )
    )


def is_active(grant: Grant, now: datetime | None = None) -> bool:
    now = utc(now or utcnow())
    return grant.accepted_at is not None and grant.revoked_at is None and utc(grant.ends_at) > now


def count_usage(
    session: Session,
    principal: Principal,
    dataset_id: int,
    *,
    downloads: int = 0,
    rows: int = 0,
    now: datetime | None = None,
) -> int | None:
    """Count one read of ``dataset_id`` against the grant that allows it; the grant's id.

    Cheap: nothing happens for anonymous callers or datasets outside any active grant of the
    caller. One UPDATE, or one INSERT the first time a grant reads a dataset.
    """
    if principal.user_id is None:
        return None
    now = now or utcnow()
    grants = _active_grants(session, principal.user_id, now, principal.scopes)
    if not grants:
        return None
    grant_id = session.scalar(
        select(GrantDataset.grant_id)
        .where(
            GrantDataset.grant_id.in_([g.id for g in grants]),
            GrantDataset.dataset_id == dataset_id,
        )
        .order_by(GrantDataset.grant_id)
        .limit(1)
    )
    if grant_id is None:
        return None
    bump = (
        update(GrantUsage)
        .where(GrantUsage.grant_id == grant_id, GrantUsage.dataset_id == dataset_id)
        .values(
            requests=GrantUsage.requests + 1,
            downloads=GrantUsage.downloads + downloads,
            rows=GrantUsage.rows + rows,
            last_used_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if session.execute(bump).rowcount:  # type: ignore[attr-defined]
        return grant_id
    try:
        with session.begin_nested():
            session.add(
                GrantUsage(
                    grant_id=grant_id,
                    dataset_id=dataset_id,
                    requests=1,
                    downloads=downloads,
                    rows=rows,
                    last_used_at=now,
                )
            )
    except IntegrityError:  # another request inserted the row first
        session.execute(bump)
    return grant_id


def count_partner_read(
    hub: Hub, principal: Principal, slug: str, *, rows: int = 0, downloads: int = 0
) -> None:
    """:func:`count_usage` by slug, for services that hold no session: only partner datasets
    the principal reads under a grant count; everything else costs no query."""
    if not principal.partner_dataset_ids:
        return
    with hub.session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
        if (
            dataset is not None
            and dataset.access_level is AccessLevel.PARTNER
            and dataset.id in principal.partner_dataset_ids
        ):
            count_usage(session, principal, dataset.id, rows=rows, downloads=downloads)


# --- grant life cycle -------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantInfo:
    id: int
    challenge: str
    team_id: int
    datasets: list[str]
    ends_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str
    active: bool
    scope: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "challenge": self.challenge,
            "team_id": self.team_id,
            "datasets": self.datasets,
            "ends_at": self.ends_at.isoformat(),
            "accepted_at": self.accepted_at.isoformat() if self.accepted_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoke_reason": self.revoke_reason,
            "active": self.active,
            "scope": self.scope,
        }


def grant_info(session: Session, grant: Grant) -> GrantInfo:
    challenge = session.get(Challenge, grant.challenge_id)
    assert challenge is not None
    slugs = session.scalars(
        select(Dataset.slug)
        .join(GrantDataset, GrantDataset.dataset_id == Dataset.id)
        .where(GrantDataset.grant_id == grant.id)
        .order_by(Dataset.slug)
    ).all()
    return GrantInfo(
        id=grant.id,
        challenge=challenge.slug,
        team_id=grant.team_id,
        datasets=list(slugs),
        ends_at=utc(grant.ends_at),
        accepted_at=utc(grant.accepted_at) if grant.accepted_at else None,
        revoked_at=utc(grant.revoked_at) if grant.revoked_at else None,
        revoke_reason=grant.revoke_reason,
        active=is_active(grant),
        scope=grant_scope(grant.id),
    )


def get_grant(session: Session, principal: Principal, grant_id: int) -> Grant:
    """The grant, if ``principal`` is on its team, reviews its challenge or is an admin."""
    return policy.ensure_grant(session, principal, grant_id)


def accept_grant(session: Session, principal: Principal, grant_id: int) -> GrantInfo:
    """A team member accepts the challenge's terms: the grant becomes active."""
    user_id = policy.ensure_person(principal)
    grant = policy.ensure_grant(session, principal, grant_id)
    policy.ensure_can_accept_grant(session, principal, grant)
    if grant.revoked_at is not None:
        raise Conflict("The grant was revoked.", grant=grant_id)
    if grant.accepted_at is not None:
        raise Conflict("The terms were already accepted.", grant=grant_id)
    if utc(grant.ends_at) <= utc(utcnow()):
        raise Conflict("The grant has ended.", grant=grant_id)
    grant.accepted_at = utcnow()
    grant.accepted_by = user_id
    audit.record(
        session,
        actor=principal.name,
        action="grant.accept",
        object_type="grant",
        object_id=str(grant.id),
        reason="Terms of use accepted.",
    )
    session.flush()
    return grant_info(session, grant)


def revoke_grant(session: Session, principal: Principal, grant_id: int, reason: str) -> GrantInfo:
    """An admin ends a grant at once."""
    ensure_scope(principal, Scope.WRITE)
    grant = policy.ensure_grant(session, principal, grant_id)
    policy.ensure_can_revoke_grant(principal, grant)
    if not reason.strip():
        raise InputError("Give the reason for the revocation.", parameter="reason")
    if grant.revoked_at is not None:
        raise Conflict("The grant was already revoked.", grant=grant_id)
    grant.revoked_at = utcnow()
    grant.revoked_by = principal.user_id
    grant.revoke_reason = reason.strip()
    audit.record(
        session,
        actor=principal.name,
        action="grant.revoke",
        object_type="grant",
        object_id=str(grant.id),
        reason=grant.revoke_reason,
    )
    session.flush()
    return grant_info(session, grant)


def list_grants(session: Session, principal: Principal) -> list[GrantInfo]:
    """The grants ``principal`` may see: their teams', and those of challenges they review."""
    grants = session.scalars(select(Grant).order_by(Grant.id)).all()
    return [
        grant_info(session, grant)
        for grant in grants
        if policy.can_see_grant(session, principal, grant)
    ]


# --- extra datasets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtraRequestInfo:
    id: int
    grant_id: int
    dataset: str
    why: str
    status: str
    decision_reason: str
    created_at: datetime
    decided_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "grant_id": self.grant_id,
            "dataset": self.dataset,
            "why": self.why,
            "status": self.status,
            "decision_reason": self.decision_reason,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


def _extra_info(session: Session, request: ExtraDatasetRequest) -> ExtraRequestInfo:
    dataset = session.get(Dataset, request.dataset_id)
    assert dataset is not None
    return ExtraRequestInfo(
        id=request.id,
        grant_id=request.grant_id,
        dataset=dataset.slug,
        why=request.why,
        status=request.status.value,
        decision_reason=request.decision_reason,
        created_at=utc(request.created_at),
        decided_at=utc(request.decided_at) if request.decided_at else None,
    )


def grantable_dataset(session: Session, slug: str) -> Dataset:
    """A published public or partner dataset; internal and unpublished ones look absent."""
    dataset = session.scalar(
        select(Dataset).where(
            Dataset.slug == slug,
            Dataset.status == DatasetStatus.PUBLISHED,
            Dataset.access_level.in_([AccessLevel.PUBLIC, AccessLevel.PARTNER]),
        )
    )
    if dataset is None:
        raise NotFound("No such dataset.", dataset=slug)
    return dataset


def request_extra_dataset(
    session: Session, principal: Principal, grant_id: int, slug: str, why: str
) -> ExtraRequestInfo:
    """A team asks for a dataset beyond its challenge's; a reviewer decides it."""
    user_id = policy.ensure_person(principal)
    grant = policy.ensure_grant(session, principal, grant_id)
    policy.ensure_can_request_extra(session, principal, grant)
    if not is_active(grant):
        raise Conflict("The grant is not active.", grant=grant_id)
    if not why.strip():
        raise InputError("Say why the team needs the dataset.", parameter="why")
    dataset = grantable_dataset(session, slug)
    covered = session.get(GrantDataset, (grant.id, dataset.id))
    pending = session.scalar(
        select(ExtraDatasetRequest.id).where(
            ExtraDatasetRequest.grant_id == grant.id,
            ExtraDatasetRequest.dataset_id == dataset.id,
            ExtraDatasetRequest.status == ExtraStatus.PENDING,
        )
    )
    if covered is not None or pending is not None:
        raise Conflict("The grant covers or already asks for this dataset.", dataset=slug)
    request = ExtraDatasetRequest(
        grant_id=grant.id, dataset_id=dataset.id, why=why.strip(), requested_by=user_id
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="grant.extra_request",
        object_type="extra_dataset_request",
        object_id=str(request.id),
        reason=request.why,
        details={"grant": grant.id, "dataset": slug},
    )
    return _extra_info(session, request)


def decide_extra_dataset(
    session: Session, principal: Principal, request_id: int, *, approve: bool, reason: str
) -> ExtraRequestInfo:
    """A reviewer of the challenge (or an admin) decides one extra-dataset request."""
    request = policy.ensure_can_decide_extra(session, principal, request_id)
    grant = session.get(Grant, request.grant_id)
    assert grant is not None
    if request.status is not ExtraStatus.PENDING:
        raise Conflict("The request was already decided.", request=request_id)
    if not reason.strip():
        raise InputError("Give the reason for the decision.", parameter="reason")
    request.status = ExtraStatus.APPROVED if approve else ExtraStatus.REJECTED
    request.decision_reason = reason.strip()
    request.decided_by = principal.user_id
    request.decided_at = utcnow()
    if approve:
        session.add(
            GrantDataset(
                grant_id=grant.id, dataset_id=request.dataset_id, extra_request_id=request.id
            )
        )
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="grant.extra_approve" if approve else "grant.extra_reject",
        object_type="extra_dataset_request",
        object_id=str(request.id),
        reason=request.decision_reason,
        details={"grant": grant.id},
    )
    return _extra_info(session, request)


def list_extra_requests(
    session: Session, principal: Principal, grant_id: int
) -> list[ExtraRequestInfo]:
    grant = policy.ensure_grant(session, principal, grant_id)
    requests = session.scalars(
        select(ExtraDatasetRequest)
        .where(ExtraDatasetRequest.grant_id == grant.id)
        .order_by(ExtraDatasetRequest.id)
    ).all()
    return [_extra_info(session, r) for r in requests]


# --- usage ------------------------------------------------------------------------------------


def grant_usage(session: Session, principal: Principal, grant_id: int) -> dict[str, Any]:
    """A grant's counted reads per dataset, for the challenge's reviewers (and the team)."""
    grant = policy.ensure_grant(session, principal, grant_id)
    rows = session.execute(
        select(Dataset.slug, GrantUsage)
        .join(GrantUsage, GrantUsage.dataset_id == Dataset.id)
        .where(GrantUsage.grant_id == grant.id)
        .order_by(Dataset.slug)
    ).all()
    per_dataset = [
        {
            "dataset": slug,
            "requests": usage.requests,
            "downloads": usage.downloads,
            "rows": usage.rows,
            "last_used_at": utc(usage.last_used_at).isoformat() if usage.last_used_at else None,
        }
        for slug, usage in rows
    ]
    return {
        "grant": grant.id,
        "requests": sum(d["requests"] for d in per_dataset),
        "downloads": sum(d["downloads"] for d in per_dataset),
        "rows": sum(d["rows"] for d in per_dataset),
        "datasets": per_dataset,
    }
