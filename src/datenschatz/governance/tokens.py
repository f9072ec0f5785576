"""API tokens: shown once, stored as the SHA-256 of a high-entropy secret.

A token belongs to a user, carries scopes (see :class:`~datenschatz.access.policy.Scope`),
an optional expiry and the time of its last use. :func:`principal_for_token` is what every
interface (REST Bearer, SensorThings Basic, MQTT bridge) calls to know who is asking.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from datenschatz.access.policy import ALL_SCOPES, Principal, Role, Scope, can_hold_scope
from datenschatz.db.governance_models import ApiToken, User
from datenschatz.db.models import utcnow
from datenschatz.errors import InputError, NotFound, Unauthorized
from datenschatz.governance import audit
from datenschatz.governance.accounts import principal_for_user

__all__ = [
    "DEFAULT_SCOPES",
    "TOKEN_PREFIX",
    "IssuedToken",
    "TokenInfo",
    "create_token",
    "list_tokens",
    "principal_for_token",
    "revoke_token",
    "secret_sha256",
]

TOKEN_PREFIX = "dsz_"
DEFAULT_SCOPES = (Scope.READ.value,)
# Writing last use on every request would turn every read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    label: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken, user_name: str) -> TokenInfo:
        return cls(
            id=token.id,
            user=user_name,
            label=token.label,
            prefix=token.prefix,
            scopes=tuple(token.scopes),
            created_at=_utc(token.created_at) or token.created_at,
            expires_at=_utc(token.expires_at),
            last_used_at=_utc(token.last_used_at),
            revoked_at=_utc(token.revoked_at),
        )

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "user": self.user,
            "label": self.label,
            "prefix": self.prefix,
            "scopes": list(self.scopes),
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` exists only here and is never stored."""

    secret: str
    info: TokenInfo


GRANT_SCOPE_PREFIX = "grant:"


def _is_grant_scope(scope: str) -> bool:
    number = scope.removeprefix(GRANT_SCOPE_PREFIX)
    return scope.startswith(GRANT_SCOPE_PREFIX) and number.isdigit()


def _check_scopes(scopes: Iterable[str], roles: frozenset[Role]) -> tuple[str, ...]:
    """Known scopes only; ``grant:N`` limits partner access to grant N and implies ``read``."""
    chosen = set(scopes)
    unknown = [s for s in sorted(chosen) if s not in ALL_SCOPES and not _is_grant_scope(s)]
    if unknown:
        raise InputError(
            f"Unknown scope {unknown[0]!r}; known: {', '.join(sorted(ALL_SCOPES))}, grant:N.",
            parameter="scope",
        )
    if not chosen:
        raise InputError("A token needs at least one scope.", parameter="scope")
    if not all(can_hold_scope(roles, s) for s in chosen):
        raise InputError("Only admins may hold a token with the admin scope.", parameter="scope")
    if any(_is_grant_scope(s) for s in chosen):
        chosen.add(Scope.READ.value)
    return tuple(sorted(chosen))


def create_token(
    session: Session,
    user: User,
    *,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    expires_days: int | None = None,
    label: str = "",
    actor: str,
) -> IssuedToken:
    """Issue a token for ``user``. The secret is returned once and stored only as a hash."""
    if expires_days is not None and expires_days <= 0:
        raise InputError(
            "--expires-days must be a positive number of days.", parameter="expires_days"
        )
    roles = principal_for_user(session, user.id).roles
    chosen = _check_scopes(scopes, roles)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        label=label[:200],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        secret_sha256=secret_sha256(secret),
        scopes=list(chosen),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        object_type="token",
        object_id=str(token.id),
        details={"user_id": user.id, "scopes": list(chosen), "expires_days": expires_days},
    )
    return IssuedToken(secret, TokenInfo.of(token, user.name))


def revoke_token(session: Session, token_id: int, *, actor: str, reason: str = "") -> TokenInfo:
    """Revoke at once; a revoked token never authenticates again."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such token.", token=token_id)
    user = session.get(User, token.user_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="token.revoke",
            object_type="token",
            object_id=str(token.id),
            reason=reason,
            details={"user_id": token.user_id},
        )
        session.flush()
    return TokenInfo.of(token, user.name if user else "")


def list_tokens(session: Session, user_name: str | None = None) -> list[TokenInfo]:
    query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
    if user_name:
        query = query.where(User.name == user_name)
    return [TokenInfo.of(t, n) for t, n in session.execute(query.order_by(ApiToken.id))]


def token_owner(session: Session, token_id: int) -> int | None:
    token = session.get(ApiToken, token_id)
    return token.user_id if token else None


def principal_for_token(
    session: Session, token_secret: str, *, now: datetime | None = None
) -> Principal:
    """Who holds ``token_secret``; Unauthorized for an unknown, revoked or expired token.

    The same message for every failure, so a caller learns nothing about other tokens.
    """
    now = now or utcnow()
    token = None
    if token_secret.startswith(TOKEN_PREFIX) and len(token_secret) < 200:
        token = session.scalar(
            select(ApiToken).where(ApiToken.secret_sha256 == secret_sha256(token_secret))
        )
    expires = _utc(token.expires_at) if token else None
    if token is None or token.revoked_at is not None or (expires is not None and expires <= now):
        raise Unauthorized("Invalid, revoked or expired API token.")
    last = _utc(token.last_used_at)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        # On the connection, not through the ORM: a token's use is no catalog change and
        # must not drop the read caches.
        session.connection().execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
        )
    return principal_for_user(
        session, token.user_id, scopes=token.scopes, token_id=token.id, now=now
    )
