"""The admin's forms for accounts and challenges: create a user, deactivate and reactivate one,
take a role away, and draft a new challenge.

Thin adapters: each handler checks the CSRF token, asks
:func:`~datenschatz.access.policy.ensure_admin` (the challenge service asks the policy) and calls
the account or challenge service. A service error shows the form again with its message and
the values entered (never a password), with the error's 4xx status.

A new user gets either the password the admin typed twice, or, when both fields are left
empty, a generated one that the answer page shows exactly once (it is stored only as an
argon2 hash, and appears in no log and no audit event). Accounts have a login name only: the
hub stores no real names.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal, ensure_admin
from datenschatz.catalog.search import SearchQuery, Sort, search
from datenschatz.db.governance_models import Role
from datenschatz.errors import DatenschatzError, InputError
from datenschatz.governance import accounts, challenges
from datenschatz.hub import Hub
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.formkit import (
    FormState,
    Submitted,
    submit_form,
    utc_time,
)
from datenschatz.web.pages_admin import admin_form, render_admin
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

GENERATED_PASSWORD_BYTES = 15  # 20 characters of base64url
CRITERIA_ROWS = 5
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# --- users ------------------------------------------------------------------------------------


def _new_password(form: Submitted) -> tuple[str, bool]:
    """(password, generated): the typed one, confirmed, or a generated one if both are empty."""
    typed, again = form.secrets.get("password", ""), form.secrets.get("password2", "")
    if not typed and not again:
        return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES), True
    if typed != again:
        raise InputError(
            "The two passwords differ.", key="admin.passwords_differ", parameter="password2"
        )
    return typed, False


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def run(form: Submitted) -> tuple[accounts.UserInfo, str | None]:
        ensure_admin(principal)
        password, generated = _new_password(form)
        with hub.session() as session:
            info = accounts.create_user(
                session,
                form.get("name"),
                role=form.get("role") or None,
                org=form.get("org") or None,
                reviewer_kind=form.get("reviewer_kind") or None,
                password=password,
                actor=principal.name,
            )
        return info, password if generated else None

    def done(form: Submitted, result: tuple[accounts.UserInfo, str | None]) -> Response:
        info, shown_once = result
        if shown_once is None:
            return RedirectResponse(f"{PREFIX}/admin?done=user#users", status_code=303)
        response = page(request, "user_created.html", user=info, password=shown_once)
        response.headers.update(NO_STORE)
        return response

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_admin(request, hub, principal, state, exc.status)

    return await submit_form(request, "create-user", run, done=done, again=again)


@router.post("/admin/users/{name}/active")
async def set_active(name: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    """Deactivate (``active=false``) or reactivate (``active=true``) an account."""

    def action(session: Session, form: Submitted) -> str:
        if form.get("active") not in ("true", "false"):
            raise InputError(
                "active is true or false.", key="admin.active_value", parameter="active"
            )
        active = form.get("active") == "true"
        user = accounts.get_user(session, name)
        accounts.set_active(session, user, active, actor=principal.name, reason=form.get("reason"))
        return "activate" if active else "deactivate"

    return await admin_form(
        request, hub, principal, f"active-{name}", action, done="activate", anchor="users"
    )


@router.post("/admin/users/{name}/roles/remove")
async def remove_role(
    name: str, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    def action(session: Session, form: Submitted) -> None:
        user = accounts.get_user(session, name)
        accounts.remove_role(
            session,
            user,
            form.get("role"),
            org=form.get("org") or None,
            actor=principal.name,
            reason=form.get("reason"),
        )
        return None

    form_id = f"remove-role-{name}"
    return await admin_form(
        request, hub, principal, form_id, action, done="role_removed", anchor="users"
    )


# --- challenges -------------------------------------------------------------------------------


def _grantable(session: Session, principal: Principal) -> list[dict[str, str]]:
    """The published public and partner datasets a challenge may be about, by title."""
    found = search(session, principal, SearchQuery(sort=Sort.TITLE, limit=1000, facets=()))
    return [
        {"slug": h.dataset.slug, "title": h.dataset.title, "access_level": h.dataset.access_level}
        for h in found.hits
        if h.dataset.status == "published" and h.dataset.access_level in ("public", "partner")
    ]


def _challenge_form_context(hub: Hub, principal: Principal) -> dict[str, Any]:
    ensure_admin(principal)
    with hub.session() as session:
        users = accounts.list_users(session)
        datasets = _grantable(session, principal)
    reviewers = [
        u.name for u in users if u.active and any(m.role is Role.REVIEWER for m in u.memberships)
    ]
    return {"datasets": datasets, "reviewers": reviewers}


def _render_challenge_form(
    request: Request,
    hub: Hub,
    principal: Principal,
    form: FormState | None = None,
    http_status: int = 200,
) -> Response:
    web = web_session.current(request)
    if web is None or principal.anonymous:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    try:
        context = _challenge_form_context(hub, principal)
    except DatenschatzError as exc:
        return error_page(request, exc)
    values: dict[str, Any] = form.values if form else {}
    filled = sum(1 for i in range(100) if values.get(f"criterion-{i}-name"))
    return page(
        request,
        "admin_challenge_new.html",
        http_status=http_status,
        csrf=web.csrf,
        form=form,
        v=values,
        criteria_rows=max(CRITERIA_ROWS, filled + 1),
        **context,
    )


@router.get("/admin/challenges/new", response_class=HTMLResponse)
def new_challenge(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    return _render_challenge_form(request, hub, principal)


def _criteria(form: Submitted) -> list[dict[str, Any]]:
    """The filled criterion rows (name, weight, description); the service checks them."""
    rows: list[dict[str, Any]] = []
    for i in range(100):
        name = form.get(f"criterion-{i}-name")
        weight = form.get(f"criterion-{i}-weight")
        description = form.get(f"criterion-{i}-description")
        if not name and not description:
            continue
        rows.append({"name": name, "weight": weight or "1", "description": description})
    return rows


@router.post("/admin/challenges", response_class=HTMLResponse)
async def create_challenge(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def run(form: Submitted) -> str:
        ensure_admin(principal)
        closes = utc_time(form.get("applications_close_at"), "applications_close_at")
        ends = utc_time(form.get("access_ends_at"), "access_ends_at")
        assert closes is not None
        assert ends is not None
        with hub.session() as session:
            return challenges.create_challenge(
                session,
                principal,
                slug=form.get("slug"),
                title=form.get("title"),
                question=form.get("question"),
                background=form.get("background"),
                terms=form.get("terms"),
                datasets=form.getlist("datasets"),
                criteria=_criteria(form),
                applications_close_at=closes,
                access_ends_at=ends,
                demo_day_at=utc_time(form.get("demo_day_at"), "demo_day_at", required=False),
                reviewers=form.getlist("reviewers"),
            ).slug

    def done(form: Submitted, slug: str) -> Response:
        return RedirectResponse(f"{PREFIX}/challenges/{slug}/manage?done=created", status_code=303)

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return _render_challenge_form(request, hub, principal, state, exc.status)

    return await submit_form(request, "challenge", run, done=done, again=again)
