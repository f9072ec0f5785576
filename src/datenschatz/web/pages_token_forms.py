"""Issuing and revoking API tokens on the web: an admin for any user (``/admin/tokens``), and
every signed-in user for themselves (``/partner/tokens``).

The answer page of a new token is the only place its secret ever appears: it is rendered once
in the answer to the form (``Cache-Control: no-store``), stored only as its SHA-256, and never
written to a log or an audit event. Scopes are checkboxes (``read``, ``write``,
``sensors:write``, ``admin`` for admins, and ``grant:N`` to limit a token to one grant); the
expiry is a number of days (empty: no expiry). The token services ask the access policy what
is allowed (:mod:`datenschatz.access.policy`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access.policy import ensure_admin
from datenschatz.errors import DatenschatzError
from datenschatz.governance import accounts, own_tokens, tokens
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.formkit import (
    FormState,
    Submitted,
    positive_int,
    submit_form,
)
from datenschatz.web.pages_admin import render_admin
from datenschatz.web.pages_partner import render_partner
from datenschatz.web.rendering import PREFIX, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _shown_once(request: Request, issued: tokens.IssuedToken, back: str) -> Response:
    root = str(request.base_url).rstrip("/")
    response = page(
        request,
        "token_created.html",
        secret=issued.secret,
        token=issued.info,
        back=back,
        root=root,
    )
    response.headers.update(NO_STORE)
    return response


@router.post("/admin/tokens", response_class=HTMLResponse)
async def admin_create_token(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def run(form: Submitted) -> tokens.IssuedToken:
        ensure_admin(principal)
        days = positive_int(form.get("expires_days"), "expires_days")
        with hub.session() as session:
            return tokens.create_token(
                session,
                accounts.get_user(session, form.get("user")),
                scopes=form.getlist("scope"),
                expires_days=days,
                label=form.get("label"),
                actor=principal.name,
            )

    def done(form: Submitted, issued: tokens.IssuedToken) -> Response:
        return _shown_once(request, issued, f"{PREFIX}/admin#tokens")

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_admin(request, hub, principal, state, exc.status)

    return await submit_form(request, "create-token", run, done=done, again=again)


@router.post("/partner/tokens", response_class=HTMLResponse)
async def create_own_token(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def run(form: Submitted) -> tokens.IssuedToken:
        days = positive_int(form.get("expires_days"), "expires_days")
        with hub.session() as session:
            return own_tokens.create_own_token(
                session,
                principal,
                scopes=form.getlist("scope"),
                expires_days=days,
                label=form.get("label"),
            )

    def done(form: Submitted, issued: tokens.IssuedToken) -> Response:
        return _shown_once(request, issued, f"{PREFIX}/partner#tokens")

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_partner(request, hub, principal, state, exc.status)

    return await submit_form(request, "own-token", run, done=done, again=again)


@router.post("/partner/tokens/{token_id}/revoke")
async def revoke_own_token(
    token_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    def run(form: Submitted) -> None:
        with hub.session() as session:
            own_tokens.revoke_own_token(session, principal, token_id, reason=form.get("reason"))

    def done(form: Submitted, _result: None) -> Response:
        return RedirectResponse(f"{PREFIX}/partner?done=token_revoked#tokens", status_code=303)

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_partner(request, hub, principal, state, exc.status)

    return await submit_form(request, f"revoke-token-{token_id}", run, done=done, again=again)
