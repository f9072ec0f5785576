"""Command groups of the `datenschatz` command line, one module per area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datenschatz.access.policy import system_admin

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from datenschatz.access.policy import Principal

ACTOR = "cli"  # the operator at the command line, as the audit log names them
CLI_ADMIN = system_admin(ACTOR)


def acting_principal(session: Session, as_user: str | None) -> Principal:
    """The principal a command acts as: a named user (``--as``), or the operator as admin."""
    if as_user is None:
        return CLI_ADMIN
    from datenschatz.governance.accounts import get_user, principal_for_user

    return principal_for_user(session, get_user(session, as_user).id)
