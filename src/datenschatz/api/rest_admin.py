"""Admin API (/api/v1/admin): users and roles, API tokens, the audit log; and /api/v1/me.

Every admin route asks :func:`~datenschatz.access.policy.ensure_admin` first: anonymous
callers get 401; everyone without the admin role and the ``admin`` scope gets 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, ensure_admin
from datenschatz.api.deps import get_hub, get_principal, get_session
from datenschatz.governance import accounts, audit, tokens

router = APIRouter(prefix="/api/v1", tags=["admin"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _actor(principal: Principal) -> str:
    return principal.name


@router.get("/me", summary="Who you are to this server: roles, scopes, what you may see")
def me(principal: PrincipalDep) -> dict[str, Any]:
    return {
        "name": principal.name,
        "user_id": principal.user_id,
        "roles": sorted(r.value for r in principal.roles),
        "reviewer_kinds": sorted(k.value for k in principal.reviewer_kinds),
        "scopes": sorted(principal.scopes) if not principal.anonymous else [],
        "token_id": principal.token_id,
    }


class NewUser(BaseModel):
    name: str = Field(description="Login name: lower-case letters, digits, '.', '_', '-'.")
    role: str | None = Field(None, description="admin, steward, reviewer or partner.")
    org: str | None = Field(None, description="Organization slug (stewards).")
    reviewer_kind: str | None = Field(
        None, description="data_owner, data_protection_officer or ethics_reviewer (reviewers)."
    )
    password: str | None = Field(None, description="For signing in to the web UI.")


class NewRole(BaseModel):
    role: str
    org: str | None = None
    reviewer_kind: str | None = None


class NewToken(BaseModel):
    user: str = Field(description="Name of the user the token belongs to.")
    scopes: list[str] = Field(default_factory=lambda: list(tokens.DEFAULT_SCOPES))
    expires_days: int | None = Field(None, gt=0, description="Days until the token expires.")
    label: str = Field("", max_length=200)


@router.get("/admin/users", summary="Users and their roles (admin)")
def list_users(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_admin(principal)
    return {"users": [u.to_dict() for u in accounts.list_users(session)]}


@router.post("/admin/users", status_code=201, summary="Create a user (admin)")
def create_user(body: NewUser, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_admin(principal)
    info = accounts.create_user(
        session,
        body.name,
        role=body.role,
        org=body.org,
        reviewer_kind=body.reviewer_kind,
        password=body.password,
        actor=_actor(principal),
    )
    return info.to_dict()


@router.post("/admin/users/{name}/roles", status_code=201, summary="Give a user a role (admin)")
def add_role(
    name: str, body: NewRole, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    ensure_admin(principal)
    user = accounts.get_user(session, name)
    accounts.add_role(
        session,
        user,
        body.role,
        org=body.org,
        reviewer_kind=body.reviewer_kind,
        actor=_actor(principal),
    )
    return accounts.user_info(session, name).to_dict()


@router.delete("/admin/users/{name}/roles/{role}", summary="Take a role from a user (admin)")
def remove_role(
    name: str,
    role: str,
    session: SessionDep,
    principal: PrincipalDep,
    org: Annotated[str | None, Query(description="Only the stewardship of this org.")] = None,
    reason: Annotated[str, Query(max_length=1000)] = "",
) -> dict[str, Any]:
    ensure_admin(principal)
    user = accounts.get_user(session, name)
    accounts.remove_role(session, user, role, org=org, actor=_actor(principal), reason=reason)
    return accounts.user_info(session, name).to_dict()


@router.get("/admin/tokens", summary="API tokens, without their secrets (admin)")
def list_tokens(
    session: SessionDep,
    principal: PrincipalDep,
    user: Annotated[str | None, Query(description="Only this user's tokens.")] = None,
) -> dict[str, Any]:
    ensure_admin(principal)
    return {"tokens": [t.to_dict() for t in tokens.list_tokens(session, user)]}


@router.post(
    "/admin/tokens", status_code=201, summary="Issue an API token; the secret is shown once"
)
def create_token(body: NewToken, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_admin(principal)
    issued = tokens.create_token(
        session,
        accounts.get_user(session, body.user),
        scopes=body.scopes,
        expires_days=body.expires_days,
        label=body.label,
        actor=_actor(principal),
    )
    return {"token": issued.secret, **issued.info.to_dict()}


@router.delete("/admin/tokens/{token_id}", summary="Revoke an API token at once (admin)")
def revoke_token(
    token_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    reason: Annotated[str, Query(max_length=1000)] = "",
) -> dict[str, Any]:
    ensure_admin(principal)
    return tokens.revoke_token(session, token_id, actor=_actor(principal), reason=reason).to_dict()


def _filter(
    actor: Annotated[str | None, Query(description="Who acted.")] = None,
    action: Annotated[
        str | None, Query(description="An action, or a prefix ending in * (release.*).")
    ] = None,
    object_type: Annotated[str | None, Query(description="dataset, user, token, ...")] = None,
    object_id: Annotated[str | None, Query(description="The object's id or slug.")] = None,
    since: Annotated[datetime | None, Query(description="From this time (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601).")] = None,
) -> audit.AuditFilter:
    return audit.AuditFilter(actor, action, object_type, object_id, since, until)


FilterDep = Annotated[audit.AuditFilter, Depends(_filter)]


@router.get("/admin/audit", summary="The audit log, newest first, filterable (admin)")
def list_audit(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    where: FilterDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Events per page.")] = 100,
    offset: Annotated[int, Query(ge=0, description="Events to skip.")] = 0,
) -> dict[str, Any]:
    ensure_admin(principal)
    total, page = audit.events(session, where, limit=limit, offset=offset)
    body: dict[str, Any] = {"total": total, "events": [audit.event_dict(e) for e in page]}
    if offset + limit < total:
        body["next"] = str(request.url.include_query_params(offset=offset + limit))
    return body


@router.get(
    "/admin/audit.csv",
    summary="The audit log as CSV, oldest first (admin)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_audit(request: Request, principal: PrincipalDep, where: FilterDep) -> StreamingResponse:
    ensure_admin(principal)
    hub = get_hub(request)

    def chunks() -> Iterator[str]:
        with hub.session() as session:
            yield from audit.export_csv(session, where)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.get("/admin/audit/verify", summary="Check the audit log's hash chain (admin)")
def verify_audit(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_admin(principal)
    return audit.verify(session).to_dict()
