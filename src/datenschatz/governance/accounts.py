"""Accounts: users, their roles (memberships) and passwords, and who a user is to the policy.

Passwords are hashed with argon2id (argon2-cffi). A user's roles are memberships: ``admin``,
``steward`` of one organization, ``reviewer`` of one kind (data owner, data-protection
officer, ethics reviewer) and ``partner``. :func:`principal_for_user` turns a user into the
:class:`~datenschatz.access.policy.Principal` every interface hands to the policy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.access.policy import ALL_SCOPES, Principal
from datenschatz.db.governance_models import Membership, ReviewerKind, Role, User
from datenschatz.db.models import Organization, utcnow
from datenschatz.errors import Conflict, InputError, NotFound, Unauthorized
from datenschatz.governance import audit, grants, releases

log = logging.getLogger(__name__)

__all__ = [
    "MembershipInfo",
    "UserInfo",
    "add_role",
    "authenticate",
    "create_user",
    "get_user",
    "hash_password",
    "list_users",
    "principal_for_user",
    "remove_role",
    "set_password",
    "verify_password",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,99}")
_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            key="account.password_short",
            params={"min": MIN_PASSWORD_LENGTH},
            parameter="password",
        )
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class MembershipInfo:
    role: Role
    organization: str | None = None
    reviewer_kind: ReviewerKind | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "organization": self.organization,
            "reviewer_kind": self.reviewer_kind.value if self.reviewer_kind else None,
        }


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    active: bool
    created_at: datetime
    memberships: tuple[MembershipInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "roles": [m.to_dict() for m in self.memberships],
        }


def _memberships(session: Session, user_id: int) -> tuple[MembershipInfo, ...]:
    rows = session.execute(
        select(Membership, Organization.slug)
        .outerjoin(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.id)
    ).all()
    return tuple(MembershipInfo(m.role, slug, m.reviewer_kind) for m, slug in rows)


def _info(session: Session, user: User) -> UserInfo:
    return UserInfo(
        user.id, user.name, user.active, user.created_at, _memberships(session, user.id)
    )


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(
            "A user name has 2-100 characters: lower-case letters, digits, '.', '_', '-'.",
            key="account.name_invalid",
            parameter="name",
        )
    return name


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("No such user.", key="account.no_user", user=name)
    return user


def _organization(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound("No such organization.", key="not_found.organization", organization=slug)
    return org


def _parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InputError(
            f"Unknown role {role!r}; known: {', '.join(r.value for r in Role)}.",
            key="account.role_unknown",
            parameter="role",
        ) from None


def _parse_kind(kind: ReviewerKind | str | None) -> ReviewerKind | None:
    if kind is None:
        return None
    try:
        return ReviewerKind(kind)
    except ValueError:
        raise InputError(
            f"Unknown reviewer kind {kind!r}; known: {', '.join(k.value for k in ReviewerKind)}.",
            key="account.reviewer_kind_unknown",
            parameter="reviewer_kind",
        ) from None


def add_role(
    session: Session,
    user: User,
    role: Role | str,
    *,
    org: str | None = None,
    reviewer_kind: ReviewerKind | str | None = None,
    actor: str,
) -> MembershipInfo:
    """Give ``user`` a role; a steward needs ``org``, a reviewer a ``reviewer_kind``."""
    role = _parse_role(role)
    kind = _parse_kind(reviewer_kind)
    if role is Role.STEWARD and not org:
        raise InputError(
            "A steward belongs to an organization: give --org.",
            key="account.steward_needs_org",
            parameter="org",
        )
    if role is not Role.STEWARD and org:
        raise InputError(
            "Only stewards belong to an organization.",
            key="account.org_only_steward",
            parameter="org",
        )
    if role is Role.REVIEWER and kind is None:
        raise InputError(
            "A reviewer needs a kind: data_owner, data_protection_officer or ethics_reviewer.",
            key="account.reviewer_needs_kind",
            parameter="reviewer_kind",
        )
    if role is not Role.REVIEWER and kind is not None:
        raise InputError(
            "Only reviewers have a reviewer kind.",
            key="account.kind_only_reviewer",
            parameter="reviewer_kind",
        )
    org_id = _organization(session, org).id if org else None
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.role == role,
            Membership.organization_id.is_(None)
            if org_id is None
            else Membership.organization_id == org_id,
            Membership.reviewer_kind.is_(None)
            if kind is None
            else Membership.reviewer_kind == kind,
        )
    )
    info = MembershipInfo(role, org, kind)
    if existing is not None:
        return info
    session.add(Membership(user_id=user.id, role=role, organization_id=org_id, reviewer_kind=kind))
    audit.record(
        session,
        actor=actor,
        action="role.grant",
        object_type="user",
        object_id=str(user.id),
        details=info.to_dict(),
    )
    session.flush()
    return info


def remove_role(
    session: Session,
    user: User,
    role: Role | str,
    *,
    org: str | None = None,
    actor: str,
    reason: str = "",
) -> int:
    """Take a role away (all kinds of it, or the stewardship of ``org``); returns how many."""
    role = _parse_role(role)
    query = select(Membership).where(Membership.user_id == user.id, Membership.role == role)
    if org:
        query = query.where(Membership.organization_id == _organization(session, org).id)
    removed = list(session.scalars(query))
    for membership in removed:
        session.delete(membership)
    if removed:
        audit.record(
            session,
            actor=actor,
            action="role.revoke",
            object_type="user",
            object_id=str(user.id),
            reason=reason,
            details={"role": role.value, "organization": org, "count": len(removed)},
        )
    session.flush()
    return len(removed)


def create_user(
    session: Session,
    name: str,
    *,
    role: Role | str | None = None,
    org: str | None = None,
    reviewer_kind: ReviewerKind | str | None = None,
    password: str | None = None,
    actor: str,
) -> UserInfo:
    """Create an account, optionally with a first role and a password."""
    check_name(name)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict("A user with this name exists.", key="account.name_taken", user=name)
    user = User(name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=str(user.id),
    )
    if role is not None:
        add_role(session, user, role, org=org, reviewer_kind=reviewer_kind, actor=actor)
    return _info(session, user)


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    user.password_hash = hash_password(password)
    audit.record(
        session, actor=actor, action="user.password", object_type="user", object_id=str(user.id)
    )
    session.flush()


def set_active(session: Session, user: User, active: bool, *, actor: str, reason: str = "") -> None:
    user.active = active
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        object_type="user",
        object_id=str(user.id),
        reason=reason,
    )
    session.flush()


def list_users(session: Session) -> list[UserInfo]:
    return [_info(session, u) for u in session.scalars(select(User).order_by(User.name))]


def user_info(session: Session, name: str) -> UserInfo:
    return _info(session, get_user(session, name))


def authenticate(session: Session, name: str, password: str) -> Principal:
    """The principal for a name and password (web sign-in); Unauthorized otherwise.

    The message is the same whether the name or the password was wrong.
    """
    user = session.scalar(select(User).where(User.name == name))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise Unauthorized("Wrong user name or password.", key="auth.wrong_credentials")
    if user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return principal_for_user(session, user.id)


def principal_for_user(
    session: Session,
    user_id: int,
    *,
    scopes: Iterable[str] | None = None,
    token_id: int | None = None,
    now: datetime | None = None,
) -> Principal:
    """The principal of an active user: roles, stewarded organizations, grants, reviews.

    ``scopes`` narrows what the principal may do (a token's scopes); default: every scope.
    """
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized(
            "This account does not exist or is deactivated.", key="auth.account_inactive"
        )
    memberships = list(session.scalars(select(Membership).where(Membership.user_id == user_id)))
    roles = frozenset(m.role for m in memberships)
    stewarded = frozenset(
        m.organization_id
        for m in memberships
        if m.role is Role.STEWARD and m.organization_id is not None
    )
    kinds = frozenset(m.reviewer_kind for m in memberships if m.reviewer_kind is not None)
    # A token scoped to grants (grant:N) reaches only those grants' datasets.
    narrowed = frozenset(scopes) if scopes is not None else None
    partner_ids = frozenset(
        grants.active_grant_dataset_ids(session, user_id, now or utcnow(), scopes=narrowed)
    )
    review_ids: frozenset[int] = frozenset()
    if Role.REVIEWER in roles:
        review_ids = frozenset(releases.pending_review_dataset_ids(session, user_id))
    return Principal(
        name=user.name,
        user_id=user.id,
        roles=roles,
        scopes=frozenset(scopes) if scopes is not None else ALL_SCOPES,
        steward_org_ids=stewarded,
        reviewer_kinds=kinds,
        partner_dataset_ids=partner_ids,
        review_dataset_ids=review_ids,
        token_id=token_id,
    )
