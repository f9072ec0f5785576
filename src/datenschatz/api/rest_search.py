"""Native REST: searching the catalog (/api/v1/search)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_principal, get_session
from datenschatz.catalog.search import FACETS, Hit, Sort, parse_search, search

router = APIRouter(prefix="/api/v1", tags=["search"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

_DESCRIPTION = """
Full-text search over the datasets you may see, with facet filters and counts.

**Text.** Every word of `q` must match, as a prefix and after German stemming and umlaut
folding ("Überschwemmung" = "ueberschwemmung", "Bäume" finds "Baum"), in the title,
description, keywords, themes, organization, or the names and descriptions of the columns.

**Facets.** Give a facet with a value to filter (repeat to combine; all must hold):
`organization`, `theme` (EU theme code), `licence` (dcat-ap.de id), `format`, `access_level`,
`tag`, `group`, `has_geodata` and `has_time_series` (`true`/`false`). The answer counts the
values of each facet over all matching datasets (`facet` chooses which, `facet_limit` how
many values each).

**Order and pages.** `sort` is `relevance` (newest first without `q`), `newest`, `title` or
`most_used`; `limit` and `offset` page. Unknown parameters are refused (400).
"""


def _hit(request: Request, hit: Hit) -> dict[str, Any]:
    info = hit.dataset
    meta = hit.metadata
    base = str(request.base_url).rstrip("/") + f"/api/v1/datasets/{info.slug}"
    return {
        "slug": info.slug,
        "title": info.title,
        "description": info.description,
        "organization": {"slug": info.organization, "name": info.organization_name},
        "access_level": info.access_level,
        "licence": meta.licence,
        "themes": meta.themes,
        "keywords": meta.keywords,
        "groups": hit.facets.get("group", []),
        "formats": hit.facets.get("format", []),
        "has_geodata": hit.facets.get("has_geodata") == ["true"],
        "has_time_series": hit.facets.get("has_time_series") == ["true"],
        "published_version": info.published_version,
        "rows": info.rows,
        "modified_at": info.modified_at.isoformat(),
        "score": hit.score,
        "links": {"self": base, "rows": base + "/rows"},
    }


@router.get(
    "/search",
    summary="Search the catalog",
    description=_DESCRIPTION,
    responses={400: {"description": "A parameter is wrong; error.details.parameter names it."}},
)
def search_datasets(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str | None, Query(description="Words to search for.")] = None,
    sort: Annotated[
        Sort, Query(description="relevance, newest, title or most_used.")
    ] = Sort.RELEVANCE,
    limit: Annotated[int, Query(ge=0, le=1000, description="Datasets per page.")] = 20,
    offset: Annotated[int, Query(ge=0, description="Datasets to skip.")] = 0,
    facet: Annotated[
        list[str] | None, Query(description=f"Facets to count: {', '.join(FACETS)}.")
    ] = None,
    facet_limit: Annotated[int, Query(ge=-1, description="Values per facet; -1: all.")] = 50,
    organization: Annotated[list[str] | None, Query(description="Organization slug.")] = None,
    theme: Annotated[list[str] | None, Query(description="EU data theme code.")] = None,
    licence: Annotated[list[str] | None, Query(description="dcat-ap.de licence id.")] = None,
    format: Annotated[list[str] | None, Query(description="Download format.")] = None,
    access_level: Annotated[list[str] | None, Query(description="public, partner.")] = None,
    tag: Annotated[list[str] | None, Query(description="Keyword.")] = None,
    group: Annotated[list[str] | None, Query(description="Group slug.")] = None,
    has_geodata: Annotated[str | None, Query(description="true or false.")] = None,
    has_time_series: Annotated[str | None, Query(description="true or false.")] = None,
) -> dict[str, Any]:
    # The parameters above describe the API; the service parses them (and refuses others).
    del q, sort, limit, offset, facet, facet_limit, organization, theme, licence, format
    del access_level, tag, group, has_geodata, has_time_series
    query = parse_search(request.query_params.multi_items())
    result = search(session, principal, query)
    body: dict[str, Any] = {
        "total": result.total,
        "limit": query.limit,
        "offset": query.offset,
        "sort": query.sort.value,
        "results": [_hit(request, hit) for hit in result.hits],
        "facets": {name: [v.to_dict() for v in values] for name, values in result.facets.items()},
    }
    if query.offset + query.limit < result.total and query.limit > 0:
        body["next"] = str(request.url.include_query_params(offset=query.offset + query.limit))
    return body
