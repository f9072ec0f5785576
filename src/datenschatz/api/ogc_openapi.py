"""The OpenAPI 3.0 definition of the feature API (``/ogc/api``, ``service-desc``).

Built per request from the collections the caller may see: each collection gets its own
paths, so that its property filters are listed as parameters (as the OGC conformance class
"OpenAPI 3.0" expects of a server that supports them). The app's /openapi.json (3.1) lists
the routes too; this document is the one OGC clients read.
"""

from __future__ import annotations

from typing import Any

from datenschatz import __version__
from datenschatz.ogc.crs import SUPPORTED
from datenschatz.ogc.params import DEFAULT_LIMIT, ITEMS_PARAMETERS
from datenschatz.services.features import Collection
from datenschatz.store.query import Column, Kind

_REF = "#/components/parameters/"
_JSON = "application/json"
_GEOJSON = "application/geo+json"
_HTML = "text/html"


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def _parameters(max_limit: int) -> dict[str, Any]:
    crs_uris = [c.uri for c in SUPPORTED]
    return {
        "f": _query(
            "f",
            "Format of the response: json (default) or html. Without it, the Accept header "
            "decides; JSON unless HTML is preferred.",
            {"type": "string", "enum": ["json", "html"]},
        ),
        "limit": _query(
            "limit",
            f"Features per page (default {DEFAULT_LIMIT}). A larger value than the maximum "
            "is lowered to the maximum.",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": DEFAULT_LIMIT},
        ),
        "offset": _query(
            "offset",
            "Features to skip. The next link pages with a cursor instead, which costs the same "
            "at any depth.",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "cursor": _query(
            "cursor",
            "Position of the next page, from the next link; only valid with the same selection.",
            {"type": "string"},
        ),
        "bbox": _query(
            "bbox",
            "Only features whose geometry intersects the box: minx,miny,maxx,maxy (six numbers "
            "with heights, which are ignored), in WGS 84 longitude/latitude unless bbox-crs "
            "names another CRS (EPSG:4326 and EPSG:4258 are latitude first).",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        ),
        "bbox-crs": _query(
            "bbox-crs",
            "CRS of bbox (default CRS84).",
            {"type": "string", "format": "uri", "enum": crs_uris},
        ),
        "crs": _query(
            "crs",
            "CRS of the geometries in the response (default CRS84); see the Content-Crs header.",
            {"type": "string", "format": "uri", "enum": crs_uris},
        ),
        "datetime": _query(
            "datetime",
            "An RFC 3339 instant (2024-05-01T10:00:00Z, or a date for its whole day) or an "
            "interval start/end with .. for an open end, against the collection's time column. "
            "Collections without one ignore it.",
            {"type": "string"},
        ),
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": "The feature's id: its row number in the published version.",
            "schema": {"type": "string"},
        },
    }


def _property_schema(column: Column) -> dict[str, Any]:
    kind = column.kind
    if kind is Kind.INTEGER:
        return {"type": "integer"}
    if kind is Kind.NUMBER:
        return {"type": "number"}
    if kind is Kind.BOOLEAN:
        return {"type": "boolean"}
    if kind is Kind.DATE:
        return {"type": "string", "format": "date"}
    if kind in (Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
        return {"type": "string", "format": "date-time"}
    return {"type": "string"}


def _responses(media: list[str], schema: str, description: str) -> dict[str, Any]:
    content = {m: {"schema": {"$ref": f"#/components/schemas/{schema}"}} for m in media}
    content[_HTML] = {"schema": {"type": "string"}}
    return {
        "200": {"description": description, "content": content},
        "304": {"description": "Not modified (ETag in If-None-Match)."},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "404": {"$ref": "#/components/responses/NotFound"},
    }


def _get(summary: str, parameters: list[Any], responses: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def _schemas() -> dict[str, Any]:
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    }
    links = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}
    feature = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": "object", "nullable": True},
            "properties": {"type": "object", "nullable": True},
            "links": links,
        },
    }
    return {
        "link": link,
        "landingPage": {"type": "object", "required": ["links"], "properties": {"links": links}},
        "confClasses": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
        },
        "collection": {
            "type": "object",
            "required": ["id", "links"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": links,
                "extent": {"type": "object"},
                "itemType": {"type": "string"},
                "crs": {"type": "array", "items": {"type": "string"}},
                "storageCrs": {"type": "string"},
            },
        },
        "collections": {
            "type": "object",
            "required": ["links", "collections"],
            "properties": {
                "links": links,
                "collections": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/collection"},
                },
            },
        },
        "featureGeoJSON": feature,
        "featureCollectionGeoJSON": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/featureGeoJSON"},
                },
                "links": links,
                "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
        "error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                }
            },
        },
    }


def definition(
    root: str,
    collections: list[Collection],
    *,
    title: str,
    description: str,
    max_limit: int,
) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the feature API served at ``root``."""
    f = {"$ref": _REF + "f"}
    paths: dict[str, Any] = {
        "/": _get("Landing page", [f], _responses([_JSON], "landingPage", "The landing page.")),
        "/conformance": _get(
            "Conformance classes", [f], _responses([_JSON], "confClasses", "Conformance.")
        ),
        "/api": _get(
            "This API definition",
            [f],
            {
                "200": {
                    "description": "The OpenAPI 3.0 definition.",
                    "content": {
                        "application/vnd.oai.openapi+json;version=3.0": {
                            "schema": {"type": "object"}
                        },
                        _HTML: {"schema": {"type": "string"}},
                    },
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
            },
        ),
        "/collections": _get(
            "The feature collections",
            [f],
            _responses([_JSON], "collections", "The collections."),
        ),
    }
    item_parameters = [{"$ref": _REF + n} for n in ("featureId", "crs", "f")]
    for collection in collections:
        base = f"/collections/{collection.id}"
        filters = [
            _query(c.name, f"Only features whose {c.name} equals this value.", _property_schema(c))
            for c in collection.properties
            if c.name not in ITEMS_PARAMETERS and c.name != "f" and c.kind.orderable
        ]
        standard = ("limit", "offset", "cursor", "bbox", "bbox-crs", "crs", "datetime", "f")
        paths[base] = _get(
            f"The collection {collection.title}",
            [f],
            _responses([_JSON], "collection", "The collection."),
        )
        paths[base + "/items"] = _get(
            f"Features of {collection.title}",
            [*({"$ref": _REF + n} for n in standard), *filters],
            _responses([_GEOJSON], "featureCollectionGeoJSON", "A page of features."),
        )
        paths[base + "/items/{featureId}"] = _get(
            f"One feature of {collection.title}",
            item_parameters,
            _responses([_GEOJSON], "featureGeoJSON", "The feature."),
        )
    error = {_JSON: {"schema": {"$ref": "#/components/schemas/error"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "description": description, "version": __version__},
        "servers": [{"url": root}],
        "paths": paths,
        "components": {
            "parameters": _parameters(max_limit),
            "schemas": _schemas(),
            "responses": {
                "BadRequest": {
                    "description": "A parameter is wrong; error.details.parameter names it.",
                    "content": error,
                },
                "NotFound": {"description": "No such collection or feature.", "content": error},
            },
        },
    }
