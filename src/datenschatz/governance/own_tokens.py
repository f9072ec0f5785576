"""A signed-in user's own API tokens: issue one for yourself, revoke one of yours.

Admins issue tokens for anyone with :func:`~datenschatz.governance.tokens.create_token`; this
module is the self-service: the token always belongs to the caller. A new token never gets
more than a signed-in person already has: the caller must be a person signed in (a token may
not mint tokens, or a ``grant:N`` token could widen itself), the ``admin`` scope stays with
admins (``tokens``), and a ``grant:N`` scope must name a grant of the caller's teams.
The access policy decides these rules (``ensure_can_issue_token``, ``ensure_own_grant``,
``ensure_own_token`` in :mod:`datenschatz.access.policy`); this module does the work.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from datenschatz.access import policy
from datenschatz.access.policy import Principal
from datenschatz.db.governance_models import User
from datenschatz.errors import NotFound
from datenschatz.governance import grants, tokens

__all__ = ["create_own_token", "list_own_tokens", "revoke_own_token"]


def _me(session: Session, principal: Principal) -> User:
    user_id = policy.ensure_can_issue_token(principal)
    user = session.get(User, user_id)
    if user is None:  # pragma: no cover - principals are built from existing users
        raise NotFound("No such user.")
    return user


def create_own_token(
    session: Session,
    principal: Principal,
    *,
    scopes: Iterable[str],
    expires_days: int | None = None,
    label: str = "",
) -> tokens.IssuedToken:
    """A new token of the caller; the secret is in the result and nowhere else."""
    user = _me(session, principal)
    chosen = list(scopes)
    for scope in chosen:
        number = scope.removeprefix(grants.GRANT_SCOPE_PREFIX)
        if scope.startswith(grants.GRANT_SCOPE_PREFIX) and number.isdigit():
            policy.ensure_own_grant(session, principal, int(number))
    return tokens.create_token(
        session,
        user,
        scopes=chosen,
        expires_days=expires_days,
        label=label,
        actor=principal.name,
    )


def list_own_tokens(session: Session, principal: Principal) -> list[tokens.TokenInfo]:
    """The caller's tokens, without their secrets (anonymous callers have none)."""
    if principal.user_id is None:
        return []
    user = session.get(User, principal.user_id)
    return tokens.list_tokens(session, user.name) if user is not None else []


def revoke_own_token(
    session: Session, principal: Principal, token_id: int, *, reason: str = ""
) -> tokens.TokenInfo:
    """Revoke one of the caller's tokens; someone else's token looks absent."""
    _me(session, principal)
    policy.ensure_own_token(session, principal, token_id)
    return tokens.revoke_token(session, token_id, actor=principal.name, reason=reason)
