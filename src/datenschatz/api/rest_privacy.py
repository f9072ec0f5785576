"""Native REST: column roles, role proposals and privacy reports (/api/v1/datasets/{slug}/...).

Roles, proposals and the full report are for stewards and admins of the dataset (the policy's
``ensure_can_edit``); the plain summary of a published version's report is public.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.errors import InputError
from datenschatz.privacy import service

router = APIRouter(prefix="/api/v1", tags=["privacy"])

PrincipalDep = Annotated[Principal, Depends(get_principal)]
VersionQuery = Annotated[
    int | None, Query(ge=1, description="Version number (default: the newest).")
]


@router.get("/datasets/{slug}/privacy/roles", summary="Column roles and proposals (stewards)")
async def get_roles(
    slug: str, request: Request, principal: PrincipalDep, version: VersionQuery = None
) -> dict[str, Any]:
    hub = get_hub(request)
    columns = await run_in_threadpool(service.column_roles, hub, principal, slug, version)
    return {"dataset": slug, "columns": columns}


@router.get("/datasets/{slug}/privacy/proposals", summary="The gate's proposed roles (stewards)")
async def get_proposals(
    slug: str, request: Request, principal: PrincipalDep, version: VersionQuery = None
) -> dict[str, Any]:
    hub = get_hub(request)
    columns = await run_in_threadpool(service.column_roles, hub, principal, slug, version)
    return {
        "dataset": slug,
        "proposals": {c["column"]: c["proposed_role"] for c in columns},
        "reasons": {c["column"]: c["proposal_reason"] for c in columns},
    }


@router.put(
    "/datasets/{slug}/privacy/roles",
    summary="Set and confirm column roles, or confirm the proposals (stewards)",
)
async def put_roles(
    slug: str,
    request: Request,
    principal: PrincipalDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description=(
                'JSON object: {"roles": {"column": "role", ...}, "accept_proposed": false}'
            )
        ),
    ],
    version: VersionQuery = None,
) -> dict[str, Any]:
    roles = body.get("roles") or {}
    accept = body.get("accept_proposed", False)
    unknown = set(body) - {"roles", "accept_proposed"}
    if unknown:
        raise InputError("Unknown field(s): " + ", ".join(sorted(unknown)) + ".", parameter="body")
    if not isinstance(roles, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in roles.items()
    ):
        raise InputError('"roles" must map column names to role names.', parameter="roles")
    if not isinstance(accept, bool):
        raise InputError('"accept_proposed" must be true or false.', parameter="accept_proposed")
    if not roles and not accept:
        raise InputError('Give "roles" or "accept_proposed": true.', parameter="body")
    hub = get_hub(request)
    verdict = await run_in_threadpool(
        lambda: service.update_roles(hub, principal, slug, roles, accept=accept, number=version)
    )
    columns = await run_in_threadpool(service.column_roles, hub, principal, slug, version)
    return {
        "dataset": slug,
        "columns": columns,
        "passed": verdict.passed,
        "reasons": verdict.reasons,
    }


@router.get(
    "/datasets/{slug}/privacy/report",
    summary="The full privacy report of a version, evaluated afresh (stewards)",
)
async def get_report(
    slug: str, request: Request, principal: PrincipalDep, version: VersionQuery = None
) -> dict[str, Any]:
    hub = get_hub(request)
    report: dict[str, Any] = await run_in_threadpool(
        service.privacy_report, hub, principal, slug, version
    )
    return report


@router.get(
    "/datasets/{slug}/privacy/summary",
    summary="Plain summary of the privacy report of a version you may read",
)
async def get_summary(
    slug: str, request: Request, principal: PrincipalDep, version: VersionQuery = None
) -> dict[str, Any]:
    hub = get_hub(request)
    summary: dict[str, Any] = await run_in_threadpool(
        service.public_report, hub, principal, slug, version
    )
    return summary
