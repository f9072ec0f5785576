"""Relational models of treatments and the privacy ledgers (internal, never published).

- :class:`TreatmentRun`: which raw version a publishable version was made from, with the
  declared treatments and their report section.
- :class:`ContributorLedger`: per treated version, where the internal cell and contributor
  files are kept (for release-to-release differencing checks).
- :class:`EpsilonBudget` / :class:`EpsilonSpend`: the differential-privacy budget of a source
  population and what each release spent of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, utcnow


class TreatmentRun(Base):
    """One application of a treatment spec: raw version in, publishable version out."""

    __tablename__ = "privacy_treatment_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    raw_version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"))
    output_version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    population: Mapped[str | None] = mapped_column(String(200), default=None)
    spec: Mapped[dict[str, Any]] = mapped_column()
    # The treatment section of the privacy report (see privacy.ledger.treatment_run_for).
    report: Mapped[dict[str, Any]] = mapped_column()
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContributorLedger(Base):
    """The internal contributor ledger of one aggregated version (files under the data dir)."""

    __tablename__ = "privacy_contributor_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    population: Mapped[str] = mapped_column(String(200), index=True)
    # Group-by columns and measure columns of the published table.
    key_columns: Mapped[list[Any]] = mapped_column()
    measures: Mapped[list[Any]] = mapped_column()
    k: Mapped[int] = mapped_column(Integer)
    # Directory (relative to <data_dir>/privacy-ledger) with cells.parquet and members.parquet.
    path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EpsilonBudget(Base):
    """The differential-privacy budget of one source population."""

    __tablename__ = "privacy_epsilon_budget"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    population: Mapped[str] = mapped_column(String(200), unique=True)
    epsilon_limit: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EpsilonSpend(Base):
    """Epsilon spent (or reserved while the treatment runs) by one DP release."""

    __tablename__ = "privacy_epsilon_spend"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_id: Mapped[int] = mapped_column(
        ForeignKey("privacy_epsilon_budget.id", ondelete="CASCADE"), index=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", ondelete="SET NULL"), default=None
    )
    epsilon: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
