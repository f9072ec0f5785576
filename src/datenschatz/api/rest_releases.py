"""Native REST for the release workflow (/api/v1/releases) and withdrawal.

Thin adapter over :mod:`datenschatz.governance.releases`: who may do what is decided there
and in the access policy.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_hub, get_principal, get_session
from datenschatz.governance import releases

router = APIRouter(prefix="/api/v1", tags=["releases"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


class ReleaseIn(BaseModel):
    dataset: str = Field(description="Dataset slug.")
    version: int | None = Field(None, ge=1, description="Version number (default: newest).")
    purpose: str = Field(description="What the release is for.")
    level: str = Field(description="Target access level: public or partner.")


class DecisionIn(BaseModel):
    question: str = Field(description="technical, political or ethical.")
    approve: bool = Field(description="true approves, false rejects (then give a reason).")
    reason: str = Field("", description="Why; required for a rejection.")
    checklist: dict[str, str] | None = Field(
        None,
        description=(
            "The ethics checklist, required to approve the ethical question: "
            + "; ".join(f"{k}: {v}" for k, v in releases.ETHICS_CHECKLIST.items())
        ),
    )


class ReasonIn(BaseModel):
    reason: str = Field(description="The reason, shown to those who see the request.")


@router.post("/releases", status_code=201, summary="Request the release of a version")
def request_release(body: ReleaseIn, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    return releases.request_release(
        get_hub(request),
        principal,
        body.dataset,
        version=body.version,
        purpose=body.purpose,
        level=body.level,
    ).to_dict()


@router.get("/releases", summary="Release requests you may see, newest first")
def list_releases(
    session: SessionDep,
    principal: PrincipalDep,
    dataset: Annotated[str | None, Query(description="Only this dataset's requests.")] = None,
    status: Annotated[
        str | None, Query(description="pending, approved, rejected or cancelled.")
    ] = None,
) -> dict[str, Any]:
    found = releases.list_releases(session, principal, dataset=dataset, status=status)
    return {"releases": [r.to_dict() for r in found]}


@router.get("/releases/{release_id}", summary="A release request with its checks and decisions")
def release_status(release_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return releases.release_status(session, principal, release_id).to_dict()


@router.post("/releases/{release_id}/decisions", summary="Answer one board question")
def decide(
    release_id: int, body: DecisionIn, request: Request, principal: PrincipalDep
) -> dict[str, Any]:
    return releases.decide(
        get_hub(request),
        principal,
        release_id,
        question=body.question,
        approve=body.approve,
        reason=body.reason,
        checklist=body.checklist,
    ).to_dict()


@router.post("/releases/{release_id}/cancel", summary="Take back a pending request")
def cancel(
    release_id: int, body: ReasonIn, request: Request, principal: PrincipalDep
) -> dict[str, Any]:
    return releases.cancel(get_hub(request), principal, release_id, body.reason).to_dict()


@router.post("/datasets/{slug}/withdraw", summary="Withdraw a published dataset (410 Gone)")
def withdraw(
    slug: str, body: ReasonIn, request: Request, principal: PrincipalDep
) -> dict[str, Any]:
    return releases.withdraw(get_hub(request), principal, slug, reason=body.reason)
