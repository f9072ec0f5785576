"""Relational models of the privacy gate: column roles and privacy reports.

Roles belong to a dataset and a column name, so they carry over from version to version; a
column that appears new in a later version has no role until the steward confirms one. A
privacy report belongs to one version and is replaced each time the gate evaluates it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, _enum, utcnow


class ColumnRole(enum.StrEnum):
    """What a column is, for the privacy gate."""

    DIRECT_ID = "direct_id"  # names, addresses, customer numbers, IBANs, meter ids ...
    QUASI_ID = "quasi_id"  # identifies in combination: postcode, birth year, street ...
    SENSITIVE = "sensitive"  # personal attribute that must not be linked to a person
    MEASURE = "measure"  # a measured or counted figure
    FREE_TEXT = "free_text"  # prose written by people: never published raw
    PUBLIC_KEY = "public_key"  # identifies a public thing (station, AGS, district), not a person
    CONTRIBUTOR_COUNT = "contributor_count"  # people or households behind an aggregated row


class DatasetColumnRole(Base):
    """The role of one column of a dataset: proposed by the gate, confirmed by a steward."""

    __tablename__ = "privacy_column_role"
    __table_args__ = (
        UniqueConstraint("dataset_id", "column_name", name="uq_privacy_column_role_dataset_col"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    column_name: Mapped[str] = mapped_column(String(300))
    role: Mapped[ColumnRole | None] = mapped_column(
        _enum(ColumnRole, "privacy_column_role_kind"), default=None
    )
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_role: Mapped[ColumnRole | None] = mapped_column(
        _enum(ColumnRole, "privacy_column_role_proposed"), default=None
    )
    # Why the gate proposed the role (entity types, name rule); never a value.
    proposal_reason: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PrivacyReport(Base):
    """The privacy report of one version: the detector scan and the gate's latest verdict."""

    __tablename__ = "privacy_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    # Detector results of the version's content (depend on the content only).
    scan: Mapped[dict[str, Any]] = mapped_column()
    # The full report (report.schema.json); re-evaluated when roles or treatments change.
    report: Mapped[dict[str, Any]] = mapped_column()
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    evaluated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
