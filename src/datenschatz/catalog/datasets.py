"""Datasets and organizations: look-up, creation, listing. Plain service functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.db.models import Dataset, Organization, OrganizationType, Version
from datenschatz.errors import InputError, NotFound
from datenschatz.slugs import SLUG_RE as SLUG_RE  # re-exported
from datenschatz.slugs import check_slug as check_slug  # re-exported

DEFAULT_ORG = "stadt"


def get_dataset(session: Session, slug: str) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is None:
        raise NotFound("No such dataset.", dataset=slug)
    return dataset


def get_or_create_org(
    session: Session,
    slug: str,
    name: str | None = None,
    org_type: OrganizationType = OrganizationType.CITY,
) -> Organization:
    check_slug(slug, "org")
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        org = Organization(slug=slug, name=name or slug.replace("-", " ").title(), type=org_type)
        session.add(org)
        session.flush()
    return org


def get_or_create_dataset(
    session: Session,
    slug: str,
    *,
    title: str | None = None,
    org: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Dataset, bool]:
    """The dataset with this slug, created (as a draft) if new. Returns (dataset, created)."""
    check_slug(slug)
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is not None:
        if org and dataset.organization.slug != org:
            raise InputError(
                "The dataset belongs to another organization.", parameter="org", dataset=slug
            )
        if title:
            dataset.title = title
        if extra:
            dataset.extra = {**dataset.extra, **extra}
        return dataset, False
    organization = get_or_create_org(session, org or DEFAULT_ORG)
    dataset = Dataset(
        slug=slug,
        title=title or slug.replace("-", " ").capitalize(),
        description="",
        organization=organization,
        extra=dict(extra or {}),
    )
    session.add(dataset)
    session.flush()
    return dataset, True


def next_version_number(session: Session, dataset: Dataset) -> int:
    current = session.scalar(
        select(Version.number)
        .where(Version.dataset_id == dataset.id)
        .order_by(Version.number.desc())
        .limit(1)
    )
    return (current or 0) + 1


def get_version(session: Session, dataset: Dataset, number: int | None = None) -> Version:
    """Version ``number``, or the newest when ``number`` is None."""
    query = select(Version).where(Version.dataset_id == dataset.id)
    if number is None:
        query = query.order_by(Version.number.desc()).limit(1)
    else:
        query = query.where(Version.number == number)
    version = session.scalar(query)
    if version is None:
        raise NotFound(
            "No such version." if number else "The dataset has no version yet.",
            dataset=dataset.slug,
            version=number,
        )
    return version


@dataclass(frozen=True)
class VersionInfo:
    """What callers (CLI, API) show of a version: plain data, detached from the session."""

    dataset: str
    number: int
    rows: int
    byte_size: int
    sha256: str
    format: str
    source_name: str
    source_crs: str | None
    geometry_column: str | None
    created_by: str
    created_at: datetime
    published: bool
    table_schema: dict[str, Any]
    quality: dict[str, Any]

    @classmethod
    def of(cls, version: Version) -> VersionInfo:
        dataset = version.dataset
        return cls(
            dataset=dataset.slug,
            number=version.number,
            rows=version.row_count,
            byte_size=version.byte_size,
            sha256=version.sha256,
            format=version.source_format,
            source_name=version.source_name,
            source_crs=version.source_crs,
            geometry_column=version.geometry_column,
            created_by=version.created_by,
            created_at=version.created_at,
            published=dataset.published_version_id == version.id,
            table_schema=version.table_schema,
            quality=version.quality,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.number,
            "rows": self.rows,
            "byte_size": self.byte_size,
            "sha256": self.sha256,
            "format": self.format,
            "source_name": self.source_name,
            "source_crs": self.source_crs,
            "geometry_column": self.geometry_column,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "published": self.published,
        }


def list_versions(session: Session, slug: str) -> list[VersionInfo]:
    dataset = get_dataset(session, slug)
    return [VersionInfo.of(v) for v in dataset.versions]
