"""Native REST: dataset metadata, organizations and groups.

``GET /api/v1/datasets/{slug}/metadata`` shows the DCAT-AP.de description with the generated
attribution text and the dataset's groups; ``PUT`` replaces it, ``PATCH`` changes the fields
sent (``null`` clears an optional field). Organizations and groups are read by everyone and
changed by admins.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, ensure_dataset
from datenschatz.api.deps import get_principal, get_session
from datenschatz.catalog import organizations
from datenschatz.catalog.datasets import get_dataset
from datenschatz.catalog.metadata import (
    DatasetMetadata,
    attribution_text,
    dataset_group_slugs,
    licence_title,
    read_metadata,
    update_metadata,
)
from datenschatz.db.models import Dataset
from datenschatz.errors import InputError

router = APIRouter(prefix="/api/v1", tags=["metadata"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
MetadataBody = Annotated[
    dict[str, Any],
    Body(
        description="Metadata fields (see docs/metadata.md); groups as a list of group slugs.",
        examples=[{"keywords": ["Luft"], "themes": ["ENVI"], "licence": "dl-by-de/2.0"}],
    ),
]
OrganizationBody = Annotated[
    dict[str, Any],
    Body(
        description="name, type, description, homepage, email, contributor_id, municipality_key",
        examples=[{"name": "Stadt Herne", "type": "city_administration"}],
    ),
]
GroupBody = Annotated[
    dict[str, Any],
    Body(description="title and description", examples=[{"title": "Umwelt"}]),
]


def _answer(
    session: Session, request: Request, dataset: Dataset, meta: DatasetMetadata
) -> dict[str, Any]:
    url = str(request.base_url).rstrip("/") + f"/datasets/{dataset.slug}"
    body = meta.model_dump(mode="json")
    body.update(
        slug=dataset.slug,
        organization=dataset.organization.slug,
        access_level=dataset.access_level.value,
        status=dataset.status.value,
        licence_title=licence_title(meta.licence),
        attribution=attribution_text(dataset, url=url),
        groups=dataset_group_slugs(session, [dataset.id])[dataset.id],
        missing=meta.missing(),
    )
    return body


@router.get("/datasets/{slug}/metadata", summary="A dataset's DCAT-AP.de metadata")
def get_metadata(
    slug: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    dataset = ensure_dataset(session, principal, slug)
    return _answer(session, request, dataset, read_metadata(dataset))


@router.put("/datasets/{slug}/metadata", summary="Replace a dataset's metadata")
def put_metadata(
    slug: str,
    changes: MetadataBody,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    meta = update_metadata(session, principal, slug, changes, replace=True)
    return _answer(session, request, get_dataset(session, slug), meta)


@router.patch("/datasets/{slug}/metadata", summary="Change some fields of a dataset's metadata")
def patch_metadata(
    slug: str,
    changes: MetadataBody,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    meta = update_metadata(session, principal, slug, changes)
    return _answer(session, request, get_dataset(session, slug), meta)


@router.get("/organizations", summary="The publishing organizations")
def list_organizations(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    orgs = organizations.list_organizations(session, principal)
    return {"total": len(orgs), "organizations": [o.to_dict() for o in orgs]}


@router.get("/organizations/{slug}", summary="One organization with its details")
def get_organization(slug: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return organizations.organization_detail(session, principal, slug).to_dict()


@router.put("/organizations/{slug}", summary="Create or change an organization (admins)")
def put_organization(
    slug: str, changes: OrganizationBody, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    exists = slug in {o.slug for o in organizations.list_organizations(session, principal)}
    info = organizations.save_organization(session, principal, slug, changes, create=not exists)
    return info.to_dict()


@router.get("/groups", summary="The groups (topics) of datasets")
def list_groups(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    groups = organizations.list_groups(session, principal)
    return {"total": len(groups), "groups": [g.to_dict() for g in groups]}


@router.get("/groups/{slug}", summary="One group")
def get_group(slug: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return organizations.group_detail(session, principal, slug).to_dict()


@router.put("/groups/{slug}", summary="Create or change a group (admins)")
def put_group(
    slug: str, changes: GroupBody, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    unknown = sorted(set(changes) - {"title", "description"})
    if unknown:
        raise InputError(f"Unknown group field {unknown[0]!r}.", parameter=unknown[0])
    title, description = changes.get("title"), changes.get("description")
    for name, value in (("title", title), ("description", description)):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{name} is a string.", parameter=name)
    return organizations.save_group(
        session, principal, slug, title=title, description=description
    ).to_dict()
