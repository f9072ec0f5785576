"""Relational models of the catalog's descriptive side: organization details, groups, harvests.

Dataset metadata itself lives in ``Dataset.extra`` (shaped by ``catalog.metadata``); these
tables hold what belongs to organizations and what links datasets to groups (topics) and to
the remote catalog entries they were harvested from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, utcnow


class OrganizationProfile(Base):
    """What a catalog shows of a publisher beyond its name and type (one row per organization)."""

    __tablename__ = "organization_profile"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    homepage: Mapped[str | None] = mapped_column(String(500), default=None)
    email: Mapped[str | None] = mapped_column(String(300), default=None)
    # dcat-ap.de contributor id (a key of catalog.vocab.CONTRIBUTORS) used by its datasets.
    contributor_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # Official municipality key (Amtlicher Gemeindeschlüssel) of the publisher, e.g. 05916000.
    municipality_key: Mapped[str | None] = mapped_column(String(12), default=None)
    modified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Group(Base):
    """A topic that gathers datasets across organizations (CKAN's group)."""

    __tablename__ = "catalog_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DatasetGroup(Base):
    """A dataset's membership in a group."""

    __tablename__ = "dataset_group"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_group.id", ondelete="CASCADE"), primary_key=True
    )


class HarvestRecord(Base):
    """A dataset that came from another catalog, keyed on the source and its identifier there."""

    __tablename__ = "harvest_record"
    __table_args__ = (
        UniqueConstraint("source", "remote_id", name="uq_harvest_record_source_remote"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(1000))
    remote_id: Mapped[str] = mapped_column(String(1000))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
