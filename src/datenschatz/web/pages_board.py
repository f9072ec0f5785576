"""The release board's pages: the review queue, one request with the quality and privacy
reports side by side, the ethics checklist, and a decision with its reason.

Reviewers see the requests the release service lets them see; deciding goes through
:func:`datenschatz.governance.releases.decide` (four eyes, question per board member).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal, can_answer_release_question, ensure_version
from datenschatz.catalog.datasets import VersionInfo
from datenschatz.errors import DatenschatzError, InputError, Unauthorized
from datenschatz.governance.releases import (
    ETHICS_CHECKLIST,
    QUESTION_KIND,
    decide,
    list_releases,
    release_status,
)
from datenschatz.hub import Hub
from datenschatz.privacy.gate import stored_report
from datenschatz.privacy.report import without_rows
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _my_questions(principal: Principal, missing: list[str]) -> list[str]:
    """The open questions ``principal`` answers (an admin or a reviewer without kind: all)."""
    return [
        q
        for q, kind in ((q.value, k) for q, k in QUESTION_KIND.items())
        if q in missing and can_answer_release_question(principal, kind)
    ]


def review_context(hub: Hub, principal: Principal, release_id: int) -> dict[str, Any]:
    with hub.session() as session:
        release = release_status(session, principal, release_id)
        version = ensure_version(session, principal, release.dataset, release.version)
        info = VersionInfo.of(version)
        report = stored_report(session, version)
    return {
        "release": release,
        "version": info,
        "quality": info.quality,
        "privacy": without_rows(report) if report else None,
        "questions": _my_questions(principal, release.missing),
        "checklist": ETHICS_CHECKLIST,
    }


def _signed_in(request: Request, principal: Principal) -> web_session.WebSession | None:
    web = web_session.current(request)
    return None if web is None or principal.anonymous else web


@router.get("/board", response_class=HTMLResponse)
def queue(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    if _signed_in(request, principal) is None:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    with hub.session() as session:
        pending = list_releases(session, principal, status="pending")
    return page(request, "board.html", releases=pending)


@router.get("/board/{release_id}", response_class=HTMLResponse)
def review(release_id: int, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    web = _signed_in(request, principal)
    if web is None:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    try:
        context = review_context(hub, principal, release_id)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(request, "review.html", csrf=web.csrf, **context)


@router.post("/board/{release_id}/decide")
async def decide_release(
    release_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    try:
        async with request.form(max_files=0) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            if principal.anonymous:
                raise Unauthorized("Sign in first.", key="auth.sign_in_first")
            verdict = _text(form.get("verdict"))
            if verdict not in ("approve", "reject"):
                raise InputError("Approve or reject.", parameter="verdict")
            question, reason = _text(form.get("question")), _text(form.get("reason"))
            checklist = {
                item: _text(form.get(f"checklist:{item}"))
                for item in ETHICS_CHECKLIST
                if _text(form.get(f"checklist:{item}")).strip()
            }
        await run_in_threadpool(
            lambda: decide(
                hub,
                principal,
                release_id,
                question=question,
                approve=verdict == "approve",
                reason=reason,
                checklist=checklist or None,
            )
        )
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/board/{release_id}", status_code=303)
