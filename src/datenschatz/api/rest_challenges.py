"""Native REST for data challenges, teams, applications, grants and submissions.

Thin adapter over :mod:`datenschatz.governance.challenges` and
:mod:`datenschatz.governance.grants`; they ask :mod:`datenschatz.access.policy` who may do what.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_principal, get_session
from datenschatz.errors import InputError
from datenschatz.governance import challenges, grants

router = APIRouter(prefix="/api/v1", tags=["challenges"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _utc(value: datetime | None) -> datetime | None:
    """Times without an offset are read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CriterionIn(BaseModel):
    name: str
    weight: float = Field(1.0, gt=0)
    description: str = ""


class ChallengeIn(BaseModel):
    slug: str
    title: str
    question: str
    background: str = ""
    datasets: list[str] = Field(description="Slugs of the public and partner datasets involved.")
    criteria: list[CriterionIn] = Field(description="Qualification criteria and their weights.")
    terms: str = Field(description="Terms of use a team accepts before its grant is active.")
    applications_close_at: datetime
    access_ends_at: datetime = Field(description="When every grant of the challenge ends.")
    demo_day_at: datetime | None = None
    reviewers: list[str] = Field(
        default_factory=list, description="User names of its reviewers (default: every reviewer)."
    )


class TeamIn(BaseModel):
    name: str
    members: list[str] = Field(default_factory=list, description="User names besides yourself.")


class DataNeedIn(BaseModel):
    dataset: str
    why: str


class ApplicationIn(BaseModel):
    team: str
    proposal: str
    data_needs: list[DataNeedIn]


class ScoreIn(BaseModel):
    scores: dict[str, float] = Field(description="0 to 10 per criterion name.")
    comment: str = ""


class ApplicationDecisionIn(BaseModel):
    qualify: bool
    reason: str = Field(description="The reason, which the team reads.")


class ReasonIn(BaseModel):
    reason: str


class ExtraIn(BaseModel):
    dataset: str
    why: str


class ExtraDecisionIn(BaseModel):
    approve: bool
    reason: str


class SubmissionIn(BaseModel):
    team: str
    title: str
    text: str = ""
    links: list[str] = Field(default_factory=list)


# --- challenges -------------------------------------------------------------------------------


@router.get("/challenges", summary="The published challenges (drafts too, for admins)")
def list_challenges(
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="draft, published or closed.")] = None,
) -> dict[str, Any]:
    if status is not None and status not in {"draft", "published", "closed"}:
        raise InputError("status is draft, published or closed.", parameter="status")
    found = challenges.list_challenges(session, principal)
    return {"challenges": [c.to_dict() for c in found if status in (None, c.status)]}


@router.post("/challenges", status_code=201, summary="Draft a challenge (admins)")
def create_challenge(body: ChallengeIn, session: SessionDep, principal: PrincipalDep) -> Any:
    closes = _utc(body.applications_close_at)
    ends = _utc(body.access_ends_at)
    assert closes is not None
    assert ends is not None
    return challenges.create_challenge(
        session,
        principal,
        slug=body.slug,
        title=body.title,
        question=body.question,
        background=body.background,
        terms=body.terms,
        datasets=body.datasets,
        criteria=[c.model_dump() for c in body.criteria],
        applications_close_at=closes,
        access_ends_at=ends,
        demo_day_at=_utc(body.demo_day_at),
        reviewers=body.reviewers,
    ).to_dict()


@router.get("/challenges/{challenge}", summary="One challenge")
def get_challenge(challenge: str, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.get_challenge(session, principal, challenge).to_dict()


@router.post("/challenges/{challenge}/publish", summary="Open a challenge for applications")
def publish_challenge(challenge: str, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.publish_challenge(session, principal, challenge).to_dict()


# --- teams and applications -------------------------------------------------------------------


@router.post("/teams", status_code=201, summary="Register a team (you are a member)")
def register_team(body: TeamIn, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.register_team(session, principal, body.name, body.members).to_dict()


@router.get("/teams", summary="Your teams")
def list_teams(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"teams": [t.to_dict() for t in challenges.list_teams(session, principal)]}


@router.post("/challenges/{challenge}/applications", status_code=201, summary="Apply as a team")
def apply(challenge: str, body: ApplicationIn, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.apply(
        session,
        principal,
        challenge,
        team=body.team,
        proposal=body.proposal,
        data_needs=[n.model_dump() for n in body.data_needs],
    ).to_dict()


@router.get(
    "/challenges/{challenge}/applications",
    summary="Applications: all for reviewers, your team's for you",
)
def list_applications(challenge: str, session: SessionDep, principal: PrincipalDep) -> Any:
    found = challenges.list_applications(session, principal, challenge)
    return {"applications": [a.to_dict() for a in found]}


@router.get("/applications/{application_id}", summary="One application and its decision")
def get_application(application_id: int, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.get_application(session, principal, application_id).to_dict()


@router.post("/applications/{application_id}/scores", summary="Score against the criteria")
def score(application_id: int, body: ScoreIn, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.score_application(
        session, principal, application_id, dict(body.scores), body.comment
    ).to_dict()


@router.post("/applications/{application_id}/decision", summary="Qualify or reject")
def decide_application(
    application_id: int, body: ApplicationDecisionIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return challenges.decide_application(
        session, principal, application_id, qualify=body.qualify, reason=body.reason
    ).to_dict()


# --- grants -----------------------------------------------------------------------------------


@router.get("/grants", summary="Grants of your teams and of the challenges you review")
def list_grants(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"grants": [g.to_dict() for g in grants.list_grants(session, principal)]}


@router.get("/grants/{grant_id}", summary="One grant")
def get_grant(grant_id: int, session: SessionDep, principal: PrincipalDep) -> Any:
    return grants.grant_info(session, grants.get_grant(session, principal, grant_id)).to_dict()


@router.post("/grants/{grant_id}/accept", summary="Accept the terms: the grant becomes active")
def accept_grant(grant_id: int, session: SessionDep, principal: PrincipalDep) -> Any:
    return grants.accept_grant(session, principal, grant_id).to_dict()


@router.post("/grants/{grant_id}/revoke", summary="End a grant at once (admins)")
def revoke_grant(
    grant_id: int, body: ReasonIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return grants.revoke_grant(session, principal, grant_id, body.reason).to_dict()


@router.get("/grants/{grant_id}/usage", summary="Counted requests, downloads and rows")
def grant_usage(grant_id: int, session: SessionDep, principal: PrincipalDep) -> Any:
    return grants.grant_usage(session, principal, grant_id)


@router.post(
    "/grants/{grant_id}/extra-datasets", status_code=201, summary="Ask for one more dataset"
)
def request_extra(
    grant_id: int, body: ExtraIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return grants.request_extra_dataset(
        session, principal, grant_id, body.dataset, body.why
    ).to_dict()


@router.get("/grants/{grant_id}/extra-datasets", summary="A grant's extra-dataset requests")
def list_extra(grant_id: int, session: SessionDep, principal: PrincipalDep) -> Any:
    found = grants.list_extra_requests(session, principal, grant_id)
    return {"requests": [r.to_dict() for r in found]}


@router.post(
    "/extra-dataset-requests/{request_id}/decision", summary="Decide an extra-dataset request"
)
def decide_extra(
    request_id: int, body: ExtraDecisionIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return grants.decide_extra_dataset(
        session, principal, request_id, approve=body.approve, reason=body.reason
    ).to_dict()


# --- submissions ------------------------------------------------------------------------------


@router.post(
    "/challenges/{challenge}/submissions", status_code=201, summary="Submit a result for demo day"
)
def submit(challenge: str, body: SubmissionIn, session: SessionDep, principal: PrincipalDep) -> Any:
    return challenges.submit_result(
        session,
        principal,
        challenge,
        team=body.team,
        title=body.title,
        text=body.text,
        links=body.links,
    ).to_dict()


@router.get("/challenges/{challenge}/submissions", summary="Demo-day submissions")
def list_submissions(challenge: str, session: SessionDep, principal: PrincipalDep) -> Any:
    found = challenges.list_submissions(session, principal, challenge)
    return {"submissions": [s.to_dict() for s in found]}
