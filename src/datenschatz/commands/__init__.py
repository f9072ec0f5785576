"""Command groups of the `datenschatz` command line, one module per area.

Start-up matters here: ``datenschatz --help`` and every command import all command modules
to register them, so these modules import only typer, rich and the standard library at module
level. Services, models, SQLAlchemy and the hub are imported inside the commands that use
them (``tests/test_cli_imports.py`` keeps it so).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from datenschatz.access.policy import Principal

ACTOR = "cli"  # the operator at the command line, as the audit log names them


@cache
def cli_admin() -> Principal:
    """The operator at the command line, acting as admin."""
    from datenschatz.access.policy import system_admin

    return system_admin(ACTOR)


def acting_principal(session: Session, as_user: str | None) -> Principal:
    """The principal a command acts as: a named user (``--as``), or the operator as admin."""
    if as_user is None:
        return cli_admin()
    from datenschatz.governance.accounts import get_user, principal_for_user

    return principal_for_user(session, get_user(session, as_user).id)
