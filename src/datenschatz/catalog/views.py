"""Read-side views of the catalog for a principal: what interfaces show of datasets.

Every function asks the access policy first; hidden datasets look absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datenschatz.access.policy import (
    Principal,
    ensure_dataset,
    readable_versions,
    visible_datasets,
)
from datenschatz.catalog.datasets import VersionInfo
from datenschatz.db.models import Dataset


@dataclass(frozen=True)
class DatasetInfo:
    slug: str
    title: str
    description: str
    organization: str
    organization_name: str
    access_level: str
    status: str
    published_version: int | None
    created_at: datetime
    modified_at: datetime
    extra: dict[str, Any]
    table_schema: dict[str, Any] | None
    rows: int | None
    geometry_column: str | None
    bbox: list[Any] | None

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetInfo:
        version = dataset.published_version
        return cls(
            slug=dataset.slug,
            title=dataset.title,
            description=dataset.description,
            organization=dataset.organization.slug,
            organization_name=dataset.organization.name,
            access_level=dataset.access_level.value,
            status=dataset.status.value,
            published_version=version.number if version else None,
            created_at=dataset.created_at,
            modified_at=dataset.modified_at,
            extra=dict(dataset.extra),
            table_schema=version.table_schema if version else None,
            rows=version.row_count if version else None,
            geometry_column=version.geometry_column if version else None,
            bbox=version.bbox if version else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "organization": {"slug": self.organization, "name": self.organization_name},
            "access_level": self.access_level,
            "status": self.status,
            "published_version": self.published_version,
            "rows": self.rows,
            "has_geometry": self.geometry_column is not None,
            "bbox": self.bbox,
            "created_at": self.created_at.isoformat(),
            "modified_at": self.modified_at.isoformat(),
            "metadata": self.extra,
            "schema": self.table_schema,
        }


def list_datasets(
    session: Session, principal: Principal, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[DatasetInfo]]:
    """(total, one page) of the datasets ``principal`` may see, by slug."""
    where = visible_datasets(principal)
    total = session.scalar(select(func.count()).select_from(Dataset).where(where)) or 0
    page = session.scalars(
        select(Dataset).where(where).order_by(Dataset.slug).limit(limit).offset(offset)
    ).all()
    return total, [DatasetInfo.of(d) for d in page]


def dataset_detail(session: Session, principal: Principal, slug: str) -> DatasetInfo:
    return DatasetInfo.of(ensure_dataset(session, principal, slug))


def dataset_versions(session: Session, principal: Principal, slug: str) -> list[VersionInfo]:
    dataset = ensure_dataset(session, principal, slug)
    return [VersionInfo.of(v) for v in readable_versions(principal, dataset)]
