"""Organizations (publishers) with their details, and groups (topics) of datasets.

Reading is open to everyone; creating and changing organizations and groups is for admins
(asked of the access policy). Dataset membership in groups is set with the dataset's metadata
(``catalog.metadata.update_metadata(..., {"groups": [...]})``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, ensure_admin, visible_datasets
from datenschatz.catalog import vocab
from datenschatz.catalog.datasets import check_slug
from datenschatz.catalog.metadata import ContactPoint, _check_url
from datenschatz.db.catalog_models import DatasetGroup, Group, OrganizationProfile
from datenschatz.db.models import Dataset, Organization, OrganizationType
from datenschatz.errors import Conflict, InputError, NotFound


class OrganizationChanges(BaseModel):
    """What may be set on an organization; unset fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    type: OrganizationType | None = None
    description: str | None = None
    homepage: str | None = None
    email: str | None = None
    contributor_id: str | None = None
    municipality_key: str | None = None

    @field_validator("homepage")
    @classmethod
    def _homepage(cls, value: str | None) -> str | None:
        return _check_url(value, "the homepage")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return ContactPoint(name="x", email=value).email

    @field_validator("contributor_id")
    @classmethod
    def _contributor(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        ident = value.strip().removeprefix(vocab.CONTRIBUTOR_BASE)
        if ident not in vocab.CONTRIBUTORS:
            raise ValueError(f"unknown contributor id {ident!r}")
        return ident

    @field_validator("municipality_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not (value.strip().isdigit() and len(value.strip()) == 8):
            raise ValueError("a municipality key has 8 digits, e.g. 05916000")
        return value.strip()


@dataclass(frozen=True)
class OrganizationInfo:
    slug: str
    name: str
    type: str
    description: str
    homepage: str | None
    email: str | None
    contributor_id: str | None
    municipality_key: str | None
    dataset_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "homepage": self.homepage,
            "email": self.email,
            "contributor_id": self.contributor_id,
            "municipality_key": self.municipality_key,
            "dataset_count": self.dataset_count,
        }


@dataclass(frozen=True)
class GroupInfo:
    slug: str
    title: str
    description: str
    dataset_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "dataset_count": self.dataset_count,
        }


def _input_error(exc: ValidationError) -> InputError:
    error = exc.errors()[0]
    name = ".".join(str(p) for p in error["loc"]) or "organization"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return InputError(f"Invalid field {name!r}: {message}.", field=name, parameter=name)


def profiles_of(session: Session, org_ids: list[int]) -> dict[int, OrganizationProfile]:
    if not org_ids:
        return {}
    rows = session.scalars(
        select(OrganizationProfile).where(OrganizationProfile.organization_id.in_(org_ids))
    )
    return {p.organization_id: p for p in rows}


def _get_org(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound("No such organization.", organization=slug)
    return org


def _org_info(session: Session, principal: Principal, org: Organization) -> OrganizationInfo:
    profile = profiles_of(session, [org.id]).get(org.id)
    count = session.scalar(
        select(func.count())
        .select_from(Dataset)
        .where(Dataset.organization_id == org.id, visible_datasets(principal))
    )
    return OrganizationInfo(
        slug=org.slug,
        name=org.name,
        type=org.type.value,
        description=profile.description if profile else "",
        homepage=profile.homepage if profile else None,
        email=profile.email if profile else None,
        contributor_id=profile.contributor_id if profile else None,
        municipality_key=profile.municipality_key if profile else None,
        dataset_count=count or 0,
    )


def list_organizations(session: Session, principal: Principal) -> list[OrganizationInfo]:
    orgs = session.scalars(select(Organization).order_by(Organization.slug)).all()
    return [_org_info(session, principal, org) for org in orgs]


def organization_detail(session: Session, principal: Principal, slug: str) -> OrganizationInfo:
    return _org_info(session, principal, _get_org(session, slug))


def save_organization(
    session: Session,
    principal: Principal,
    slug: str,
    changes: dict[str, Any],
    *,
    create: bool = False,
) -> OrganizationInfo:
    """Create (``create``) or change an organization and its details. Admins only."""
    ensure_admin(principal)
    check_slug(slug, "org")
    try:
        parsed = OrganizationChanges(**changes)
    except ValidationError as exc:
        raise _input_error(exc) from None
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        if not create:
            raise NotFound("No such organization.", organization=slug)
        org = Organization(
            slug=slug,
            name=parsed.name or slug.replace("-", " ").title(),
            type=parsed.type or OrganizationType.CITY,
        )
        session.add(org)
        session.flush()
    elif create:
        raise Conflict("The organization exists already.", organization=slug)
    _apply(session, org, parsed)
    return _org_info(session, principal, org)


def describe_organization(session: Session, org: Organization, changes: dict[str, Any]) -> None:
    """Set an organization's details without an access check (for the demo loader)."""
    try:
        parsed = OrganizationChanges(**changes)
    except ValidationError as exc:
        raise _input_error(exc) from None
    _apply(session, org, parsed)


def _apply(session: Session, org: Organization, parsed: OrganizationChanges) -> None:
    if parsed.name:
        org.name = parsed.name.strip()
    if parsed.type is not None:
        org.type = parsed.type
    profile = profiles_of(session, [org.id]).get(org.id)
    if profile is None:
        profile = OrganizationProfile(organization_id=org.id, description="")
        session.add(profile)
    given = parsed.model_dump(exclude_unset=True)
    for name in ("description", "homepage", "email", "contributor_id", "municipality_key"):
        if name in given:
            value = given[name]
            setattr(profile, name, (value or "") if name == "description" else value)
    session.flush()


def list_groups(session: Session, principal: Principal) -> list[GroupInfo]:
    counts = dict(
        session.execute(
            select(DatasetGroup.group_id, func.count())
            .join(Dataset, Dataset.id == DatasetGroup.dataset_id)
            .where(visible_datasets(principal))
            .group_by(DatasetGroup.group_id)
        ).all()
    )
    return [
        GroupInfo(g.slug, g.title, g.description, counts.get(g.id, 0))
        for g in session.scalars(select(Group).order_by(Group.slug))
    ]


def group_detail(session: Session, principal: Principal, slug: str) -> GroupInfo:
    for info in list_groups(session, principal):
        if info.slug == slug:
            return info
    raise NotFound("No such group.", group=slug)


def save_group(
    session: Session,
    principal: Principal,
    slug: str,
    *,
    title: str | None = None,
    description: str | None = None,
) -> GroupInfo:
    """Create a group or change its title and description. Admins only."""
    ensure_admin(principal)
    check_slug(slug, "group")
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is None:
        group = Group(slug=slug, title=(title or slug.replace("-", " ").title()).strip())
        group.description = description or ""
        session.add(group)
    else:
        if title is not None:
            if not title.strip():
                raise InputError("A group needs a title.", field="title", parameter="title")
            group.title = title.strip()
        if description is not None:
            group.description = description
    session.flush()
    return group_detail(session, principal, slug)


def delete_group(session: Session, principal: Principal, slug: str) -> None:
    ensure_admin(principal)
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is None:
        raise NotFound("No such group.", group=slug)
    for link in session.scalars(select(DatasetGroup).where(DatasetGroup.group_id == group.id)):
        session.delete(link)
    session.delete(group)
    session.flush()
