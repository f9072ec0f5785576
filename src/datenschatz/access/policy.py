"""The access policy: every service function that reads or changes protected things asks here.

A hidden dataset must never reveal that it exists: look-ups of hidden things raise NotFound
(404), not a 403, and listings filter with :func:`visible_datasets`.

Today every caller is anonymous and sees published, public datasets and the versions of them
that have been published. The governance capability adds users, roles, grants and scopes to
:class:`Principal` and extends the rules here — and only here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Version
from datenschatz.errors import Forbidden, NotFound, Unauthorized


class Role(enum.StrEnum):
    ADMIN = "admin"
    STEWARD = "steward"
    REVIEWER = "reviewer"
    PARTNER = "partner"


@dataclass(frozen=True)
class Principal:
    """Who is asking. Anonymous unless an interface authenticated someone."""

    name: str = "anonymous"
    user_id: int | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    @property
    def cache_key(self) -> str:
        """Principals with the same key see the same catalog (for read caches)."""
        return "anonymous" if self.user_id is None else f"user:{self.user_id}"


ANONYMOUS = Principal()


def visible_datasets(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the datasets ``principal`` may know exist."""
    del principal  # every caller is treated alike until accounts exist
    return and_(
        Dataset.status == DatasetStatus.PUBLISHED,
        Dataset.access_level == AccessLevel.PUBLIC,
        Dataset.published_version_id.is_not(None),
    )


def can_see_dataset(principal: Principal, dataset: Dataset) -> bool:
    del principal
    return (
        dataset.status is DatasetStatus.PUBLISHED
        and dataset.access_level is AccessLevel.PUBLIC
        and dataset.published_version_id is not None
    )


def ensure_dataset(session: Session, principal: Principal, slug: str) -> Dataset:
    """The dataset, if ``principal`` may see it; NotFound otherwise (hidden looks absent)."""
    dataset = session.scalar(
        select(Dataset).where(Dataset.slug == slug, visible_datasets(principal))
    )
    if dataset is None:
        raise NotFound("No such dataset.", dataset=slug)
    return dataset


def readable_versions(principal: Principal, dataset: Dataset) -> list[Version]:
    """The versions of a visible dataset whose content ``principal`` may read."""
    del principal
    return [v for v in dataset.versions if v.published_at is not None]


def ensure_version(
    session: Session, principal: Principal, slug: str, number: int | None = None
) -> Version:
    """The published version (default) or version ``number``, if ``principal`` may read it."""
    dataset = ensure_dataset(session, principal, slug)
    if number is None:
        version = dataset.published_version
        if version is not None:
            return version
    else:
        for version in readable_versions(principal, dataset):
            if version.number == number:
                return version
    raise NotFound("No such version.", dataset=slug, version=number)


def ensure_can_edit(session: Session, principal: Principal, slug: str) -> Dataset:
    """The dataset, if ``principal`` may change it (metadata, roles, versions, release requests).

    A dataset the caller cannot see raises NotFound; one they can see but not change raises
    Unauthorized (anonymous) or Forbidden. Until accounts exist, admins and stewards may edit
    everything; the governance capability narrows stewards to their own organization here.
    """
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    allowed = bool(principal.roles & {Role.ADMIN, Role.STEWARD})
    if dataset is None or (not allowed and not can_see_dataset(principal, dataset)):
        raise NotFound("No such dataset.", dataset=slug)
    if not allowed:
        if principal.anonymous:
            raise Unauthorized("Sign in or send an API token to change this dataset.")
        raise Forbidden("You may not change this dataset.", dataset=slug)
    return dataset
