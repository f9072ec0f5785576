"""`datenschatz release|withdraw|challenge|grant`: the release workflow and data challenges.

Run by whoever operates the server: without ``--as USER`` a command acts as the admin
``cli``; with it, as that user with their roles (a steward requesting, a reviewer deciding,
a team member applying). The services decide who may do what.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from datenschatz.commands import acting_principal
from datenschatz.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from datenschatz.access.policy import Principal
    from datenschatz.hub import Hub

release_app = typer.Typer(help="Release requests and the board's decisions.", no_args_is_help=True)
challenge_app = typer.Typer(help="Data challenges, teams and applications.", no_args_is_help=True)
grant_app = typer.Typer(help="Grants: a qualified team's partner access.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (default: the admin 'cli').")
]


def register(app: typer.Typer) -> None:
    """Add the sub-commands and `withdraw` to the root app."""
    app.add_typer(release_app, name="release")
    app.add_typer(challenge_app, name="challenge")
    app.add_typer(grant_app, name="grant")
    app.command("withdraw")(withdraw)


@contextmanager
def acting(as_user: str | None, as_json: bool) -> Iterator[tuple[Hub, Session, Principal]]:
    """Hub, session and principal for one command; errors print in the CLI's way."""
    from datenschatz.cli import handled, load_hub

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            yield hub, session, acting_principal(session, as_user)


def _show(data: Any, as_json: bool, text: str) -> None:
    from datenschatz.cli import emit, out

    if not emit(data, as_json):
        out.print(text, highlight=False, markup=False)


def _when(value: str, parameter: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            "Give a date as YYYY-MM-DD or an ISO date-time.", parameter=parameter
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _pairs(items: list[str], sep: str, parameter: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            raise InputError(f"Write {parameter} as KEY{sep}VALUE.", parameter=parameter)
        pairs.append((key.strip(), value.strip()))
    return pairs


# --- releases ---------------------------------------------------------------------------------


def _release_text(info: Any) -> str:
    lines = [
        f"Release {info.id}: {info.dataset} v{info.version} -> {info.target_level}, "
        f"{info.status}" + (f" ({info.reason})" if info.reason else "")
    ]
    for check in info.checks:
        mark = "ok" if check["passed"] else "FAILED"
        lines.append(f"  check {check['check']}: {mark} {check['reason']}".rstrip())
    for decision in info.decisions:
        verdict = "approved" if decision.approved else "rejected"
        lines.append(
            f"  {decision.question}: {verdict} by {decision.decided_by}"
            + (f": {decision.reason}" if decision.reason else "")
        )
    if info.status == "pending" and info.missing:
        lines.append("  waiting for: " + ", ".join(info.missing))
    return "\n".join(lines)


@release_app.command("request")
def release_request(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    purpose: Annotated[str, typer.Option(help="What the release is for.")],
    level: Annotated[str, typer.Option(help="Target access level: public or partner.")],
    version: Annotated[int | None, typer.Option(help="Version (default newest).")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Request the release of a version; the automatic checks run and are recorded."""
    from datenschatz.cli import handled, load_hub
    from datenschatz.governance import releases

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            who = acting_principal(session, as_user)
        info = releases.request_release(
            hub, who, slug, version=version, purpose=purpose, level=level
        )
        _show(info.to_dict(), as_json, _release_text(info))


@release_app.command("decide")
def release_decide(
    release_id: Annotated[int, typer.Argument(help="Release request id.")],
    question: Annotated[str, typer.Option(help="technical, political or ethical.")],
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="Approve or reject.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why; required for a rejection.")] = "",
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="Ethics checklist answer KEY=TEXT (purpose, harm, context, linkage).",
        ),
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer one board question of a pending release request."""
    from datenschatz.cli import handled, load_hub
    from datenschatz.governance import releases

    with handled(as_json):
        if approve is None:
            raise InputError("Say --approve or --reject.", parameter="approve")
        hub = load_hub()
        with hub.session() as session:
            who = acting_principal(session, as_user)
        info = releases.decide(
            hub,
            who,
            release_id,
            question=question,
            approve=approve,
            reason=reason,
            checklist=dict(_pairs(check or [], "=", "--check")),
        )
        _show(info.to_dict(), as_json, _release_text(info))


@release_app.command("status")
def release_status(
    target: Annotated[
        str | None, typer.Argument(help="A request id, or a dataset slug for its requests.")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a release request, a dataset's requests, or every request."""
    from datenschatz.governance import releases

    with acting(as_user, as_json) as (_hub, session, who):
        if target is not None and target.isdigit():
            info = releases.release_status(session, who, int(target))
            _show(info.to_dict(), as_json, _release_text(info))
            return
        found = releases.list_releases(session, who, dataset=target)
        _show(
            [r.to_dict() for r in found],
            as_json,
            "\n".join(_release_text(r) for r in found) or "No release requests.",
        )


@release_app.command("cancel")
def release_cancel(
    release_id: Annotated[int, typer.Argument(help="Release request id.")],
    reason: Annotated[str, typer.Option(help="Why the request is taken back.")] = "",
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take back a pending release request."""
    from datenschatz.cli import handled, load_hub
    from datenschatz.governance import releases

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            who = acting_principal(session, as_user)
        info = releases.cancel(hub, who, release_id, reason)
        _show(info.to_dict(), as_json, _release_text(info))


def withdraw(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    reason: Annotated[str, typer.Option(help="The public reason its URLs answer with (410).")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a published dataset: history stays, its URLs answer 410 Gone."""
    from datenschatz.cli import handled, load_hub
    from datenschatz.governance import releases

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            who = acting_principal(session, as_user)
        result = releases.withdraw(hub, who, slug, reason=reason)
        _show(result, as_json, f"Withdrew {slug} (version {result['version']}): {reason}")


# --- challenges -------------------------------------------------------------------------------


def _criteria(items: list[str]) -> list[dict[str, Any]]:
    criteria = []
    for item in items:
        name, _, rest = item.partition(":")
        weight, _, description = rest.partition(":")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise InputError(
                "Write a criterion as NAME:WEIGHT[:DESCRIPTION].", parameter="--criterion"
            ) from None
        criteria.append({"name": name.strip(), "weight": value, "description": description})
    return criteria


@challenge_app.command("create")
def challenge_create(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    title: Annotated[str, typer.Option(help="Title.")],
    question: Annotated[str, typer.Option(help="The question the city poses.")],
    terms: Annotated[str, typer.Option(help="Terms of use teams accept.")],
    dataset: Annotated[list[str], typer.Option("--dataset", help="Dataset slug (repeat).")],
    criterion: Annotated[
        list[str], typer.Option("--criterion", help="NAME:WEIGHT[:DESCRIPTION] (repeat).")
    ],
    applications_close: Annotated[str, typer.Option(help="Date applications close.")],
    access_ends: Annotated[str, typer.Option(help="Date every grant ends.")],
    background: Annotated[str, typer.Option(help="Background of the question.")] = "",
    demo_day: Annotated[str | None, typer.Option(help="Date of the demo day.")] = None,
    reviewer: Annotated[
        list[str] | None, typer.Option("--reviewer", help="Reviewer user name (repeat).")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a challenge (admins); `challenge publish` opens it."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        info = challenges.create_challenge(
            session,
            who,
            slug=slug,
            title=title,
            question=question,
            background=background,
            terms=terms,
            datasets=dataset,
            criteria=_criteria(criterion),
            applications_close_at=_when(applications_close, "--applications-close"),
            access_ends_at=_when(access_ends, "--access-ends"),
            demo_day_at=_when(demo_day, "--demo-day") if demo_day else None,
            reviewers=reviewer or [],
        )
        _show(info.to_dict(), as_json, f"Drafted challenge {info.slug}.")


@challenge_app.command("publish")
def challenge_publish(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a drafted challenge for applications."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        info = challenges.publish_challenge(session, who, slug)
        _show(info.to_dict(), as_json, f"Published challenge {info.slug}.")


@challenge_app.command("list")
def challenge_list(as_user: AsOption = None, as_json: JsonOption = False) -> None:
    """List the challenges."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        found = challenges.list_challenges(session, who)
        _show(
            [c.to_dict() for c in found],
            as_json,
            "\n".join(
                f"{c.slug} ({c.status}): {c.title}; applications close "
                f"{c.applications_close_at:%Y-%m-%d}"
                for c in found
            )
            or "No challenges.",
        )


@challenge_app.command("show")
def challenge_show(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a challenge: question, datasets, criteria, dates, terms."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        c = challenges.get_challenge(session, who, slug)
        text = "\n".join(
            [
                f"{c.title} ({c.status})",
                c.question,
                "datasets: " + ", ".join(f"{d['slug']} ({d['access_level']})" for d in c.datasets),
                "criteria: " + ", ".join(f"{k['name']} x{k['weight']:g}" for k in c.criteria),
                f"applications close {c.applications_close_at:%Y-%m-%d}, "
                f"access ends {c.access_ends_at:%Y-%m-%d}",
                f"terms: {c.terms}",
            ]
        )
        _show(c.to_dict(), as_json, text)


@challenge_app.command("team")
def challenge_team(
    name: Annotated[str, typer.Argument(help="Team name.")],
    member: Annotated[
        list[str] | None, typer.Option("--member", help="Another member's user name (repeat).")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a team; the acting user (--as) is a member."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        info = challenges.register_team(session, who, name, member or [])
        _show(info.to_dict(), as_json, f"Team {info.name}: {', '.join(info.members)}")


def _application_text(a: Any) -> str:
    line = f"Application {a.id}: team {a.team} -> {a.challenge}, {a.status}"
    if a.decision_reason:
        line += f" ({a.decision_reason})"
    if a.mean_score is not None:
        line += f", mean score {a.mean_score:g}"
    if a.grant_id is not None:
        line += f", grant {a.grant_id}"
    return line


@challenge_app.command("apply")
def challenge_apply(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    team: Annotated[str, typer.Option(help="Your team's name.")],
    proposal: Annotated[str, typer.Option(help="What the team proposes.")],
    need: Annotated[
        list[str], typer.Option("--need", help="DATASET:WHY, data the team needs (repeat).")
    ],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply to a challenge as a team."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        needs = [{"dataset": d, "why": w} for d, w in _pairs(need, ":", "--need")]
        info = challenges.apply(session, who, slug, team=team, proposal=proposal, data_needs=needs)
        _show(info.to_dict(), as_json, _application_text(info))


@challenge_app.command("applications")
def challenge_applications(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the applications you may see (all, for the challenge's reviewers)."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        found = challenges.list_applications(session, who, slug)
        _show(
            [a.to_dict() for a in found],
            as_json,
            "\n".join(_application_text(a) for a in found) or "No applications.",
        )


@challenge_app.command("score")
def challenge_score(
    application_id: Annotated[int, typer.Argument(help="Application id.")],
    score: Annotated[list[str], typer.Option("--score", help="CRITERION=0..10 (repeat).")],
    comment: Annotated[str, typer.Option(help="A note for the other reviewers.")] = "",
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score an application against every criterion of its challenge."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        scores: dict[str, Any] = dict(_pairs(score, "=", "--score"))
        info = challenges.score_application(session, who, application_id, scores, comment)
        _show(info.to_dict(), as_json, _application_text(info))


def _decide_application(
    application_id: int, qualify: bool, reason: str, as_user: str | None, as_json: bool
) -> None:
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        info = challenges.decide_application(
            session, who, application_id, qualify=qualify, reason=reason
        )
        _show(info.to_dict(), as_json, _application_text(info))


@challenge_app.command("qualify")
def challenge_qualify(
    application_id: Annotated[int, typer.Argument(help="Application id.")],
    reason: Annotated[str, typer.Option(help="The reason, which the team reads.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Qualify an application: the team gets a grant for the challenge's datasets."""
    _decide_application(application_id, True, reason, as_user, as_json)


@challenge_app.command("reject")
def challenge_reject(
    application_id: Annotated[int, typer.Argument(help="Application id.")],
    reason: Annotated[str, typer.Option(help="The reason, which the team reads.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject an application with a reason."""
    _decide_application(application_id, False, reason, as_user, as_json)


@challenge_app.command("submit")
def challenge_submit(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    team: Annotated[str, typer.Option(help="Your team's name.")],
    title: Annotated[str, typer.Option(help="Title of the result.")],
    text: Annotated[str, typer.Option(help="Description.")] = "",
    link: Annotated[list[str] | None, typer.Option("--link", help="URL (repeat).")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a qualified team's result for the demo day."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        info = challenges.submit_result(
            session, who, slug, team=team, title=title, text=text, links=link or []
        )
        _show(info.to_dict(), as_json, f"Submission {info.id}: {info.title}")


@challenge_app.command("submissions")
def challenge_submissions(
    slug: Annotated[str, typer.Argument(help="Challenge slug.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the demo-day submissions you may see."""
    from datenschatz.governance import challenges

    with acting(as_user, as_json) as (_hub, session, who):
        found = challenges.list_submissions(session, who, slug)
        _show(
            [s.to_dict() for s in found],
            as_json,
            "\n".join(f"{s.id} {s.team}: {s.title} {' '.join(s.links)}" for s in found)
            or "No submissions.",
        )


# --- grants -----------------------------------------------------------------------------------


def _grant_text(g: Any) -> str:
    state = "active" if g.active else ("revoked" if g.revoked_at else "inactive")
    return (
        f"Grant {g.id} ({g.challenge}, team {g.team_id}): {state} until "
        f"{g.ends_at:%Y-%m-%d}; datasets {', '.join(g.datasets)}; token scope {g.scope}"
    )


@grant_app.command("list")
def grant_list(as_user: AsOption = None, as_json: JsonOption = False) -> None:
    """The grants you may see."""
    from datenschatz.governance import grants

    with acting(as_user, as_json) as (_hub, session, who):
        found = grants.list_grants(session, who)
        _show(
            [g.to_dict() for g in found],
            as_json,
            "\n".join(_grant_text(g) for g in found) or "No grants.",
        )


@grant_app.command("accept")
def grant_accept(
    grant_id: Annotated[int, typer.Argument(help="Grant id.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept the challenge's terms for your team: the grant becomes active."""
    from datenschatz.governance import grants

    with acting(as_user, as_json) as (_hub, session, who):
        info = grants.accept_grant(session, who, grant_id)
        _show(info.to_dict(), as_json, _grant_text(info))


@grant_app.command("revoke")
def grant_revoke(
    grant_id: Annotated[int, typer.Argument(help="Grant id.")],
    reason: Annotated[str, typer.Option(help="Why the access ends now.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """End a grant at once (admins)."""
    from datenschatz.governance import grants

    with acting(as_user, as_json) as (_hub, session, who):
        info = grants.revoke_grant(session, who, grant_id, reason)
        _show(info.to_dict(), as_json, _grant_text(info))


@grant_app.command("usage")
def grant_usage(
    grant_id: Annotated[int, typer.Argument(help="Grant id.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """A grant's counted requests, downloads and rows per dataset."""
    from datenschatz.governance import grants

    with acting(as_user, as_json) as (_hub, session, who):
        usage = grants.grant_usage(session, who, grant_id)
        lines = [
            f"Grant {grant_id}: {usage['requests']} requests, {usage['downloads']} downloads, "
            f"{usage['rows']} rows"
        ]
        lines += [
            f"  {d['dataset']}: {d['requests']} requests, {d['downloads']} downloads, "
            f"{d['rows']} rows"
            for d in usage["datasets"]
        ]
        _show(usage, as_json, "\n".join(lines))


@grant_app.command("request-dataset")
def grant_request_dataset(
    grant_id: Annotated[int, typer.Argument(help="Grant id.")],
    dataset: Annotated[str, typer.Argument(help="Dataset slug.")],
    why: Annotated[str, typer.Option(help="Why the team needs it.")],
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask for a dataset beyond the challenge's; a reviewer decides."""
    from datenschatz.governance import grants

    with acting(as_user, as_json) as (_hub, session, who):
        info = grants.request_extra_dataset(session, who, grant_id, dataset, why)
        _show(info.to_dict(), as_json, f"Request {info.id}: {info.dataset}, {info.status}")


@grant_app.command("decide-dataset")
def grant_decide_dataset(
    request_id: Annotated[int, typer.Argument(help="Extra-dataset request id.")],
    reason: Annotated[str, typer.Option(help="The reason, which the team reads.")],
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="Approve or reject.")
    ] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide a team's request for an extra dataset."""
    from datenschatz.governance import grants

    with acting(as_user, as_json) as (_hub, session, who):
        if approve is None:
            raise InputError("Say --approve or --reject.", parameter="approve")
        info = grants.decide_extra_dataset(session, who, request_id, approve=approve, reason=reason)
        _show(info.to_dict(), as_json, f"Request {info.id}: {info.dataset}, {info.status}")
