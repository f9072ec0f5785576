"""The catalog's pages: home, search, organizations (German by default, English on request).

Thin: each handler calls the catalog services with the request's principal and renders a
template. Hidden datasets are never matched, counted or linked (the services ask the policy).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from datenschatz.access.policy import Principal
from datenschatz.catalog import organizations, search
from datenschatz.catalog.metadata import licence_title
from datenschatz.errors import DatenschatzError, InputError
from datenschatz.hub import Hub
from datenschatz.web.deps import HubDep, PrincipalDep, theme_label
from datenschatz.web.i18n import language_of
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

PAGE_SIZE = 10
SORTS = tuple(s.value for s in search.Sort)


def _hit(hit: search.Hit, lang: str) -> dict[str, Any]:
    info, meta = hit.dataset, hit.metadata
    title = (meta.title_en if lang == "en" else None) or info.title
    description = (meta.description_en if lang == "en" else None) or info.description
    return {
        "slug": info.slug,
        "title": title,
        "description": description,
        "organization": info.organization,
        "organization_name": info.organization_name,
        "access_level": info.access_level,
        "rows": info.rows,
        "modified_at": info.modified_at,
        "licence": licence_title(meta.licence),
        "themes": [theme_label(c, lang) for c in meta.themes],
        "formats": hit.facets.get("format", []),
        "has_geodata": hit.facets.get("has_geodata") == ["true"],
        "has_time_series": hit.facets.get("has_time_series") == ["true"],
    }


def _facet_label(name: str, value: search.FacetValue, lang: str) -> str:
    if name == "theme":
        return theme_label(value.value, lang)
    return value.label


def _home(hub: Hub, principal: Principal, lang: str) -> dict[str, Any]:
    with hub.session() as session:
        newest = search.search(
            session, principal, search.SearchQuery(sort=search.Sort.NEWEST, limit=5, facets=())
        )
        used = search.search(
            session, principal, search.SearchQuery(sort=search.Sort.MOST_USED, limit=5, facets=())
        )
        themes = search.search(
            session, principal, search.SearchQuery(limit=0, facets=("theme",), facet_limit=-1)
        )
        orgs = organizations.list_organizations(session, principal)
    return {
        "total": themes.total,
        "newest": [_hit(h, lang) for h in newest.hits],
        "most_used": [_hit(h, lang) for h in used.hits],
        "themes": [
            {"value": v.value, "label": theme_label(v.value, lang), "count": v.count}
            for v in themes.facets.get("theme", [])
        ],
        "organizations": [o for o in orgs if o.dataset_count],
    }


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request, hub: HubDep, principal: PrincipalDep) -> HTMLResponse:
    lang, _ = language_of(request)
    return page(request, "home.html", **_home(hub, principal, lang))


def _search_pairs(request: Request) -> list[tuple[str, str]]:
    """The search parameters of the page URL (the page adds ``page`` and ``lang``)."""
    pairs = []
    for key, value in request.query_params.multi_items():
        if key in ("lang", "page") or (key in ("q", "sort") and not value.strip()):
            continue
        pairs.append((key, value))
    return pairs


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1").strip() or "1"
    if not text.isdigit() or int(text) < 1:
        raise InputError("page must be a whole number from 1.", parameter="page")
    return int(text)


def _facet_href(request: Request, name: str, value: str, active: bool) -> str:
    """The search URL with the facet value added (or removed when ``active``), from page 1."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "lang")]
    if active:
        pairs = [(k, v) for k, v in pairs if (k, v.strip()) != (name, value)]
    else:
        pairs.append((name, value))
    return request.url.path + ("?" + urlencode(pairs) if pairs else "")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, hub: HubDep, principal: PrincipalDep) -> HTMLResponse:
    lang, _ = language_of(request)
    try:
        number = _page_number(request)
        pairs = _search_pairs(request)
        if any(k in ("limit", "offset", "facet", "facet_limit") for k, _ in pairs):
            raise InputError("Use page instead of limit/offset.", parameter="page")
        query = search.parse_search(
            [*pairs, ("limit", str(PAGE_SIZE)), ("offset", str((number - 1) * PAGE_SIZE))]
        )
        with hub.session() as session:
            result = search.search(session, principal, query)
    except DatenschatzError as exc:
        return error_page(request, exc)
    active = set(query.filters)
    facets = []
    for name in search.FACETS:
        values = result.facets.get(name, [])
        if not values:
            continue
        facets.append(
            {
                "name": name,
                "values": [
                    {
                        "value": v.value,
                        "label": _facet_label(name, v, lang),
                        "count": v.count,
                        "active": (name, v.value) in active,
                        "href": _facet_href(request, name, v.value, (name, v.value) in active),
                    }
                    for v in values
                ],
            }
        )
    pages = max(1, -(-result.total // PAGE_SIZE))
    return page(
        request,
        "search.html",
        q=query.q,
        sort=query.sort.value,
        sorts=SORTS,
        total=result.total,
        hits=[_hit(h, lang) for h in result.hits],
        facets=facets,
        filters=[{"name": n, "value": v} for n, v in query.filters],
        page_number=number,
        pages=pages,
    )


@router.get("/organizations", response_class=HTMLResponse)
def organizations_page(request: Request, hub: HubDep, principal: PrincipalDep) -> HTMLResponse:
    with hub.session() as session:
        orgs = organizations.list_organizations(session, principal)
    return page(request, "organizations.html", organizations=orgs)


@router.get("/organizations/{slug}", response_class=HTMLResponse)
def organization_page(
    slug: str, request: Request, hub: HubDep, principal: PrincipalDep
) -> HTMLResponse:
    lang, _ = language_of(request)
    try:
        with hub.session() as session:
            org = organizations.organization_detail(session, principal, slug)
            query = search.parse_search(
                [("organization", slug), ("sort", "title"), ("limit", "1000")]
            )
            found = search.search(session, principal, query)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(
        request,
        "organization.html",
        org=org,
        datasets=[_hit(h, lang) for h in found.hits],
    )
