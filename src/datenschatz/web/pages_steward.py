"""The steward's page of a dataset: the newest version's quality report, column roles for the
privacy gate with the gate's proposals, and release requests with their checks and decisions.

Every action asks the services, which ask the access policy (``ensure_can_edit``); every form
carries the session's CSRF token.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal, ensure_can_edit
from datenschatz.catalog import vocab
from datenschatz.catalog.datasets import VersionInfo, get_version
from datenschatz.catalog.metadata import read_metadata, update_metadata
from datenschatz.catalog.views import DatasetInfo
from datenschatz.db.privacy_models import ColumnRole
from datenschatz.errors import CheckFailed, DatenschatzError, InputError, Unauthorized
from datenschatz.governance.releases import list_releases, request_release
from datenschatz.hub import Hub
from datenschatz.privacy.service import column_roles, update_roles
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep, frequency_label, theme_label
from datenschatz.web.i18n import language_of
from datenschatz.web.rendering import PREFIX, error_message, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ROLES = tuple(r.value for r in ColumnRole)
LEVELS = ("public", "partner")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _vocabularies(lang: str) -> dict[str, Any]:
    return {
        "themes": [(code, theme_label(code, lang)) for code in sorted(vocab.THEMES)],
        "licences": sorted(((k, v.title) for k, v in vocab.LICENCES.items()), key=lambda x: x[1]),
        "frequencies": [
            (code, frequency_label(code, lang) or code) for code in sorted(vocab.FREQUENCIES)
        ],
    }


def manage_context(hub: Hub, principal: Principal, slug: str, lang: str = "de") -> dict[str, Any]:
    """What the steward sees of ``slug`` (NotFound/Forbidden from the policy otherwise)."""
    with hub.session() as session:
        dataset = ensure_can_edit(session, principal, slug)
        info = DatasetInfo.of(dataset)
        meta = read_metadata(dataset)
        newest = VersionInfo.of(get_version(session, dataset, None)) if dataset.versions else None
        releases = list_releases(session, principal, dataset=slug)
    return {
        "dataset": info,
        "newest": newest,
        "quality": newest.quality if newest else {},
        "columns": column_roles(hub, principal, slug) if newest else [],
        "roles": ROLES,
        "levels": LEVELS,
        "releases": releases,
        "meta": meta,
        "vocab": _vocabularies(lang),
        "metadata_error": None,
    }


@router.get("/datasets/{slug}/manage", response_class=HTMLResponse)
def manage(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    web = web_session.current(request)
    if web is None or principal.anonymous:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    try:
        context = manage_context(hub, principal, slug, language_of(request)[0])
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(request, "manage.html", csrf=web.csrf, **context)


def _metadata_changes(form: Any) -> dict[str, Any]:
    """The metadata form as a change set (empty optional fields are cleared)."""
    keywords = [k.strip() for k in _text(form.get("keywords")).split(",") if k.strip()]
    changes: dict[str, Any] = {
        "title": _text(form.get("title")),
        "description": _text(form.get("description")),
        "keywords": keywords,
        "themes": [_text(v) for v in form.getlist("themes") if _text(v)],
        "licence": _text(form.get("licence")),
        "accrual_periodicity": _text(form.get("accrual_periodicity")) or None,
        "landing_page": _text(form.get("landing_page")).strip() or None,
    }
    name = _text(form.get("contact_name")).strip()
    email = _text(form.get("contact_email")).strip()
    if name or email:
        changes["contact"] = {"name": name, "email": email or None}
    return changes


@router.post("/datasets/{slug}/metadata", response_class=HTMLResponse)
async def save_metadata(
    slug: str, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    web = web_session.current(request)
    try:
        async with request.form(max_files=0) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            if principal.anonymous or web is None:
                raise Unauthorized("Sign in first.", key="auth.sign_in_first")
            changes = _metadata_changes(form)

        def run() -> None:
            with hub.session() as session:
                update_metadata(session, principal, slug, changes)

        await run_in_threadpool(run)
    except InputError as exc:
        assert web is not None
        context = manage_context(hub, principal, slug, language_of(request)[0])
        context["metadata_error"] = error_message(request, exc)
        return page(request, "manage.html", http_status=400, csrf=web.csrf, **context)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/datasets/{slug}/manage#metadata", status_code=303)


@router.post("/datasets/{slug}/roles")
async def save_roles(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        async with request.form(max_files=0) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            if principal.anonymous:
                raise Unauthorized("Sign in first.", key="auth.sign_in_first")
            roles = {
                key.removeprefix("role:"): _text(value)
                for key, value in form.multi_items()
                if key.startswith("role:") and _text(value)
            }
            accept = form.get("accept") == "1"
        await run_in_threadpool(
            lambda: update_roles(hub, principal, slug, roles or None, accept=accept)
        )
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/datasets/{slug}/manage#roles", status_code=303)


@router.post("/datasets/{slug}/release")
async def ask_release(
    slug: str, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    try:
        async with request.form(max_files=0) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            if principal.anonymous:
                raise Unauthorized("Sign in first.", key="auth.sign_in_first")
            purpose, level = _text(form.get("purpose")), _text(form.get("level"))
        # A failed automatic check leaves the request recorded with its checks, shown on the page.
        with contextlib.suppress(CheckFailed):
            await run_in_threadpool(
                lambda: request_release(hub, principal, slug, purpose=purpose, level=level)
            )
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/datasets/{slug}/manage#releases", status_code=303)
