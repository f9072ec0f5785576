"""Native REST: datasets and their versions (/api/v1/datasets)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from datenschatz import events
from datenschatz.access.policy import Principal
from datenschatz.api.cache import ResponseCache
from datenschatz.api.deps import get_hub, get_principal, get_session
from datenschatz.api.http import etag_for, matches
from datenschatz.catalog import views
from datenschatz.hub import Hub

router = APIRouter(prefix="/api/v1", tags=["datasets"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _links(request: Request, slug: str) -> dict[str, str]:
    base = str(request.base_url).rstrip("/") + f"/api/v1/datasets/{slug}"
    return {
        "self": base,
        "versions": base + "/versions",
        "rows": base + "/rows",
        "aggregate": base + "/aggregate",
        "download_csv": base + "/download.csv",
    }


@router.get("/datasets", summary="List the datasets you may see")
def list_datasets(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Datasets per page.")] = 100,
    offset: Annotated[int, Query(ge=0, description="Datasets to skip.")] = 0,
) -> dict[str, Any]:
    total, page = views.list_datasets(session, principal, limit=limit, offset=offset)
    body: dict[str, Any] = {
        "total": total,
        "datasets": [{**d.to_dict(), "links": _links(request, d.slug)} for d in page],
    }
    if offset + limit < total:
        body["next"] = str(request.url.include_query_params(offset=offset + limit))
    return body


@router.get("/datasets/{slug}", summary="One dataset with the schema of its published version")
async def get_dataset(slug: str, request: Request, principal: PrincipalDep) -> Response:
    hub = get_hub(request)
    cache: ResponseCache = request.app.state.metadata_cache
    key = ("dataset", principal.cache_key, str(request.base_url), slug)
    entry = cache.get(key)
    if entry is None:
        generation = events.generation()
        etag, body = await run_in_threadpool(_dataset_answer, hub, principal, slug, request)
        cache.put(key, etag, body, generation)
    else:
        etag, body = entry.etag, entry.body
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60"}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _dataset_answer(
    hub: Hub, principal: Principal, slug: str, request: Request
) -> tuple[str, bytes]:
    with hub.session() as session:
        info = views.dataset_detail(session, principal, slug)
    etag = etag_for("dataset", slug, info.modified_at.isoformat(), info.published_version)
    body = json.dumps(
        {**info.to_dict(), "links": _links(request, slug)}, ensure_ascii=False
    ).encode()
    return etag, body


@router.get("/datasets/{slug}/versions", summary="The versions of a dataset you may read")
def list_versions(
    slug: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    versions = views.dataset_versions(session, principal, slug)
    return {
        "dataset": slug,
        "versions": [
            {**v.to_dict(), "schema": v.table_schema, "quality": v.quality} for v in versions
        ],
    }
