"""OGC API - Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS) under /ogc.

A translator: the request goes as (key, value) pairs to :mod:`datenschatz.services.features`,
the result comes back as JSON/GeoJSON or as a server-rendered HTML page.

- Format: ``f=json`` or ``f=html``; else the Accept header; JSON when neither prefers HTML
  (clients such as OWSLib send ``*/*`` or nothing).
- Unknown parameters are a 400 on every resource; property names of the collection are
  known parameters of its items (equality filters).
- Items and single features carry an ETag derived from the immutable version (304 on
  If-None-Match) and a ``Content-Crs`` header.
- ``/ogc/api`` is the OpenAPI 3.0 definition of this part (``service-desc``); with
  ``f=html`` a readable summary (``service-doc``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import URL

from datenschatz.access.policy import Principal
from datenschatz.api import ogc_html, ogc_openapi
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.api.http import etag_for, matches
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.ogc.crs import STORAGE, SUPPORTED
from datenschatz.services import features
from datenschatz.services.features import Collection

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
TITLE = "Datenschatz - OGC API Features"
DESCRIPTION = (
    "Die veröffentlichten Geodaten von Stadt und Stadtwerken als OGC API - Features. "
    "Published geodata of the city and its utility as OGC API - Features."
)
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
_DOC = "Parameters and formats: see the OGC API definition at /ogc/api."


def _documented(media: str, what: str) -> dict[str, Any]:
    """Route options for the app's /openapi.json: media types and errors, no 422."""
    return {
        "description": _DOC,
        "response_class": Response,
        "responses": {
            200: {"description": what, "content": {media: {}, HTML: {}}},
            400: {"description": "A parameter is wrong; error.details.parameter names it."},
            404: {"description": "No such collection or feature."},
        },
    }


_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/*")
_JSON_TYPES = (JSON, GEOJSON, "application/*", "*/*", "application/vnd.oai.openapi+json")


# --- negotiation and parameters -------------------------------------------------------------


def _accept_quality(header: str, types: Iterable[str]) -> float:
    """The highest quality the Accept ``header`` gives any of ``types``."""
    wanted = set(types)
    best = 0.0
    for item in header.split(","):
        media, *options = (p.strip() for p in item.split(";"))
        if media.lower() not in wanted:
            continue
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best = max(best, quality)
    return best


def _format(request: Request) -> str:
    """``json`` or ``html``: the ``f`` parameter, else the Accept header, else JSON."""
    given = request.query_params.getlist("f")
    if len(given) > 1:
        raise InputError("The parameter f is given more than once.", parameter="f")
    if given:
        value = given[0].strip().lower()
        if value in ("json", "geojson", "application/json", "application/geo+json"):
            return "json"
        if value in ("html", "text/html"):
            return "html"
        raise InputError("f must be json or html.", parameter="f")
    header = request.headers.get("accept", "")
    if _accept_quality(header, _HTML_TYPES) > _accept_quality(header, _JSON_TYPES):
        return "html"
    return "json"


def _pairs(request: Request) -> list[tuple[str, str]]:
    """The query parameters in the client's order, without ``f``."""
    return [(k, v) for k, v in request.query_params.multi_items() if k != "f"]


def _no_parameters(request: Request) -> None:
    for key, _ in _pairs(request):
        raise InputError(f"Unknown parameter {key!r}.", parameter=key)


# --- links ----------------------------------------------------------------------------------


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _with_format(url: URL, fmt: str) -> str:
    """``url`` answering in ``fmt``: JSON is the default, so it needs no ``f``."""
    url = url.remove_query_params("f")
    return str(url.include_query_params(f="html") if fmt == "html" else url)


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


def _self_links(request: Request, fmt: str, json_type: str = JSON) -> list[dict[str, str]]:
    """``self`` and ``alternate`` for this resource in the chosen and the other format."""
    as_json = _link(_with_format(request.url, "json"), "self", json_type, "JSON")
    as_html = _link(_with_format(request.url, "html"), "self", HTML, "HTML")
    if fmt == "html":
        as_json["rel"] = "alternate"
        return [as_html, as_json]
    as_html["rel"] = "alternate"
    return [as_json, as_html]


def _headers(
    etag: str | None = None,
    principal: Principal | None = None,
    *,
    crs_header: str | None = None,
) -> dict[str, str]:
    headers = {"Vary": "Accept"}
    if etag is not None:
        scope = "public" if principal is None or principal.anonymous else "private"
        headers.update({"ETag": etag, "Cache-Control": f"{scope}, max-age=60"})
    if crs_header is not None:
        headers["Content-Crs"] = crs_header
    return headers


def _json(body: Any, media: str, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False).encode(), media_type=media, headers=headers
    )


def _html(page: str, headers: dict[str, str]) -> Response:
    return Response(page.encode(), media_type="text/html; charset=utf-8", headers=headers)


# --- documents ------------------------------------------------------------------------------


def collection_json(request: Request, item: Collection, fmt: str = "json") -> dict[str, Any]:
    """A collection as JSON; the same in /collections and /collections/{id}."""
    base = f"{_root(request)}/collections/{item.id}"
    if fmt == "json":
        links = [_link(base, "self", JSON, "JSON"), _link(base + "?f=html", "alternate", HTML)]
    else:
        links = [_link(base + "?f=html", "self", HTML), _link(base, "alternate", JSON, "JSON")]
    links += [
        _link(base + "/items", "items", GEOJSON, "Features (GeoJSON)"),
        _link(base + "/items?f=html", "items", HTML, "Features (HTML)"),
        _link(
            str(request.base_url).rstrip("/") + f"/api/v1/datasets/{item.id}",
            "describedby",
            JSON,
            "Dataset metadata",
        ),
    ]
    extent: dict[str, Any] = {}
    if item.bbox is not None:
        extent["spatial"] = {"bbox": [item.bbox], "crs": STORAGE.uri}
    if item.interval is not None:
        extent["temporal"] = {"interval": [list(item.interval)], "trs": TRS}
    body: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "itemType": "feature",
        "links": links,
    }
    if extent:
        body["extent"] = extent
    body["crs"] = [c.uri for c in SUPPORTED]
    body["storageCrs"] = STORAGE.uri
    return body


def _landing_json(request: Request, fmt: str) -> dict[str, Any]:
    root = _root(request)
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "links": [
            *_self_links(request, fmt),
            _link(root + "/api", "service-desc", OPENAPI, "OpenAPI 3.0 definition"),
            _link(root + "/api?f=html", "service-doc", HTML, "API documentation"),
            _link(root + "/conformance", "conformance", JSON, "Conformance classes"),
            _link(root + "/collections", "data", JSON, "Collections"),
        ],
    }


# --- routes ---------------------------------------------------------------------------------


@router.get(
    "", summary="Landing page of the OGC API - Features", **_documented(JSON, "Landing page")
)
@router.get("/", include_in_schema=False)
def landing(request: Request) -> Response:
    fmt = _format(request)
    _no_parameters(request)
    body = _landing_json(request, fmt)
    headers = _headers()
    if fmt == "html":
        return _html(ogc_html.landing_page(body), headers)
    return _json(body, JSON, headers)


@router.get(
    "/conformance",
    summary="Conformance classes implemented",
    **_documented(JSON, "Conformance classes"),
)
def conformance(request: Request) -> Response:
    fmt = _format(request)
    _no_parameters(request)
    body = {"links": _self_links(request, fmt), "conformsTo": CONFORMANCE}
    if fmt == "html":
        return _html(ogc_html.conformance_page(body, _root(request)), _headers())
    return _json(body, JSON, _headers())


@router.get(
    "/api",
    summary="OpenAPI 3.0 definition of the OGC API",
    **_documented(OPENAPI, "OpenAPI 3.0 definition"),
)
def api_definition(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    fmt = _format(request)
    _no_parameters(request)
    found = features.collections(hub, principal)
    spec = ogc_openapi.definition(
        _root(request),
        found,
        title=TITLE,
        description=DESCRIPTION,
        max_limit=hub.settings.max_rows_per_page,
    )
    if fmt == "html":
        return _html(ogc_html.api_page(spec, _root(request)), _headers())
    return _json(spec, OPENAPI, _headers())


@router.get("/collections", summary="The feature collections", **_documented(JSON, "Collections"))
def collections(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    fmt = _format(request)
    _no_parameters(request)
    found = features.collections(hub, principal)
    body = {
        "links": _self_links(request, fmt),
        "collections": [collection_json(request, c) for c in found],
    }
    if fmt == "html":
        return _html(ogc_html.collections_page(body, _root(request)), _headers())
    return _json(body, JSON, _headers())


@router.get(
    "/collections/{collection_id}",
    summary="One feature collection",
    **_documented(JSON, "The collection"),
)
def collection(
    collection_id: str, request: Request, hub: HubDep, principal: PrincipalDep
) -> Response:
    fmt = _format(request)
    _no_parameters(request)
    item = features.collection(hub, principal, collection_id)
    headers = _headers(etag_for("ogc-collection", item.fingerprint, fmt), principal)
    if matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    body = collection_json(request, item, fmt)
    if fmt == "html":
        return _html(ogc_html.collection_page(body, item, _root(request)), headers)
    return _json(body, JSON, headers)


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection: bbox, datetime, property filters, limit, paging, crs",
    **_documented(GEOJSON, "A page of features"),
)
def items(collection_id: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    fmt = _format(request)
    prepared = features.prepare_items(hub, principal, collection_id, _pairs(request))
    headers = _headers(
        etag_for("ogc-items", prepared.fingerprint, fmt),
        principal,
        crs_header=prepared.request.crs.header,
    )
    if matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    result = prepared.run()
    links = _self_links(request, fmt, GEOJSON)
    if result.next_cursor is not None:
        url = request.url.remove_query_params(["offset", "cursor"])
        href = str(url.include_query_params(cursor=result.next_cursor))
        links.append(_link(href, "next", HTML if fmt == "html" else GEOJSON, "Next page"))
    base = f"{_root(request)}/collections/{collection_id}"
    links.append(_link(base, "collection", JSON, prepared.collection.title))
    head: dict[str, Any] = {"type": "FeatureCollection"}
    if result.number_matched is not None:
        head["numberMatched"] = result.number_matched
    head["numberReturned"] = result.number_returned
    head["timeStamp"] = result.time_stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    head["links"] = links
    if fmt == "html":
        first = None
        if prepared.request.cursor is not None or prepared.request.offset:
            first = str(request.url.remove_query_params(["offset", "cursor"]))
        page = ogc_html.items_page(
            head,
            [json.loads(f) for f in result.features],
            prepared.collection,
            result.crs,
            base,
            first,
        )
        return _html(page, headers)
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    body = text[:-1] + ',"features":[' + ",".join(result.features) + "]}"
    return Response(body.encode(), media_type=GEOJSON, headers=headers)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature; its id is its row number in the version file",
    **_documented(GEOJSON, "The feature"),
)
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    hub: HubDep,
    principal: PrincipalDep,
) -> Response:
    fmt = _format(request)
    prepared = features.prepare_feature(hub, principal, collection_id, feature_id, _pairs(request))
    headers = _headers(
        etag_for("ogc-feature", prepared.fingerprint, fmt),
        principal,
        crs_header=prepared.crs.header,
    )
    if matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    result = prepared.run()
    body: dict[str, Any] = json.loads(result.feature)
    base = f"{_root(request)}/collections/{collection_id}"
    body["links"] = [
        *_self_links(request, fmt, GEOJSON),
        _link(base, "collection", JSON, prepared.collection.title),
    ]
    if fmt == "html":
        return _html(ogc_html.item_page(body, prepared.collection, result.crs, base), headers)
    return _json(body, GEOJSON, headers)
