"""Native REST: apply declared treatments to a raw version (stewards only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from datenschatz.access.policy import Principal, ensure_can_edit
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.privacy.ledger import treatment_run_for
from datenschatz.privacy.treatments import apply_treatments, parse_spec

router = APIRouter(prefix="/api/v1", tags=["privacy"])

PrincipalDep = Annotated[Principal, Depends(get_principal)]


@router.post(
    "/datasets/{slug}/treatments",
    status_code=201,
    summary="Apply treatments to a raw version; the publishable result is a new version",
)
def treat(
    slug: str,
    request: Request,
    principal: PrincipalDep,
    spec: Annotated[
        dict[str, Any],
        Body(description="The treatment spec (see docs/privacy.md, Treatments), as JSON."),
    ],
    version: Annotated[
        int | None, Query(ge=1, description="Raw version number (default newest).")
    ] = None,
) -> dict[str, Any]:
    hub = get_hub(request)
    with hub.session() as session:
        ensure_can_edit(session, principal, slug)
    parsed = parse_spec(spec)
    info = apply_treatments(hub, slug, raw_version=version, spec=parsed, actor=principal.name)
    with hub.session() as session:
        target = get_version(session, get_dataset(session, slug), info.number)
        report = treatment_run_for(session, target.id)
    columns = [f["name"] for f in info.table_schema.get("fields", [])]
    return {**info.to_dict(), "columns": columns, "treatment": report}
