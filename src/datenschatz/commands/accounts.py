"""`datenschatz user|token|audit`: accounts, API tokens and the audit log on the command line.

Run by whoever operates the server, so the audit log names the actor ``cli``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from datenschatz.errors import InputError

user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

ACTOR = "cli"
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin, steward, reviewer or partner.")],
    org: Annotated[str | None, typer.Option(help="Organization slug (stewards).")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="Reviewer kind: data_owner, data_protection_officer, ethics_reviewer."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password from standard input.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create user NAME with a role, or give an existing user another role."""
    from sqlalchemy import select

    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.db.governance_models import User
    from datenschatz.governance import accounts

    with handled(as_json):
        password = _read_password() if password_stdin else None
        hub = load_hub()
        with hub.session() as session:
            existing = session.scalar(select(User).where(User.name == name))
            if existing is None:
                info = accounts.create_user(
                    session,
                    name,
                    role=role,
                    org=org,
                    reviewer_kind=kind,
                    password=password,
                    actor=ACTOR,
                )
            else:
                accounts.add_role(session, existing, role, org=org, reviewer_kind=kind, actor=ACTOR)
                if password:
                    accounts.set_password(session, existing, password, actor=ACTOR)
                info = accounts.user_info(session, name)
        if not emit(info.to_dict(), as_json):
            roles = ", ".join(_role_text(m.to_dict()) for m in info.memberships)
            out.print(f"User {info.name} (id {info.id}): {roles}", highlight=False)


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InputError("No password on standard input.", parameter="password")
    return password


def _role_text(membership: dict[str, str | None]) -> str:
    extra = membership.get("organization") or membership.get("reviewer_kind")
    return f"{membership['role']} ({extra})" if extra else str(membership["role"])


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List users and their roles."""
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.governance import accounts

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            users = accounts.list_users(session)
        if emit([u.to_dict() for u in users], as_json):
            return
        table = Table("id", "name", "active", "roles")
        for u in users:
            roles = ", ".join(_role_text(m.to_dict()) for m in u.memberships)
            table.add_row(str(u.id), u.name, "yes" if u.active else "no", roles)
        out.print(table)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The user the token belongs to.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, write, sensors:write, admin or grant:N (repeat)."),
    ] = None,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="Days until the token expires.")
    ] = None,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Issue a token for user NAME and print it, alone, on standard output (shown once)."""
    from datenschatz.cli import handled, load_hub
    from datenschatz.governance import accounts, tokens

    with handled():
        hub = load_hub()
        with hub.session() as session:
            issued = tokens.create_token(
                session,
                accounts.get_user(session, name),
                scopes=scope or tokens.DEFAULT_SCOPES,
                expires_days=expires_days,
                label=label,
                actor=ACTOR,
            )
        print(issued.secret)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (see token list).")],
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Revoke token ID at once."""
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.governance import tokens

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            info = tokens.revoke_token(session, token_id, actor=ACTOR, reason=reason)
        if not emit(info.to_dict(), as_json):
            out.print(f"Token {info.id} ({info.prefix}…) of {info.user} is revoked.")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens (never their secrets)."""
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.governance import tokens

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            infos = tokens.list_tokens(session, user)
        if emit([t.to_dict() for t in infos], as_json):
            return
        table = Table("id", "user", "prefix", "scopes", "expires", "last used", "revoked")
        for t in infos:
            table.add_row(
                str(t.id),
                t.user,
                t.prefix + "…",
                " ".join(t.scopes),
                t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "",
                t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "",
                "yes" if t.revoked_at else "",
            )
        out.print(table)


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Check the hash chain; exit status 1 and the first bad event when it was tampered with."""
    from datenschatz.cli import emit, err, handled, load_hub, out
    from datenschatz.governance import audit

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            result = audit.verify(session)
        if not emit(result.to_dict(), as_json):
            if result.ok:
                out.print(f"Audit log intact: {result.checked} events.")
            else:
                err.print(
                    f"[bold red]Audit log broken[/] at event {result.first_bad_seq}: "
                    f"{result.problem}",
                    highlight=False,
                )
        if not result.ok:
            raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option(help="Who acted.")] = None,
    action: Annotated[str | None, typer.Option(help="Action, or a prefix ending in *.")] = None,
    object_type: Annotated[str | None, typer.Option("--object-type")] = None,
    object_id: Annotated[str | None, typer.Option("--object-id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    csv_out: Annotated[
        bool, typer.Option("--csv", help="Every matching event as CSV, oldest first.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The newest audit events (filterable), as a table, JSON or CSV."""
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.governance import audit

    where = audit.AuditFilter(actor, action, object_type, object_id)
    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            if csv_out:
                for chunk in audit.export_csv(session, where):
                    sys.stdout.write(chunk)
                return
            _total, page = audit.events(session, where, limit=limit)
            rows = [audit.event_dict(e) for e in page]
        if emit(rows, as_json):
            return
        table = Table("seq", "at", "actor", "action", "object", "reason")
        for row in rows:
            table.add_row(
                str(row["seq"]),
                row["at"][:19].replace("T", " "),
                row["actor"],
                row["action"],
                f"{row['object_type']} {row['object_id']}",
                row["reason"],
            )
        out.print(table)
