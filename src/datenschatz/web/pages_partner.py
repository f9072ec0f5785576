"""The partner's page: my grants with their data, end dates and terms (accepting the terms
activates a grant), and my API tokens (never their secrets).

Granted datasets open on their normal dataset pages: the access policy lets an active grant's
holder see them, and nobody else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal
from datenschatz.db.governance_release_models import Challenge
from datenschatz.errors import DatenschatzError, Unauthorized
from datenschatz.governance import grants
from datenschatz.governance.tokens import list_tokens
from datenschatz.hub import Hub
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def partner_context(hub: Hub, principal: Principal) -> dict[str, Any]:
    with hub.session() as session:
        mine = grants.list_grants(session, principal)
        slugs = sorted({g.challenge for g in mine})
        terms = {
            c.slug: c.terms
            for c in session.scalars(select(Challenge).where(Challenge.slug.in_(slugs)))
        }
        tokens = list_tokens(session, principal.name) if principal.user_id is not None else []
    return {"grants": mine, "terms": terms, "tokens": tokens}


@router.get("/partner", response_class=HTMLResponse)
def partner(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    web = web_session.current(request)
    if web is None or principal.anonymous:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    return page(request, "partner.html", csrf=web.csrf, **partner_context(hub, principal))


@router.post("/grants/{grant_id}/accept")
async def accept(grant_id: int, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        async with request.form(max_files=0) as form:
            csrf = form.get("csrf")
            web_session.check_csrf(request, csrf if isinstance(csrf, str) else None)
        if principal.anonymous:
            raise Unauthorized("Sign in first.")

        def run() -> None:
            with hub.session() as session:
                grants.accept_grant(session, principal, grant_id)

        await run_in_threadpool(run)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"{PREFIX}/partner", status_code=303)
