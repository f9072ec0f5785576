"""SQLAlchemy 2 models of the relational store.

The version store (Parquet files) holds dataset content; these tables hold what describes
and points at it. A Version row is written only after its file is complete on disk, and the
dataset's published pointer moves only to a Version that exists.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so that Alembic migrations work alike on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class OrganizationType(enum.StrEnum):
    CITY = "city_administration"
    UTILITY = "municipal_utility"
    PUBLIC_BODY = "other_public_body"


class AccessLevel(enum.StrEnum):
    PUBLIC = "public"
    PARTNER = "partner"
    INTERNAL = "internal"


class DatasetStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        validate_strings=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[OrganizationType] = mapped_column(
        _enum(OrganizationType, "organization_type"), default=OrganizationType.CITY
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    datasets: Mapped[list[Dataset]] = relationship(back_populates="organization")


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    access_level: Mapped[AccessLevel] = mapped_column(
        _enum(AccessLevel, "access_level"), default=AccessLevel.INTERNAL
    )
    status: Mapped[DatasetStatus] = mapped_column(
        _enum(DatasetStatus, "dataset_status"), default=DatasetStatus.DRAFT
    )
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", use_alter=True, ondelete="RESTRICT"), default=None
    )
    # DCAT-AP.de metadata beyond title/description (keywords, licence, ...); shaped by catalog/.
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    organization: Mapped[Organization] = relationship(back_populates="datasets")
    versions: Mapped[list[Version]] = relationship(
        back_populates="dataset",
        foreign_keys="Version.dataset_id",
        order_by="Version.number",
    )
    published_version: Mapped[Version | None] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )


class Version(Base):
    """One immutable snapshot of a dataset's content, stored as one Parquet file."""

    __tablename__ = "version"
    __table_args__ = (UniqueConstraint("dataset_id", "number", name="uq_version_dataset_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # Path of the Parquet file relative to the versions directory.
    path: Mapped[str] = mapped_column(String(500), unique=True)
    row_count: Mapped[int] = mapped_column(BigInteger)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Frictionless Table Schema: {"fields": [{"name", "type", "nullable", "unit"?}], ...}
    table_schema: Mapped[dict[str, Any]] = mapped_column()
    quality: Mapped[dict[str, Any]] = mapped_column()
    geometry_column: Mapped[str | None] = mapped_column(String(200), default=None)
    source_crs: Mapped[str | None] = mapped_column(String(100), default=None)
    bbox: Mapped[list[Any] | None] = mapped_column(default=None)
    source_name: Mapped[str] = mapped_column(String(500))
    source_format: Mapped[str] = mapped_column(String(40))
    source_size: Mapped[int] = mapped_column(BigInteger)
    source_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # First time this version became the published one; None for never-published versions.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    dataset: Mapped[Dataset] = relationship(back_populates="versions", foreign_keys=[dataset_id])
