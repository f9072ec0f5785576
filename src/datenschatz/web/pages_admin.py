"""The admin's pages: users and their roles (add a role), API tokens (revoke), the audit log
with filters and its verification status, and the challenges with their grants.

Every handler asks :func:`~datenschatz.access.policy.ensure_admin` first; forms carry the
session's CSRF token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal, ensure_admin
from datenschatz.catalog.organizations import list_organizations
from datenschatz.db.governance_models import ReviewerKind, Role
from datenschatz.errors import DatenschatzError, InputError
from datenschatz.governance import audit, grants
from datenschatz.governance.accounts import add_role, get_user, list_users
from datenschatz.governance.challenges import list_challenges
from datenschatz.governance.tokens import list_tokens, revoke_token
from datenschatz.hub import Hub
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)
AUDIT_PAGE = 50
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _when(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} must be a date (YYYY-MM-DD).", parameter=name) from None


def admin_context(hub: Hub, principal: Principal, request: Request) -> dict[str, Any]:
    ensure_admin(principal)
    where = audit.AuditFilter(
        actor=request.query_params.get("actor") or None,
        action=request.query_params.get("action") or None,
        object_type=request.query_params.get("object_type") or None,
        object_id=request.query_params.get("object_id") or None,
        since=_when(request, "since"),
        until=_when(request, "until"),
    )
    with hub.session() as session:
        total, found = audit.events(session, where, limit=AUDIT_PAGE)
        return {
            "users": list_users(session),
            "tokens": list_tokens(session),
            "verification": audit.verify(session),
            "events": [audit.event_dict(e) for e in found],
            "events_total": total,
            "filters": {name: request.query_params.get(name, "") for name in FILTERS},
            "challenges": list_challenges(session, principal),
            "grants": grants.list_grants(session, principal),
            "organizations": list_organizations(session, principal),
            "roles": [r.value for r in Role],
            "kinds": [k.value for k in ReviewerKind],
        }


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    web = web_session.current(request)
    if web is None or principal.anonymous:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    try:
        context = admin_context(hub, principal, request)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(request, "admin.html", csrf=web.csrf, **context)


@router.post("/admin/roles")
async def give_role(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        async with request.form(max_files=0) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            name, role = _text(form.get("user")), _text(form.get("role"))
            org, kind = _text(form.get("org")) or None, _text(form.get("reviewer_kind")) or None

        def run() -> None:
            ensure_admin(principal)
            with hub.session() as session:
                user = get_user(session, name)
                add_role(session, user, role, org=org, reviewer_kind=kind, actor=principal.name)

        await run_in_threadpool(run)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/admin#users", status_code=303)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke(token_id: int, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        async with request.form(max_files=0) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            reason = _text(form.get("reason"))

        def run() -> None:
            ensure_admin(principal)
            with hub.session() as session:
                revoke_token(session, token_id, actor=principal.name, reason=reason)

        await run_in_threadpool(run)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/admin#tokens", status_code=303)
