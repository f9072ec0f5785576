"""Relational tables of governance: users, memberships, API tokens and the audit log.

No relationship() to classes in other modules: foreign keys and explicit queries only.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, JSONType, _enum, utcnow


class Role(enum.StrEnum):
    """What a user is on the platform. A steward is one per organization (a membership)."""

    ADMIN = "admin"
    STEWARD = "steward"
    REVIEWER = "reviewer"
    PARTNER = "partner"


class ReviewerKind(enum.StrEnum):
    """The three members of the release board; a reviewer membership names one."""

    DATA_OWNER = "data_owner"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    ETHICS_REVIEWER = "ethics_reviewer"


class User(Base):
    """An account. ``name`` is a login name; no e-mail or real name is stored here."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # argon2id hash (PHC string); None for accounts that only use API tokens.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Membership(Base):
    """One role of a user: admin, steward of an organization, reviewer of a kind, partner."""

    __tablename__ = "membership"
    __table_args__ = (Index("ix_membership_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), default=None
    )
    reviewer_kind: Mapped[ReviewerKind | None] = mapped_column(
        _enum(ReviewerKind, "reviewer_kind"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """An API token. Only the SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200), default="")
    # The first characters of the secret, to recognise a token in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AuditEvent(Base):
    """One append-only audit event; ``hash`` covers its fields and ``prev_hash``."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_action", "action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The one row holding the newest event's number and hash.

    Appending updates this row first, which serialises writers on PostgreSQL (row lock) and
    SQLite (write lock), and lets verification notice events removed from the end.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
