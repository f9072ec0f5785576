"""The release workflow: request, automatic checks, the board's decisions, publish, withdraw.

1. A steward of the dataset's organization requests the release of a version, with its
   purpose and target access level (public or partner). The automatic checks of
   :mod:`datenschatz.services.publish` (store, quality, metadata, the privacy gate) run and
   are recorded with the request; a failed check returns the request at once.
2. The board answers the questions the ``release_decisions`` setting names (default all
   three): technical soundness (the data-protection officer: does the privacy report hold?),
   political wish (the data owner: is the release wanted, is the licence right?) and ethics
   (the ethics reviewer, with a checklist). The requester may not approve their own request
   (four-eyes principle). One rejection returns the request with its reason.
3. The last approval re-runs the checks and moves the published pointer and the access level
   in the same transaction as the decision.

Withdrawal keeps every version and request; the dataset's URLs answer 410 Gone with the
reason (:func:`datenschatz.access.policy.ensure_dataset` asks :func:`withdrawal_reason_of`).
Every step is recorded in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.access import policy
from datenschatz.access.policy import Principal, ReviewerKind, Role
from datenschatz.catalog.datasets import get_version
from datenschatz.coded import coded, codes_of
from datenschatz.db.governance_models import Membership
from datenschatz.db.governance_release_models import (
    Question,
    ReleaseDecision,
    ReleaseLevel,
    ReleaseRequest,
    ReleaseStatus,
    Withdrawal,
)
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Version, utcnow
from datenschatz.errors import CheckFailed, Conflict, InputError, NotFound
from datenschatz.governance import audit
from datenschatz.governance.grants import utc
from datenschatz.hub import Hub

# Who answers which question.
QUESTION_KIND = {
    Question.TECHNICAL: ReviewerKind.DATA_PROTECTION_OFFICER,
    Question.POLITICAL: ReviewerKind.DATA_OWNER,
    Question.ETHICAL: ReviewerKind.ETHICS_REVIEWER,
}
# Checks an admin's direct publish records without being stopped by them: DCAT-AP.de
# completeness is the steward's duty before a board sees the request.
ADMIN_ADVISORY = frozenset({"metadata_complete"})
# The ethics checklist: every item needs an answer for an ethical approval.
ETHICS_CHECKLIST = {
    "purpose": "What is the purpose of the release?",
    "harm": "Who could be harmed or misled by it?",
    "context": (
        "What context do users need (e.g. low-cost fine-dust sensors are not reference stations)?"
    ),
    "linkage": "Could the release be combined with other data to harm someone?",
}


def required_questions(setting: str) -> list[Question]:
    """The questions a ``release_decisions`` setting names (comma-separated)."""
    names = [n.strip().lower() for n in setting.split(",") if n.strip()]
    try:
        questions = [Question(n) for n in names]
    except ValueError:
        raise InputError(
            "release_decisions names technical, political and/or ethical.",
            key="release.decisions_param",
            parameter="release_decisions",
        ) from None
    return sorted(set(questions), key=list(Question).index)


# --- read side --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInfo:
    question: str
    approved: bool
    reason: str
    checklist: dict[str, Any]
    decided_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "approved": self.approved,
            "reason": self.reason,
            "checklist": self.checklist,
            "decided_by": self.decided_by,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    dataset: str
    version: int
    purpose: str
    target_level: str
    status: str
    checks: list[dict[str, Any]]
    checks_passed: bool
    required: list[str]
    missing: list[str]
    requested_by: str
    reason: str
    created_at: datetime
    closed_at: datetime | None
    decisions: list[DecisionInfo]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "version": self.version,
            "purpose": self.purpose,
            "target_level": self.target_level,
            "status": self.status,
            "checks": self.checks,
            "checks_passed": self.checks_passed,
            "required": self.required,
            "missing": self.missing,
            "requested_by": self.requested_by,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "decisions": [d.to_dict() for d in self.decisions],
        }


def _info(session: Session, release: ReleaseRequest) -> ReleaseInfo:
    dataset = session.get(Dataset, release.dataset_id)
    version = session.get(Version, release.version_id)
    assert dataset is not None
    assert version is not None
    decisions = session.scalars(
        select(ReleaseDecision)
        .where(ReleaseDecision.release_id == release.id)
        .order_by(ReleaseDecision.id)
    ).all()
    approved = {d.question.value for d in decisions if d.approved}
    return ReleaseInfo(
        id=release.id,
        dataset=dataset.slug,
        version=version.number,
        purpose=release.purpose,
        target_level=release.target_level.value,
        status=release.status.value,
        checks=list(release.checks),
        checks_passed=release.checks_passed,
        required=list(release.required),
        missing=[q for q in release.required if q not in approved],
        requested_by=release.requested_by_name,
        reason=release.reason,
        created_at=utc(release.created_at),
        closed_at=utc(release.closed_at) if release.closed_at else None,
        decisions=[
            DecisionInfo(
                question=d.question.value,
                approved=d.approved,
                reason=d.reason,
                checklist=dict(d.checklist),
                decided_by=d.decided_by_name,
                created_at=utc(d.created_at),
            )
            for d in decisions
        ],
    )


def _get(
    session: Session, principal: Principal, release_id: int, *, lock: bool = False
) -> ReleaseRequest:
    """The request if ``principal`` may see it; ``lock`` serialises concurrent decisions."""
    release = session.get(ReleaseRequest, release_id, with_for_update=lock)
    if release is not None:
        dataset = session.get(Dataset, release.dataset_id)
        if dataset is not None and policy.can_see_release(principal, release, dataset):
            return release
    raise NotFound("No such release request.", key="not_found.release", release=release_id)


def release_status(session: Session, principal: Principal, release_id: int) -> ReleaseInfo:
    return _info(session, _get(session, principal, release_id))


def list_releases(
    session: Session,
    principal: Principal,
    *,
    dataset: str | None = None,
    status: str | None = None,
) -> list[ReleaseInfo]:
    """The release requests ``principal`` may see, newest first, optionally filtered."""
    query = select(ReleaseRequest, Dataset).join(Dataset, Dataset.id == ReleaseRequest.dataset_id)
    if status is not None:
        try:
            query = query.where(ReleaseRequest.status == ReleaseStatus(status))
        except ValueError:
            raise InputError(
                "status is one of " + ", ".join(s.value for s in ReleaseStatus) + ".",
                key="release.status_param",
                parameter="status",
            ) from None
    if dataset is not None:
        query = query.where(Dataset.slug == dataset)
    rows = session.execute(query.order_by(ReleaseRequest.id.desc())).all()
    return [_info(session, r) for r, d in rows if policy.can_see_release(principal, r, d)]


def pending_review_dataset_ids(session: Session, user_id: int) -> set[int]:
    """The datasets with a pending release that ``user_id`` may review (the board sees drafts)."""
    is_reviewer = session.scalar(
        select(Membership.id)
        .where(
            Membership.user_id == user_id,
            Membership.role.in_([Role.REVIEWER, Role.ADMIN]),
        )
        .limit(1)
    )
    if is_reviewer is None:
        return set()
    return set(
        session.scalars(
            select(ReleaseRequest.dataset_id).where(ReleaseRequest.status == ReleaseStatus.PENDING)
        )
    )


def withdrawal_reason_of(session: Session, dataset: Dataset) -> str | None:
    """The reason of the dataset's newest withdrawal (the 410 answer), if any."""
    return session.scalar(
        select(Withdrawal.reason)
        .where(Withdrawal.dataset_id == dataset.id)
        .order_by(Withdrawal.id.desc())
        .limit(1)
    )


if withdrawal_reason_of not in policy.WITHDRAWAL_REASON:
    policy.WITHDRAWAL_REASON.append(withdrawal_reason_of)


# --- write side -------------------------------------------------------------------------------


def _check_dict(check: str, passed: bool, reason: str) -> dict[str, Any]:
    """A recorded check: its English reason and, beside it, the reason's codes (one a sentence).

    ``reason_codes`` is empty where the reason has none (no reason, or one not made with
    :func:`datenschatz.coded.coded`); requests recorded before codes existed have no such key.
    """
    return {"check": check, "passed": passed, "reason": reason, "reason_codes": codes_of(reason)}


def _check_dicts(results: list[Any]) -> list[dict[str, Any]]:
    return [_check_dict(r.check, r.passed, r.reason) for r in results]


def check_metadata_complete(dataset: Dataset) -> dict[str, Any]:
    """The DCAT-AP.de mandatory fields (title, description, licence, contact) are filled."""
    from datenschatz.catalog.metadata import read_metadata

    missing = read_metadata(dataset).missing()
    reason = (
        coded("Missing DCAT-AP.de metadata: " + ", ".join(missing), "dcat_missing", fields=missing)
        if missing
        else ""
    )
    return _check_dict("metadata_complete", not missing, reason)


def check_level_allowed(session: Session, version: Version, level: ReleaseLevel) -> dict[str, Any]:
    """A derived version is released no more openly than its most restricted input."""
    from datenschatz.analysis.lineage import access_cap
    from datenschatz.db.models import AccessLevel

    cap = access_cap(session, version)
    if cap is AccessLevel.PARTNER and level is ReleaseLevel.PUBLIC:
        reason = coded(
            "The version is derived from partner data; it can be released to partners at most, "
            "not to the public.",
            "level_partner_only",
        )
        return _check_dict("level", False, reason)
    return _check_dict("level", True, "")


def _run_checks(
    hub: Hub,
    dataset: Dataset,
    version: Version,
    level: ReleaseLevel,
    *,
    advisory: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Every automatic check of publish.CHECKS, plus metadata completeness and the level cap.

    Checks named in ``advisory`` are recorded but do not block (marked ``advisory``).
    """
    from sqlalchemy.orm import object_session

    from datenschatz.services.publish import run_checks

    checks = [*_check_dicts(run_checks(hub, dataset, version)), check_metadata_complete(dataset)]
    session = object_session(version)
    if session is not None:
        checks.append(check_level_allowed(session, version, level))
    for check in checks:
        if check["check"] in advisory and not check["passed"]:
            check["passed"] = True
            check["advisory"] = True
    return checks


def _check_failed(dataset: Dataset, version: Version, checks: list[dict[str, Any]]) -> CheckFailed:
    return CheckFailed(
        "The version cannot be published: "
        + " ".join(c["reason"] for c in checks if not c["passed"]),
        key="release.check_failed",
        dataset=dataset.slug,
        version=version.number,
        checks=checks,
    )


def open_request(
    hub: Hub,
    session: Session,
    principal: Principal,
    dataset: Dataset,
    version: Version,
    *,
    purpose: str,
    level: ReleaseLevel,
    advisory: frozenset[str] = frozenset(),
) -> tuple[ReleaseRequest, CheckFailed | None]:
    """Record a request with its check results; a failed check returns (rejects) it at once.

    The caller commits the session and then raises the returned CheckFailed, so that the
    returned request stays on record.
    """
    checks = _run_checks(hub, dataset, version, level, advisory=advisory)
    passed = all(c["passed"] for c in checks)
    release = ReleaseRequest(
        dataset_id=dataset.id,
        version_id=version.id,
        purpose=purpose,
        target_level=level,
        status=ReleaseStatus.PENDING if passed else ReleaseStatus.REJECTED,
        checks=checks,
        checks_passed=passed,
        required=[q.value for q in required_questions(hub.settings.release_decisions)],
        requested_by=principal.user_id,
        requested_by_name=principal.name,
        reason="" if passed else "Automatic checks failed.",
        closed_at=None if passed else utcnow(),
    )
    session.add(release)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="release.request",
        object_type="release",
        object_id=str(release.id),
        reason=purpose,
        details={
            "dataset": dataset.slug,
            "version": version.number,
            "level": level.value,
            "checks": [{"check": c["check"], "passed": c["passed"]} for c in checks],
        },
    )
    if not passed:
        audit.record(
            session,
            actor="system",
            action="release.reject",
            object_type="release",
            object_id=str(release.id),
            reason="Automatic checks failed: "
            + ", ".join(c["check"] for c in checks if not c["passed"]),
        )
        return release, _check_failed(dataset, version, checks)
    if dataset.status is DatasetStatus.DRAFT:
        dataset.status = DatasetStatus.IN_REVIEW
    return release, None


def _parse_level(level: str) -> ReleaseLevel:
    try:
        return ReleaseLevel(level)
    except ValueError:
        raise InputError(
            "level is public or partner.", key="release.level_param", parameter="level"
        ) from None


def request_release(
    hub: Hub,
    principal: Principal,
    slug: str,
    *,
    version: int | None = None,
    purpose: str,
    level: str,
) -> ReleaseInfo:
    """A steward (or admin) asks to release ``version`` (default: the newest) of ``slug``.

    Raises CheckFailed when an automatic check fails; the returned request stays recorded.
    """
    target_level = _parse_level(level)
    if not purpose.strip():
        raise InputError(
            "Say what the release is for.", key="release.purpose_missing", parameter="purpose"
        )
    failure: CheckFailed | None = None
    with hub.session() as session:
        dataset = policy.ensure_can_edit(session, principal, slug)
        target = get_version(session, dataset, version)
        pending = session.scalar(
            select(ReleaseRequest.id).where(
                ReleaseRequest.dataset_id == dataset.id,
                ReleaseRequest.status == ReleaseStatus.PENDING,
            )
        )
        if pending is not None:
            raise Conflict(
                "The dataset already has a pending release request.",
                key="release.already_pending",
                dataset=slug,
                release=pending,
            )
        release, failure = open_request(
            hub, session, principal, dataset, target, purpose=purpose.strip(), level=target_level
        )
        info = _info(session, release)
    if failure is not None:
        failure.details["release"] = info.id
        raise failure
    return info


def _parse_question(question: str) -> Question:
    try:
        return Question(question)
    except ValueError:
        raise InputError(
            "question is technical, political or ethical.",
            key="release.question_param",
            parameter="question",
        ) from None


def _checklist(answers: dict[str, Any] | None) -> dict[str, str]:
    answers = answers or {}
    unknown = sorted(set(answers) - set(ETHICS_CHECKLIST))
    if unknown:
        raise InputError(
            f"Unknown checklist item {unknown[0]!r}; items: {', '.join(ETHICS_CHECKLIST)}.",
            key="release.checklist_unknown",
            parameter="checklist",
        )
    return {k: str(v).strip() for k, v in answers.items() if str(v).strip()}


def _move_pointer(dataset: Dataset, version: Version, level: ReleaseLevel) -> None:
    dataset.published_version_id = version.id
    if version.published_at is None:
        version.published_at = utcnow()
    dataset.status = DatasetStatus.PUBLISHED
    dataset.access_level = AccessLevel(level.value)


def record_decision(
    session: Session,
    principal: Principal,
    release: ReleaseRequest,
    question: Question,
    *,
    approve: bool,
    reason: str,
    checklist: dict[str, str],
) -> None:
    session.add(
        ReleaseDecision(
            release_id=release.id,
            question=question,
            approved=approve,
            reason=reason,
            checklist=checklist,
            decided_by=principal.user_id,
            decided_by_name=principal.name,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="release.approve" if approve else "release.reject",
        object_type="release",
        object_id=str(release.id),
        reason=reason,
        details={"question": question.value, "checklist": sorted(checklist)},
    )


def complete(
    hub: Hub, session: Session, principal: Principal, release: ReleaseRequest
) -> CheckFailed | None:
    """Publish an approved request: re-run the checks, then move the pointer (one transaction)."""
    dataset = session.get(Dataset, release.dataset_id)
    version = session.get(Version, release.version_id)
    assert dataset is not None
    assert version is not None
    advisory = frozenset(c["check"] for c in release.checks if c.get("advisory"))
    checks = _run_checks(hub, dataset, version, release.target_level, advisory=advisory)
    release.checks = checks
    release.closed_at = utcnow()
    if not all(c["passed"] for c in checks):
        release.checks_passed = False
        release.status = ReleaseStatus.REJECTED
        release.reason = "Automatic checks failed at approval."
        audit.record(
            session,
            actor="system",
            action="release.reject",
            object_type="release",
            object_id=str(release.id),
            reason=release.reason,
        )
        return _check_failed(dataset, version, checks)
    release.status = ReleaseStatus.APPROVED
    _move_pointer(dataset, version, release.target_level)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="dataset.publish",
        object_type="dataset",
        object_id=dataset.slug,
        reason=release.purpose,
        details={
            "release": release.id,
            "version": version.number,
            "level": release.target_level.value,
        },
    )
    return None


def decide(
    hub: Hub,
    principal: Principal,
    release_id: int,
    *,
    question: str,
    approve: bool,
    reason: str = "",
    checklist: dict[str, Any] | None = None,
) -> ReleaseInfo:
    """One board member answers one question of a pending request.

    A rejection returns the request with its reason; the last needed approval publishes.
    """
    asked = _parse_question(question)
    reason = reason.strip()
    failure: CheckFailed | None = None
    with hub.session() as session:
        # Locked, so that two last approvals arriving together cannot both miss the other.
        release = _get(session, principal, release_id, lock=True)
        policy.ensure_can_decide_release(principal, QUESTION_KIND[asked], asked.value)
        if release.status is not ReleaseStatus.PENDING:
            raise Conflict(
                f"The release request is {release.status.value}, not pending.",
                key="release.not_pending",
                release=release_id,
            )
        if asked.value not in release.required:
            raise InputError(
                f"This release does not need the {asked.value} decision.",
                key="release.decision_not_needed",
                parameter="question",
            )
        if approve:
            policy.ensure_not_own_release(principal, release)
        done = session.scalar(
            select(ReleaseDecision.id).where(
                ReleaseDecision.release_id == release.id, ReleaseDecision.question == asked
            )
        )
        if done is not None:
            raise Conflict(
                f"The {asked.value} question is already decided.",
                key="release.already_decided",
                release=release_id,
            )
        answers = _checklist(checklist)
        if not approve and not reason:
            raise InputError(
                "A rejection needs its reason.", key="release.reason_missing", parameter="reason"
            )
        if approve and asked is Question.ETHICAL:
            missing = [k for k in ETHICS_CHECKLIST if k not in answers]
            if missing:
                raise InputError(
                    "The ethics checklist needs an answer for: " + ", ".join(missing) + ".",
                    key="release.checklist_incomplete",
                    parameter="checklist",
                    missing=missing,
                )
        record_decision(
            session, principal, release, asked, approve=approve, reason=reason, checklist=answers
        )
        if not approve:
            release.status = ReleaseStatus.REJECTED
            release.reason = f"{asked.value}: {reason}"
            release.closed_at = utcnow()
            _back_to_draft(session, release)
        elif not _info(session, release).missing:
            failure = complete(hub, session, principal, release)
            if failure is not None:
                _back_to_draft(session, release)
        session.flush()
        info = _info(session, release)
    if failure is not None:
        failure.details["release"] = info.id
        raise failure
    return info


def _back_to_draft(session: Session, release: ReleaseRequest) -> None:
    dataset = session.get(Dataset, release.dataset_id)
    if dataset is not None and dataset.status is DatasetStatus.IN_REVIEW:
        dataset.status = DatasetStatus.DRAFT


def cancel(hub: Hub, principal: Principal, release_id: int, reason: str = "") -> ReleaseInfo:
    """The requester, a steward of the organization or an admin takes back a pending request."""
    with hub.session() as session:
        release = _get(session, principal, release_id)
        dataset = session.get(Dataset, release.dataset_id)
        assert dataset is not None
        policy.ensure_can_edit(session, principal, dataset.slug)
        if release.status is not ReleaseStatus.PENDING:
            raise Conflict(
                f"The release request is {release.status.value}, not pending.",
                key="release.not_pending",
                release=release_id,
            )
        release.status = ReleaseStatus.CANCELLED
        release.reason = reason.strip()
        release.closed_at = utcnow()
        _back_to_draft(session, release)
        audit.record(
            session,
            actor=principal.name,
            action="release.cancel",
            object_type="release",
            object_id=str(release.id),
            reason=release.reason,
        )
        session.flush()
        return _info(session, release)


def withdraw(hub: Hub, principal: Principal, slug: str, *, reason: str) -> dict[str, Any]:
    """Take a published dataset off publication; its URLs answer 410 Gone with ``reason``.

    Versions, release requests and decisions stay; a new release request can publish again.
    """
    reason = reason.strip()
    if not reason:
        raise InputError(
            "A withdrawal needs its public reason.",
            key="release.withdraw_reason_missing",
            parameter="reason",
        )
    with hub.session() as session:
        dataset = policy.ensure_can_edit(session, principal, slug)
        if dataset.status is not DatasetStatus.PUBLISHED:
            raise Conflict(
                f"Only a published dataset can be withdrawn; this one is {dataset.status.value}.",
                key="release.withdraw_unpublished",
                dataset=slug,
            )
        version = dataset.published_version
        withdrawal = Withdrawal(
            dataset_id=dataset.id,
            version_id=dataset.published_version_id,
            reason=reason,
            withdrawn_by=principal.user_id,
            withdrawn_by_name=principal.name,
        )
        session.add(withdrawal)
        dataset.status = DatasetStatus.WITHDRAWN
        dataset.published_version_id = None
        # A pending request must not quietly publish the dataset again: it is taken back.
        pending = session.scalars(
            select(ReleaseRequest).where(
                ReleaseRequest.dataset_id == dataset.id,
                ReleaseRequest.status == ReleaseStatus.PENDING,
            )
        ).all()
        for release in pending:
            release.status = ReleaseStatus.CANCELLED
            release.reason = "The dataset was withdrawn."
            release.closed_at = utcnow()
            audit.record(
                session,
                actor=principal.name,
                action="release.cancel",
                object_type="release",
                object_id=str(release.id),
                reason=release.reason,
            )
        session.flush()
        audit.record(
            session,
            actor=principal.name,
            action="dataset.withdraw",
            object_type="dataset",
            object_id=slug,
            reason=reason,
            details={"version": version.number if version else None},
        )
        return {
            "dataset": slug,
            "status": DatasetStatus.WITHDRAWN.value,
            "version": version.number if version else None,
            "reason": reason,
            "withdrawn_at": utc(withdrawal.created_at).isoformat(),
        }
