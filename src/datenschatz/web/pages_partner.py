"""The partner's page: my teams, my grants with their data, end dates and terms (accepting the
terms activates a grant), each grant's extra-data requests with a form to ask for more, and my
API tokens (never their secrets) with forms to issue and revoke them.

Granted datasets open on their normal dataset pages: the access policy lets an active grant's
holder see them, and nobody else. The forms' handlers live in ``pages_token_forms.py`` and
``pages_challenge_forms.py``; after a failed form they render this page again with
:func:`render_partner`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal, Scope, can_hold_scope
from datenschatz.db.governance_release_models import Challenge
from datenschatz.errors import DatenschatzError, Unauthorized
from datenschatz.governance import challenges, grants, own_tokens
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


# Confirmations after a form (``?done=``), each a text ``partner.done.<name>``.
DONE = frozenset({"token_revoked", "extra", "accepted"})


def partner_context(hub: Hub, principal: Principal) -> dict[str, Any]:
    with hub.session() as session:
        teams = [
            t for t in challenges.list_teams(session, principal) if principal.name in t.members
        ]
        team_ids = {t.id for t in teams}
        # My grants: those of my teams (admins and reviewers see more grants on /web/admin).
        mine = [g for g in grants.list_grants(session, principal) if g.team_id in team_ids]
        slugs = sorted({g.challenge for g in mine})
        terms = {
            c.slug: c.terms
            for c in session.scalars(select(Challenge).where(Challenge.slug.in_(slugs)))
        }
        extra = {g.id: grants.list_extra_requests(session, principal, g.id) for g in mine}
        tokens = own_tokens.list_own_tokens(session, principal)
    scopes = [s.value for s in Scope if can_hold_scope(principal.roles, s.value)]
    return {
        "teams": teams,
        "team_names": {t.id: t.name for t in teams},
        "grants": mine,
        "terms": terms,
        "extra": extra,
        "tokens": tokens,
        "scopes": scopes,
    }


def render_partner(
    request: Request,
    hub: Hub,
    principal: Principal,
    form: FormState | None = None,
    http_status: int = 200,
) -> Response:
    """The partner page; with ``form``, a failed form shows its error and the entered values."""
    return render_signed_in(
        request,
        principal,
        "partner.html",
        lambda: partner_context(hub, principal),
        form=form,
        http_status=http_status,
        done_values=DONE,
    )


@router.get("/partner", response_class=HTMLResponse)
def partner(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    return render_partner(request, hub, principal)


@router.post("/grants/{grant_id}/accept")
async def accept(grant_id: int, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def run(form: Submitted) -> None:
        if principal.anonymous:
            raise Unauthorized("Sign in first.", key="auth.sign_in_first")
        with hub.session() as session:
            grants.accept_grant(session, principal, grant_id)

    def done(form: Submitted, _result: None) -> Response:
        return RedirectResponse(f"{PREFIX}/partner?done=accepted#grant-{grant_id}", status_code=303)

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_partner(request, hub, principal, state, exc.status)

    return await submit_form(request, f"accept-{grant_id}", run, done=done, again=again)
