"""Relational models of the release workflow and the data-challenge programme.

Users are referred to by their id in ``user_account`` (``*_by`` columns; None for the
command line's accountless admin) and, for a readable history, by the name they acted under
(``*_by_name``). Accounts are deactivated, not deleted: a user who acted cannot be deleted.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db import governance_models  # noqa: F401  (user_account, named below)
from datenschatz.db.models import Base, _enum, utcnow

USER = "user_account.id"


class ReleaseStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ReleaseLevel(enum.StrEnum):
    PUBLIC = "public"
    PARTNER = "partner"


class Question(enum.StrEnum):
    """The board's three questions, each answered by the member responsible for it."""

    TECHNICAL = "technical"
    POLITICAL = "political"
    ETHICAL = "ethical"


class ReleaseRequest(Base):
    """A steward's request to release one version, with its automatic check results."""

    __tablename__ = "release_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(Text)
    target_level: Mapped[ReleaseLevel] = mapped_column(_enum(ReleaseLevel, "release_level"))
    status: Mapped[ReleaseStatus] = mapped_column(
        _enum(ReleaseStatus, "release_status"), default=ReleaseStatus.PENDING
    )
    # [{"check": str, "passed": bool, "reason": str}, ...] as run when the request was made.
    checks: Mapped[list[Any]] = mapped_column(default=list)
    checks_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The questions this request needs answered (the setting at the time of the request).
    required: Mapped[list[Any]] = mapped_column(default=list)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    requested_by_name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ReleaseDecision(Base):
    """One board member's answer to one question of one release request."""

    __tablename__ = "release_decision"
    __table_args__ = (
        UniqueConstraint("release_id", "question", name="uq_release_decision_release_question"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_request.id", ondelete="CASCADE"))
    question: Mapped[Question] = mapped_column(_enum(Question, "release_question"))
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The ethics checklist ({"purpose": ..., "harm": ..., "context": ..., "linkage": ...}).
    checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    decided_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Withdrawal(Base):
    """A dataset taken off publication; the newest one carries the public reason (410)."""

    __tablename__ = "withdrawal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    # The version that was published when the dataset was withdrawn (history, not a pointer).
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str] = mapped_column(Text)
    withdrawn_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    withdrawn_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChallengeStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class Challenge(Base):
    """A question the city poses to start-ups, with the data, criteria, dates and terms."""

    __tablename__ = "challenge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    question: Mapped[str] = mapped_column(Text)
    background: Mapped[str] = mapped_column(Text, default="")
    # [{"name": str, "weight": float, "description": str}, ...]
    criteria: Mapped[list[Any]] = mapped_column(default=list)
    terms: Mapped[str] = mapped_column(Text)
    status: Mapped[ChallengeStatus] = mapped_column(
        _enum(ChallengeStatus, "challenge_status"), default=ChallengeStatus.DRAFT
    )
    applications_close_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    access_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    demo_day_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # User ids of the challenge's reviewers; empty: every reviewer.
    reviewer_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChallengeDataset(Base):
    __tablename__ = "challenge_dataset"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenge.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey(USER))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey(USER, ondelete="CASCADE"), primary_key=True)


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    QUALIFIED = "qualified"
    REJECTED = "rejected"


class Application(Base):
    __tablename__ = "application"
    __table_args__ = (
        UniqueConstraint("challenge_id", "team_id", name="uq_application_challenge_team"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    proposal: Mapped[str] = mapped_column(Text)
    # [{"dataset": slug, "why": str}, ...]
    data_needs: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus, "application_status"), default=ApplicationStatus.SUBMITTED
    )
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    submitted_by: Mapped[int] = mapped_column(ForeignKey(USER))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationScore(Base):
    """One reviewer's scores of one application, per criterion."""

    __tablename__ = "application_score"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id", name="uq_application_score_reviewer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey(USER))
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Grant(Base):
    """A qualified team's scoped, expiring partner access to a challenge's datasets."""

    __tablename__ = "data_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), unique=True
    )
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    accepted_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GrantDataset(Base):
    __tablename__ = "grant_dataset"

    grant_id: Mapped[int] = mapped_column(
        ForeignKey("data_grant.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    # The extra-dataset request that added it; None for the challenge's own datasets.
    extra_request_id: Mapped[int | None] = mapped_column(Integer, default=None)


class ExtraStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExtraDatasetRequest(Base):
    """A team's request for a dataset beyond the challenge's; each is its own decision."""

    __tablename__ = "extra_dataset_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("data_grant.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    why: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtraStatus] = mapped_column(
        _enum(ExtraStatus, "extra_request_status"), default=ExtraStatus.PENDING
    )
    requested_by: Mapped[int] = mapped_column(ForeignKey(USER))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey(USER, ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GrantUsage(Base):
    """Counters of a grant's reads of one dataset."""

    __tablename__ = "grant_usage"

    grant_id: Mapped[int] = mapped_column(
        ForeignKey("data_grant.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Submission(Base):
    """A team's result for the demo day: text and links."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list[Any]] = mapped_column(default=list)
    submitted_by: Mapped[int] = mapped_column(ForeignKey(USER))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
