"""The admin's page: users and their roles, API tokens, the audit log with filters and its
verification status, and the challenges with their grants.

This module renders the page (:func:`render_admin`, also after a failed form) and handles
giving a role and revoking a token; the other admin forms live in ``pages_admin_forms.py``
(users, challenges) and ``pages_token_forms.py`` (issuing tokens). Every handler asks
:func:`~datenschatz.access.policy.ensure_admin` first; forms carry the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import ALL_SCOPES, Principal, ensure_admin
from datenschatz.catalog.organizations import list_organizations
from datenschatz.db.governance_models import ReviewerKind, Role
from datenschatz.errors import InputError
from datenschatz.governance import audit, grants
from datenschatz.governance.accounts import add_role, get_user, list_users
from datenschatz.governance.challenges import list_challenges
from datenschatz.governance.tokens import list_tokens, revoke_token
from datenschatz.hub import Hub
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.formkit import (
    FormState,
    Submitted,
    render_signed_in,
    submit_form,
)
from datenschatz.web.rendering import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)
AUDIT_PAGE = 50
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")
# Confirmations after a form (``?done=``), each a text ``admin.done.<name>``.
DONE = frozenset(
    {"role", "role_removed", "user", "activate", "deactivate", "token_revoked", "grant_revoked"}
)


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
            "scopes": sorted(ALL_SCOPES),
        }


def render_admin(
    request: Request,
    hub: Hub,
    principal: Principal,
    form: FormState | None = None,
    http_status: int = 200,
) -> Response:
    """The admin page; with ``form``, a failed form shows its error and the entered values."""
    return render_signed_in(
        request,
        principal,
        "admin.html",
        lambda: admin_context(hub, principal, request),
        form=form,
        http_status=http_status,
        done_values=DONE,
    )


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    return render_admin(request, hub, principal)


# An admin form's work in one transaction; it may return the confirmation to show (``done``).
AdminAction = Callable[[Session, Submitted], str | None]


async def admin_form(
    request: Request,
    hub: Hub,
    principal: Principal,
    form_id: str,
    action: AdminAction,
    *,
    done: str,
    anchor: str,
) -> Response:
    """Run an admin form: CSRF, :func:`ensure_admin`, ``action`` in one transaction, then back
    to the admin page; a service error shows the page again with the form's error and values."""

    def run(values: Submitted) -> str | None:
        ensure_admin(principal)
        with hub.session() as session:
            return action(session, values)

    return await submit_form(
        request,
        form_id,
        run,
        done=lambda _form, chosen: RedirectResponse(
            f"{PREFIX}/admin?done={chosen or done}#{anchor}", status_code=303
        ),
        again=lambda _form, state, exc: render_admin(request, hub, principal, state, exc.status),
    )


@router.post("/admin/roles")
async def give_role(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def action(session: Session, form: Submitted) -> None:
        user = get_user(session, form.get("user"))
        add_role(
            session,
            user,
            form.get("role"),
            org=form.get("org") or None,
            reviewer_kind=form.get("reviewer_kind") or None,
            actor=principal.name,
        )
        return None

    return await admin_form(request, hub, principal, "role", action, done="role", anchor="users")


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke(token_id: int, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def action(session: Session, form: Submitted) -> None:
        revoke_token(session, token_id, actor=principal.name, reason=form.get("reason"))
        return None

    return await admin_form(
        request,
        hub,
        principal,
        f"revoke-token-{token_id}",
        action,
        done="token_revoked",
        anchor="tokens",
    )
