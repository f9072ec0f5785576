"""The data challenges on the web, past the public overview: one challenge's page with its
forms, and the page where the challenge's reviewers decide.

- ``/challenges/{slug}``: the question, data, dates, criteria and terms; for signed-in users
  their teams, their applications with the decision and its reason, and the forms to register
  a team, apply and (qualified teams) submit a result.
- ``/challenges/{slug}/manage``: for the challenge's reviewers (and admins): publishing a
  draft (admins), every application with its scores, a scoring form per criterion and the
  decision (qualifying creates the team's grant), the grants with their extra-data requests to
  decide and a form to revoke them (admins), and the submissions.
- A team member asks for an extra dataset for an active grant from ``/partner``.

Thin adapters over :mod:`datenschatz.governance.challenges` and
:mod:`datenschatz.governance.grants`; who may do and see what is decided in
:mod:`datenschatz.access.policy`, which these pages also ask what to show (the reviewers'
link, the admins' forms). A failed form shows its page again with the service's message, the
values entered and the error's 4xx status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from datenschatz.access import policy
from datenschatz.access.policy import Principal
from datenschatz.errors import DatenschatzError, InputError, NotFound, Unauthorized
from datenschatz.governance import challenges, grants
from datenschatz.hub import Hub
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.formkit import (
    FormState,
    Submitted,
    render_signed_in,
    submit_form,
)
from datenschatz.web.pages_admin import render_admin
from datenschatz.web.pages_partner import render_partner
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# Confirmations after a form (``?done=``), each a text ``challenge.done.<name>``.
PAGE_DONE = frozenset({"team", "apply", "submit"})
MANAGE_DONE = frozenset(
    {
        "created",
        "published",
        "scored",
        "qualified",
        "rejected",
        "extra_approved",
        "extra_refused",
        "grant_revoked",
    }
)


def _manage_url(slug: str, done: str, anchor: str = "") -> str:
    target = f"{PREFIX}/challenges/{quote(slug, safe='')}/manage?done={done}"
    return target + (f"#{anchor}" if anchor else "")


# --- the challenge's page ---------------------------------------------------------------------


def challenge_context(hub: Hub, principal: Principal, slug: str, signed: bool) -> dict[str, Any]:
    with hub.session() as session:
        challenge = challenges.get_challenge(session, principal, slug)
        if not signed or principal.user_id is None:
            return {"challenge": challenge, "teams": [], "applications": [], "submissions": []}
        teams = [
            t for t in challenges.list_teams(session, principal) if principal.name in t.members
        ]
        names = {t.name for t in teams}
        applications = [
            a for a in challenges.list_applications(session, principal, slug) if a.team in names
        ]
        submissions = [
            s for s in challenges.list_submissions(session, principal, slug) if s.team in names
        ]
        reviewer = policy.can_review_challenge(
            principal, policy.ensure_challenge(session, principal, slug)
        )
    return {
        "challenge": challenge,
        "teams": teams,
        "applications": applications,
        "applied": {a.team for a in applications},
        "qualified": [a.team for a in applications if a.status == "qualified"],
        "submissions": submissions,
        "reviewer": reviewer,
    }


def render_challenge(
    request: Request,
    hub: Hub,
    principal: Principal,
    slug: str,
    form: FormState | None = None,
    http_status: int = 200,
) -> Response:
    web = web_session.current(request)
    signed = web is not None and principal.user_id is not None
    try:
        context = challenge_context(hub, principal, slug, signed)
    except DatenschatzError as exc:
        return error_page(request, exc)
    done = request.query_params.get("done", "")
    return page(
        request,
        "challenge.html",
        http_status=http_status,
        root=str(request.base_url).rstrip("/"),
        csrf=web.csrf if web is not None and signed else None,
        form=form,
        done=done if done in PAGE_DONE and form is None else None,
        **context,
    )


@router.get("/challenges/{slug}", response_class=HTMLResponse)
def challenge_page(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    return render_challenge(request, hub, principal, slug)


def _links(text: str) -> list[str]:
    return [x for x in text.split() if x]


def _not_signed_in(exc: DatenschatzError) -> bool:
    """A team's forms show a refusal (not a member, ...) on the page; only a missing sign-in
    answers the error page."""
    return isinstance(exc, Unauthorized)


@router.post("/challenges/{slug}/{action}", response_class=HTMLResponse)
async def challenge_action(
    slug: str, action: str, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    """Register a team, apply as a team, or submit a result (signed-in users)."""
    if action not in PAGE_DONE:
        return error_page(request, NotFound("No such page.", key="challenge.no_such_form"))

    def run(form: Submitted) -> None:
        with hub.session() as session:
            if action == "team":
                challenges.register_team(session, principal, form.get("name"))
            elif action == "apply":
                why = form.get("why")
                needs = [{"dataset": d, "why": why} for d in form.getlist("dataset")]
                challenges.apply(
                    session,
                    principal,
                    slug,
                    team=form.get("team"),
                    proposal=form.get("proposal"),
                    data_needs=needs,
                )
            else:
                challenges.submit_result(
                    session,
                    principal,
                    slug,
                    team=form.get("team"),
                    title=form.get("title"),
                    text=form.get("text"),
                    links=_links(form.get("links")),
                )

    def done(form: Submitted, _result: None) -> Response:
        target = f"{PREFIX}/challenges/{quote(slug, safe='')}?done={action}"
        return RedirectResponse(target, status_code=303)

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_challenge(request, hub, principal, slug, state, exc.status)

    return await submit_form(
        request,
        action,
        run,
        done=done,
        again=again,
        refused=_not_signed_in,
    )


# --- the reviewers' page ----------------------------------------------------------------------


def manage_context(hub: Hub, principal: Principal, slug: str) -> dict[str, Any]:
    with hub.session() as session:
        challenge = challenges.get_challenge(session, principal, slug)
        policy.ensure_can_see_reviews(principal, policy.ensure_challenge(session, principal, slug))
        applications = challenges.list_applications(session, principal, slug)
        mine: dict[int, dict[str, Any]] = {}
        for a in applications:
            for s in a.scores or []:
                if s["reviewer"] == principal.name:
                    mine[a.id] = s
        teams = {a.grant_id: a.team for a in applications if a.grant_id is not None}
        found = [g for g in grants.list_grants(session, principal) if g.challenge == slug]
        extra = {g.id: grants.list_extra_requests(session, principal, g.id) for g in found}
        submissions = challenges.list_submissions(session, principal, slug)
    return {
        "challenge": challenge,
        "applications": applications,
        "my_scores": mine,
        "grants": found,
        "grant_teams": teams,
        "extra": extra,
        "submissions": submissions,
        # The admin link, publishing a draft and revoking a grant.
        "is_admin": policy.can_manage_challenges(principal),
    }


def render_manage(
    request: Request,
    hub: Hub,
    principal: Principal,
    slug: str,
    form: FormState | None = None,
    http_status: int = 200,
) -> Response:
    return render_signed_in(
        request,
        principal,
        "challenge_manage.html",
        lambda: manage_context(hub, principal, slug),
        form=form,
        http_status=http_status,
        done_values=MANAGE_DONE,
    )


@router.get("/challenges/{slug}/manage", response_class=HTMLResponse)
def manage_page(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    return render_manage(request, hub, principal, slug)


# A reviewer's form: its work in one transaction, returning (challenge slug, done, anchor).
ManageAction = Callable[[Session, Submitted], tuple[str, str, str]]


async def manage_form(
    request: Request, hub: Hub, principal: Principal, form_id: str, action: ManageAction
) -> Response:
    """Run a form of the reviewers' page; on a service error show that page (or, for forms
    sent from the admin page, ``back=admin``, the admin page) again with the error."""

    def run(form: Submitted) -> tuple[str, str, str]:
        with hub.session() as session:
            return action(session, form)

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        if form.get("back") == "admin":
            return render_admin(request, hub, principal, state, exc.status)
        back = form.get("challenge")
        if not back:
            return error_page(request, exc)
        shown = render_manage(request, hub, principal, back, state, exc.status)
        return shown if shown.status_code == exc.status else error_page(request, exc)

    def done(form: Submitted, result: tuple[str, str, str]) -> Response:
        slug, note, anchor = result
        if form.get("back") == "admin":
            return RedirectResponse(f"{PREFIX}/admin?done={note}#challenges", status_code=303)
        return RedirectResponse(_manage_url(slug, note, anchor), status_code=303)

    return await submit_form(request, form_id, run, done=done, again=again)


@router.post("/challenges/{slug}/manage/publish")
async def publish(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    def action(session: Session, form: Submitted) -> tuple[str, str, str]:
        challenges.publish_challenge(session, principal, slug)
        return slug, "published", ""

    return await manage_form(request, hub, principal, "publish", action)


@router.post("/applications/{application_id}/score")
async def score(
    application_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    """Scores per criterion: the fields ``score-0``, ``score-1``, … in the criteria's order."""

    def action(session: Session, form: Submitted) -> tuple[str, str, str]:
        found = challenges.get_application(session, principal, application_id)
        criteria = challenges.get_challenge(session, principal, found.challenge).criteria
        scores: dict[str, Any] = {}
        for i, criterion in enumerate(criteria):
            value = form.get(f"score-{i}").replace(",", ".")
            if value:
                scores[criterion["name"]] = value
        challenges.score_application(
            session, principal, application_id, scores, form.get("comment")
        )
        return found.challenge, "scored", f"application-{application_id}"

    return await manage_form(request, hub, principal, f"score-{application_id}", action)


@router.post("/applications/{application_id}/decision")
async def decide(
    application_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    def action(session: Session, form: Submitted) -> tuple[str, str, str]:
        decision = form.get("decision")
        if decision not in ("qualify", "reject"):
            raise InputError(
                "Qualify or reject the application.",
                key="challenge.decision_missing",
                parameter="decision",
            )
        found = challenges.decide_application(
            session,
            principal,
            application_id,
            qualify=decision == "qualify",
            reason=form.get("reason"),
        )
        done = "qualified" if decision == "qualify" else "rejected"
        return found.challenge, done, f"application-{application_id}"

    return await manage_form(request, hub, principal, f"decide-{application_id}", action)


@router.post("/extra-requests/{request_id}/decision")
async def decide_extra(
    request_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    def action(session: Session, form: Submitted) -> tuple[str, str, str]:
        decision = form.get("decision")
        if decision not in ("approve", "refuse"):
            raise InputError(
                "Approve or refuse the request.",
                key="challenge.extra_decision_missing",
                parameter="decision",
            )
        found = grants.decide_extra_dataset(
            session, principal, request_id, approve=decision == "approve", reason=form.get("reason")
        )
        grant = grants.grant_info(session, grants.get_grant(session, principal, found.grant_id))
        done = "extra_approved" if decision == "approve" else "extra_refused"
        return grant.challenge, done, f"grant-{found.grant_id}"

    return await manage_form(request, hub, principal, f"extra-decide-{request_id}", action)


@router.post("/grants/{grant_id}/revoke")
async def revoke_grant(
    grant_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    def action(session: Session, form: Submitted) -> tuple[str, str, str]:
        found = grants.revoke_grant(session, principal, grant_id, form.get("reason"))
        return found.challenge, "grant_revoked", f"grant-{grant_id}"

    return await manage_form(request, hub, principal, f"revoke-grant-{grant_id}", action)


# --- a team's request for more data -----------------------------------------------------------


@router.post("/grants/{grant_id}/extra")
async def request_extra(
    grant_id: int, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    def run(form: Submitted) -> None:
        with hub.session() as session:
            grants.request_extra_dataset(
                session, principal, grant_id, form.get("dataset"), form.get("why")
            )

    def done(form: Submitted, _result: None) -> Response:
        return RedirectResponse(f"{PREFIX}/partner?done=extra#grant-{grant_id}", status_code=303)

    def again(form: Submitted, state: FormState, exc: DatenschatzError) -> Response:
        return render_partner(request, hub, principal, state, exc.status)

    return await submit_form(
        request,
        f"extra-{grant_id}",
        run,
        done=done,
        again=again,
        refused=_not_signed_in,
    )
