"""Data challenges: the city's start-up programme.

The city (an admin) publishes a challenge: a question and its background, the public and
partner datasets involved, weighted qualification criteria, dates and terms of use. Signed-in
users register teams and apply. The challenge's reviewers score each application against the
criteria and qualify or reject it with a reason the team can read. Qualifying creates a grant
(:mod:`datenschatz.governance.grants`) for exactly the challenge's datasets until the
challenge's access end date, active once the team accepts the terms. Teams submit their
results (text and links) for the demo day. Every decision goes into the audit log. Who may
do and see what is decided in :mod:`datenschatz.access.policy`; this module does the work.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datenschatz.access import policy
from datenschatz.access.policy import Principal
from datenschatz.catalog.datasets import check_slug
from datenschatz.db.governance_models import User
from datenschatz.db.governance_release_models import (
    Application,
    ApplicationScore,
    ApplicationStatus,
    Challenge,
    ChallengeDataset,
    ChallengeStatus,
    Grant,
    GrantDataset,
    GrantUsage,
    Submission,
    Team,
    TeamMember,
)
from datenschatz.db.models import Dataset, DatasetStatus, utcnow
from datenschatz.errors import Conflict, InputError, NotFound
from datenschatz.governance import audit
from datenschatz.governance.grants import grantable_dataset, utc

SCORE_MAX = 10.0
_URL = re.compile(r"^https?://[^\s]+$")


# --- challenges -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeInfo:
    slug: str
    title: str
    question: str
    background: str
    datasets: list[dict[str, str]]
    criteria: list[dict[str, Any]]
    terms: str
    status: str
    applications_close_at: datetime
    access_ends_at: datetime
    demo_day_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "question": self.question,
            "background": self.background,
            "datasets": self.datasets,
            "criteria": self.criteria,
            "terms": self.terms,
            "status": self.status,
            "applications_close_at": self.applications_close_at.isoformat(),
            "access_ends_at": self.access_ends_at.isoformat(),
            "demo_day_at": self.demo_day_at.isoformat() if self.demo_day_at else None,
        }


def _challenge_info(session: Session, challenge: Challenge) -> ChallengeInfo:
    rows = session.execute(
        select(Dataset.slug, Dataset.title, Dataset.access_level)
        .join(ChallengeDataset, ChallengeDataset.dataset_id == Dataset.id)
        .where(
            ChallengeDataset.challenge_id == challenge.id,
            Dataset.status == DatasetStatus.PUBLISHED,
        )
        .order_by(Dataset.slug)
    ).all()
    return ChallengeInfo(
        slug=challenge.slug,
        title=challenge.title,
        question=challenge.question,
        background=challenge.background,
        datasets=[
            {"slug": slug, "title": title, "access_level": level.value}
            for slug, title, level in rows
        ],
        criteria=list(challenge.criteria),
        terms=challenge.terms,
        status=challenge.status.value,
        applications_close_at=utc(challenge.applications_close_at),
        access_ends_at=utc(challenge.access_ends_at),
        demo_day_at=utc(challenge.demo_day_at) if challenge.demo_day_at else None,
    )


def _criteria(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not raw:
        raise InputError("A challenge needs at least one criterion.", parameter="criteria")
    criteria: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        name = str(item.get("name", "")).strip()
        try:
            weight = float(item.get("weight", 1))
        except (TypeError, ValueError):
            weight = math.nan
        if not name:
            raise InputError("Every criterion needs a name.", parameter=f"criteria.{i}.name")
        if not math.isfinite(weight) or weight <= 0:
            raise InputError(
                "A criterion's weight is a positive number.", parameter=f"criteria.{i}.weight"
            )
        if any(c["name"] == name for c in criteria):
            raise InputError(f"Criterion {name!r} is named twice.", parameter="criteria")
        criteria.append(
            {"name": name, "weight": weight, "description": str(item.get("description", ""))}
        )
    return criteria


def _user_ids(session: Session, names: list[str], parameter: str) -> list[int]:
    ids = []
    for name in names:
        user_id = session.scalar(select(User.id).where(User.name == name))
        if user_id is None:
            raise NotFound("No such user.", parameter=parameter)
        ids.append(user_id)
    return ids


def create_challenge(
    session: Session,
    principal: Principal,
    *,
    slug: str,
    title: str,
    question: str,
    terms: str,
    datasets: list[str],
    criteria: list[dict[str, Any]],
    applications_close_at: datetime,
    access_ends_at: datetime,
    background: str = "",
    demo_day_at: datetime | None = None,
    reviewers: list[str] | None = None,
) -> ChallengeInfo:
    """An admin drafts a challenge; :func:`publish_challenge` opens it for applications."""
    policy.ensure_can_manage_challenges(principal)
    check_slug(slug, "slug")
    for name, value in (("title", title), ("question", question), ("terms", terms)):
        if not value.strip():
            raise InputError(f"A challenge needs its {name}.", parameter=name)
    if not datasets:
        raise InputError("Name the datasets the challenge is about.", parameter="datasets")
    if utc(access_ends_at) <= utc(applications_close_at):
        raise InputError("Access must end after applications close.", parameter="access_ends_at")
    if session.scalar(select(Challenge.id).where(Challenge.slug == slug)) is not None:
        raise Conflict("A challenge with this slug exists.", challenge=slug)
    dataset_ids = [grantable_dataset(session, d).id for d in dict.fromkeys(datasets)]
    challenge = Challenge(
        slug=slug,
        title=title.strip(),
        question=question.strip(),
        background=background.strip(),
        criteria=_criteria(criteria),
        terms=terms.strip(),
        applications_close_at=applications_close_at,
        access_ends_at=access_ends_at,
        demo_day_at=demo_day_at,
        reviewer_ids=_user_ids(session, reviewers or [], "reviewers"),
        created_by=principal.user_id,
    )
    session.add(challenge)
    session.flush()
    session.add_all(ChallengeDataset(challenge_id=challenge.id, dataset_id=i) for i in dataset_ids)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="challenge.create",
        object_type="challenge",
        object_id=slug,
        details={"datasets": list(dict.fromkeys(datasets))},
    )
    return _challenge_info(session, challenge)


def publish_challenge(session: Session, principal: Principal, slug: str) -> ChallengeInfo:
    policy.ensure_can_manage_challenges(principal)
    challenge = policy.ensure_challenge(session, principal, slug)
    if challenge.status is not ChallengeStatus.DRAFT:
        raise Conflict(f"The challenge is {challenge.status.value}.", challenge=slug)
    challenge.status = ChallengeStatus.PUBLISHED
    audit.record(
        session,
        actor=principal.name,
        action="challenge.publish",
        object_type="challenge",
        object_id=slug,
    )
    session.flush()
    return _challenge_info(session, challenge)


def get_challenge(session: Session, principal: Principal, slug: str) -> ChallengeInfo:
    return _challenge_info(session, policy.ensure_challenge(session, principal, slug))


def list_challenges(session: Session, principal: Principal) -> list[ChallengeInfo]:
    """Published challenges for everyone; drafts too for admins."""
    query = select(Challenge).where(policy.visible_challenges(principal)).order_by(Challenge.id)
    return [_challenge_info(session, c) for c in session.scalars(query)]


# --- teams ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    members: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "members": self.members}


def _team_info(session: Session, team: Team) -> TeamInfo:
    names = session.scalars(
        select(User.name)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.name)
    ).all()
    return TeamInfo(team.id, team.name, list(names))


def register_team(
    session: Session, principal: Principal, name: str, members: list[str] | None = None
) -> TeamInfo:
    """A signed-in user registers a team; they and the named users are its members."""
    user_id = policy.ensure_person(principal)
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("A team name has 1 to 200 characters.", parameter="name")
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise Conflict("A team with this name exists.", parameter="name")
    team = Team(name=name, created_by=user_id)
    session.add(team)
    session.flush()
    ids = dict.fromkeys([user_id, *_user_ids(session, members or [], "members")])
    session.add_all(TeamMember(team_id=team.id, user_id=i) for i in ids)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="team.register",
        object_type="team",
        object_id=str(team.id),
        details={"members": len(ids)},
    )
    return _team_info(session, team)


def list_teams(session: Session, principal: Principal) -> list[TeamInfo]:
    """The caller's teams (every team for admins)."""
    query = select(Team).where(policy.visible_teams(principal)).order_by(Team.name)
    return [_team_info(session, t) for t in session.scalars(query)]


# --- applications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInfo:
    id: int
    challenge: str
    team: str
    proposal: str
    data_needs: list[dict[str, Any]]
    status: str
    decision_reason: str
    created_at: datetime
    decided_at: datetime | None
    grant_id: int | None
    # Only for the challenge's reviewers: every reviewer's scores and the mean weighted total.
    scores: list[dict[str, Any]] | None
    mean_score: float | None
    # Only for the challenge's reviewers: the grant's counted reads (requests, downloads, rows).
    usage: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "challenge": self.challenge,
            "team": self.team,
            "proposal": self.proposal,
            "data_needs": self.data_needs,
            "status": self.status,
            "decision_reason": self.decision_reason,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "grant_id": self.grant_id,
        }
        if self.scores is not None:
            body["scores"] = self.scores
            body["mean_score"] = self.mean_score
            body["usage"] = self.usage
        return body


def _application_info(
    session: Session, application: Application, *, reviewer: bool
) -> ApplicationInfo:
    challenge = session.get(Challenge, application.challenge_id)
    team = session.get(Team, application.team_id)
    assert challenge is not None
    assert team is not None
    grant_id = session.scalar(select(Grant.id).where(Grant.application_id == application.id))
    scores: list[dict[str, Any]] | None = None
    mean: float | None = None
    usage: dict[str, int] | None = None
    if reviewer:
        rows = session.execute(
            select(ApplicationScore, User.name)
            .outerjoin(User, User.id == ApplicationScore.reviewer_id)
            .where(ApplicationScore.application_id == application.id)
            .order_by(ApplicationScore.id)
        ).all()
        scores = [
            {
                "reviewer": name or f"user {s.reviewer_id}",
                "scores": dict(s.scores),
                "total": s.total,
                "comment": s.comment,
            }
            for s, name in rows
        ]
        mean = round(sum(s["total"] for s in scores) / len(scores), 3) if scores else None
        if grant_id is not None:
            totals = session.execute(
                select(
                    func.coalesce(func.sum(GrantUsage.requests), 0),
                    func.coalesce(func.sum(GrantUsage.downloads), 0),
                    func.coalesce(func.sum(GrantUsage.rows), 0),
                ).where(GrantUsage.grant_id == grant_id)
            ).one()
            usage = dict(zip(("requests", "downloads", "rows"), map(int, totals), strict=True))
    return ApplicationInfo(
        id=application.id,
        challenge=challenge.slug,
        team=team.name,
        proposal=application.proposal,
        data_needs=list(application.data_needs),
        status=application.status.value,
        decision_reason=application.decision_reason,
        created_at=utc(application.created_at),
        decided_at=utc(application.decided_at) if application.decided_at else None,
        grant_id=grant_id,
        scores=scores,
        mean_score=mean,
        usage=usage,
    )


def apply(
    session: Session,
    principal: Principal,
    slug: str,
    *,
    team: str,
    proposal: str,
    data_needs: list[dict[str, Any]],
) -> ApplicationInfo:
    """A team applies: its proposal, and which data it needs and why."""
    user_id = policy.ensure_person(principal)
    challenge = policy.ensure_challenge(session, principal, slug)
    applicant = policy.ensure_own_team(session, principal, team)
    if challenge.status is not ChallengeStatus.PUBLISHED:
        raise Conflict("The challenge does not take applications.", challenge=slug)
    if utc(utcnow()) >= utc(challenge.applications_close_at):
        raise Conflict("Applications for this challenge have closed.", challenge=slug)
    if not proposal.strip():
        raise InputError("An application needs its proposal.", parameter="proposal")
    needs = []
    for i, need in enumerate(data_needs):
        dataset = str(need.get("dataset", "")).strip()
        why = str(need.get("why", "")).strip()
        if not dataset or not why:
            raise InputError(
                "Each data need names a dataset and says why.", parameter=f"data_needs.{i}"
            )
        needs.append({"dataset": dataset, "why": why})
    if not needs:
        raise InputError("Say which data the team needs and why.", parameter="data_needs")
    exists = session.scalar(
        select(Application.id).where(
            Application.challenge_id == challenge.id, Application.team_id == applicant.id
        )
    )
    if exists is not None:
        raise Conflict("The team has already applied to this challenge.", application=exists)
    application = Application(
        challenge_id=challenge.id,
        team_id=applicant.id,
        proposal=proposal.strip(),
        data_needs=needs,
        submitted_by=user_id,
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="challenge.apply",
        object_type="application",
        object_id=str(application.id),
        details={"challenge": slug, "team": applicant.id},
    )
    return _application_info(session, application, reviewer=False)


def _get_application(
    session: Session, principal: Principal, application_id: int
) -> tuple[Application, Challenge, bool]:
    """The application, its challenge, and whether ``principal`` reviews it; NotFound if hidden."""
    application = policy.ensure_application(session, principal, application_id)
    challenge = session.get(Challenge, application.challenge_id)
    assert challenge is not None
    return application, challenge, policy.can_review_challenge(principal, challenge)


def get_application(session: Session, principal: Principal, application_id: int) -> ApplicationInfo:
    application, _challenge, reviewer = _get_application(session, principal, application_id)
    return _application_info(session, application, reviewer=reviewer)


def list_applications(session: Session, principal: Principal, slug: str) -> list[ApplicationInfo]:
    """Every application for the challenge's reviewers; a team's own for its members."""
    challenge = policy.ensure_challenge(session, principal, slug)
    reviewer = policy.can_review_challenge(principal, challenge)
    applications = session.scalars(
        select(Application).where(Application.challenge_id == challenge.id).order_by(Application.id)
    ).all()
    return [
        _application_info(session, a, reviewer=reviewer)
        for a in applications
        if policy.can_see_team_work(session, principal, challenge, a.team_id)
    ]


def score_application(
    session: Session,
    principal: Principal,
    application_id: int,
    scores: dict[str, Any],
    comment: str = "",
) -> ApplicationInfo:
    """A reviewer scores an application 0 to 10 on every criterion (a new score replaces theirs)."""
    application, challenge, _reviewer = _get_application(session, principal, application_id)
    policy.ensure_can_review_challenge(principal, challenge)
    reviewer_id = policy.ensure_person(principal)
    if application.status is not ApplicationStatus.SUBMITTED:
        raise Conflict(
            f"The application is {application.status.value}.", application=application_id
        )
    names = [c["name"] for c in challenge.criteria]
    unknown = sorted(set(scores) - set(names))
    if unknown:
        raise InputError(f"Unknown criterion {unknown[0]!r}.", parameter="scores")
    missing = [n for n in names if n not in scores]
    if missing:
        raise InputError(
            "Score every criterion; missing: " + ", ".join(missing) + ".", parameter="scores"
        )
    clean: dict[str, float] = {}
    for name in names:
        try:
            value = float(scores[name])
        except (TypeError, ValueError):
            value = math.nan
        if not 0 <= value <= SCORE_MAX:
            raise InputError(
                f"A score is a number from 0 to {SCORE_MAX:g}.", parameter=f"scores.{name}"
            )
        clean[name] = value
    weights = {c["name"]: float(c["weight"]) for c in challenge.criteria}
    total = round(sum(clean[n] * weights[n] for n in names) / sum(weights.values()), 3)
    existing = session.scalar(
        select(ApplicationScore).where(
            ApplicationScore.application_id == application.id,
            ApplicationScore.reviewer_id == reviewer_id,
        )
    )
    if existing is None:
        session.add(
            ApplicationScore(
                application_id=application.id,
                reviewer_id=reviewer_id,
                scores=clean,
                total=total,
                comment=comment.strip(),
            )
        )
    else:
        existing.scores = clean
        existing.total = total
        existing.comment = comment.strip()
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="application.score",
        object_type="application",
        object_id=str(application.id),
        details={"total": total},
    )
    return _application_info(session, application, reviewer=True)


def decide_application(
    session: Session, principal: Principal, application_id: int, *, qualify: bool, reason: str
) -> ApplicationInfo:
    """Qualify (creating the team's grant) or reject an application, with a reason it reads."""
    application, challenge, _reviewer = _get_application(session, principal, application_id)
    policy.ensure_can_review_challenge(principal, challenge)
    if application.status is not ApplicationStatus.SUBMITTED:
        raise Conflict(
            f"The application is already {application.status.value}.",
            application=application_id,
        )
    if not reason.strip():
        raise InputError("Give the team the reason for the decision.", parameter="reason")
    scored = session.scalar(
        select(ApplicationScore.id).where(ApplicationScore.application_id == application.id)
    )
    if qualify and scored is None:
        raise Conflict("Score the application before qualifying it.", application=application_id)
    if qualify and utc(challenge.access_ends_at) <= utc(utcnow()):
        raise Conflict("The challenge's access period has ended.", challenge=challenge.slug)
    application.status = ApplicationStatus.QUALIFIED if qualify else ApplicationStatus.REJECTED
    application.decision_reason = reason.strip()
    application.decided_by = principal.user_id
    application.decided_at = utcnow()
    audit.record(
        session,
        actor=principal.name,
        action="application.qualify" if qualify else "application.reject",
        object_type="application",
        object_id=str(application.id),
        reason=application.decision_reason,
    )
    if qualify:
        grant = Grant(
            application_id=application.id,
            challenge_id=challenge.id,
            team_id=application.team_id,
            ends_at=challenge.access_ends_at,
        )
        session.add(grant)
        session.flush()
        dataset_ids = session.scalars(
            select(ChallengeDataset.dataset_id).where(ChallengeDataset.challenge_id == challenge.id)
        ).all()
        session.add_all(GrantDataset(grant_id=grant.id, dataset_id=i) for i in dataset_ids)
        audit.record(
            session,
            actor=principal.name,
            action="grant.create",
            object_type="grant",
            object_id=str(grant.id),
            details={
                "application": application.id,
                "datasets": len(dataset_ids),
                "ends_at": utc(grant.ends_at).isoformat(),
            },
        )
    session.flush()
    return _application_info(session, application, reviewer=True)


# --- submissions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionInfo:
    id: int
    challenge: str
    team: str
    title: str
    text: str
    links: list[str]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "challenge": self.challenge,
            "team": self.team,
            "title": self.title,
            "text": self.text,
            "links": self.links,
            "created_at": self.created_at.isoformat(),
        }


def _submission_info(session: Session, submission: Submission, slug: str) -> SubmissionInfo:
    team = session.get(Team, submission.team_id)
    assert team is not None
    return SubmissionInfo(
        id=submission.id,
        challenge=slug,
        team=team.name,
        title=submission.title,
        text=submission.text,
        links=list(submission.links),
        created_at=utc(submission.created_at),
    )


def submit_result(
    session: Session,
    principal: Principal,
    slug: str,
    *,
    team: str,
    title: str,
    text: str = "",
    links: list[str] | None = None,
) -> SubmissionInfo:
    """A qualified team submits its result for the demo day: a title, text and links."""
    user_id = policy.ensure_person(principal)
    challenge = policy.ensure_challenge(session, principal, slug)
    submitter = policy.ensure_own_team(session, principal, team)
    policy.ensure_can_submit(session, challenge, submitter)
    if not title.strip():
        raise InputError("A submission needs its title.", parameter="title")
    links = [link.strip() for link in links or [] if link.strip()]
    for i, link in enumerate(links):
        if not _URL.match(link):
            raise InputError("A link is an http(s) URL.", parameter=f"links.{i}")
    if not text.strip() and not links:
        raise InputError("Submit a text or at least one link.", parameter="text")
    submission = Submission(
        challenge_id=challenge.id,
        team_id=submitter.id,
        title=title.strip(),
        text=text.strip(),
        links=links,
        submitted_by=user_id,
    )
    session.add(submission)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="challenge.submit",
        object_type="submission",
        object_id=str(submission.id),
        details={"challenge": slug, "links": len(links)},
    )
    return _submission_info(session, submission, slug)


def list_submissions(session: Session, principal: Principal, slug: str) -> list[SubmissionInfo]:
    """All submissions for the challenge's reviewers; a team's own for its members."""
    challenge = policy.ensure_challenge(session, principal, slug)
    submissions = session.scalars(
        select(Submission).where(Submission.challenge_id == challenge.id).order_by(Submission.id)
    ).all()
    return [
        _submission_info(session, s, slug)
        for s in submissions
        if policy.can_see_team_work(session, principal, challenge, s.team_id)
    ]
