"""OGC SensorThings API 1.1 under /sta/v1.1: a translator onto :mod:`datenschatz.sensors`.

Reads are public (Datastreams tied to a dataset follow its visibility); writes need a token
with the ``sensors:write`` scope, sent as a Bearer token or as the password of HTTP Basic.
Batch requests, MultiDatastreams and Tasking are not supported (the service root says so).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.sensors import read, service
from datenschatz.sensors.model import ENTITY_SETS
from datenschatz.sensors.odata import ResourcePath, parse_options, parse_path

PREFIX = "/sta/v1.1"
router = APIRouter(prefix=PREFIX, tags=["SensorThings API"])

HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/create-observations",
]
MQTT_CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates",
]
JSON_PATCH = "application/json-patch+json"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            raise InputError(f"{key} is given more than once.", parameter=key)
        params[key] = value
    return params


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise InputError("The request needs a JSON body.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The body is not valid JSON ({exc.__class__.__name__}).") from None


def _writable_path(path: str) -> ResourcePath:
    resource = parse_path(path)
    if resource.property is not None or resource.ref or resource.value:
        raise InputError("Write to an entity or an entity set, not to a property or $ref.")
    if resource.segments[0].name not in ENTITY_SETS:
        raise InputError(f"Unknown entity set {resource.segments[0].name!r}.", parameter="path")
    return resource


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@router.get("", summary="Service root: entity sets and server settings")
def service_root(request: Request, hub: HubDep) -> dict[str, Any]:
    params = _params(request)
    if params:
        name = next(iter(params))
        raise InputError(f"The service root takes no parameters ({name}).", parameter=name)
    root = base_url(request)
    conformance = list(CONFORMANCE)
    settings: dict[str, Any] = {}
    mqtt_url = getattr(hub.settings, "mqtt_url", None)
    if mqtt_url:
        conformance += MQTT_CONFORMANCE
        endpoint = getattr(hub.settings, "mqtt_base_url", None) or _without_credentials(mqtt_url)
        settings[MQTT_CONFORMANCE[0]] = {"endpoints": [endpoint]}
    settings["conformance"] = conformance
    settings["notSupported"] = ["$batch", "MultiDatastreams", "Tasking", "$resultFormat=GeoJSON"]
    return {
        "value": [{"name": name, "url": f"{root}/{name}"} for name in ENTITY_SETS],
        "serverSettings": settings,
    }


@router.post("/CreateObservations", status_code=201, summary="Create Observations from data arrays")
async def create_observations(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    payload = await _body(request)

    def run() -> list[str]:
        with hub.session() as session:
            return service.create_observations(
                session, payload, base_url=base_url(request), principal=principal
            )

    # A JSONResponse directly: no response-model validation of thousands of links.
    return JSONResponse(await run_in_threadpool(run), status_code=201)


@router.get("/{path:path}", summary="Entities, collections, properties and $value")
def read_path(path: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    if not path.strip("/"):
        return JSONResponse(service_root(request, hub))
    resource = parse_path(path)
    options = parse_options(_params(request))
    with hub.session() as session:
        answer = read.read(session, principal, resource, options, base_url=base_url(request))
    if isinstance(answer, tuple):
        value = answer[1]
        text = value if isinstance(value, str) else json.dumps(value)
        return PlainTextResponse(text)
    return JSONResponse(answer)


@router.post("/{path:path}", status_code=201, summary="Create an entity (deep insert)")
async def create(path: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    resource = _writable_path(path)
    payload = await _body(request)
    segments = resource.segments
    parent: tuple[str, int, str] | None = None
    if len(segments) == 1 and segments[0].id is None:
        set_name = segments[0].name
    elif len(segments) == 2 and segments[0].id is not None and segments[1].id is None:
        owner = ENTITY_SETS.get(segments[0].name)
        nav = owner.navs.get(segments[1].name) if owner else None
        if owner is None or nav is None or not nav.many:
            raise InputError(f"Cannot create entities at {path}.", parameter="path")
        set_name = nav.target
        parent = (owner.name, segments[0].id, nav.name)
    else:
        raise InputError(f"Create entities at an entity set, not at {path}.", parameter="path")

    def run() -> dict[str, Any]:
        with hub.session() as session:
            return service.create_entity(
                session,
                set_name,
                payload,
                base_url=base_url(request),
                principal=principal,
                parent=parent,
            )

    entity = await run_in_threadpool(run)
    return JSONResponse(entity, status_code=201, headers={"Location": entity["@iot.selfLink"]})


def _single(path: str) -> tuple[str, int]:
    resource = _writable_path(path)
    if len(resource.segments) != 1 or resource.segments[0].id is None:
        raise InputError(
            "Address one entity, e.g. /Things(1), to change or delete it.", parameter="path"
        )
    return resource.segments[0].name, resource.segments[0].id


@router.patch("/{path:path}", summary="Update an entity (merge, or JSON Patch)")
async def patch(path: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    set_name, entity_id = _single(path)
    payload = await _body(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    change = service.patch_entity_json if content_type == JSON_PATCH else service.update_entity

    def run() -> dict[str, Any]:
        with hub.session() as session:
            return change(
                session,
                set_name,
                entity_id,
                payload,
                base_url=base_url(request),
                principal=principal,
            )

    return JSONResponse(await run_in_threadpool(run))


@router.put("/{path:path}", summary="Replace an entity")
async def put(path: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    set_name, entity_id = _single(path)
    payload = await _body(request)

    def run() -> dict[str, Any]:
        with hub.session() as session:
            return service.update_entity(
                session,
                set_name,
                entity_id,
                payload,
                base_url=base_url(request),
                principal=principal,
                replace=True,
            )

    return JSONResponse(await run_in_threadpool(run))


@router.delete("/{path:path}", summary="Delete an entity (with the standard's cascades)")
def remove(path: str, hub: HubDep, principal: PrincipalDep) -> Response:
    set_name, entity_id = _single(path)
    with hub.session() as session:
        service.delete_entity(session, set_name, entity_id, principal=principal)
    return Response(status_code=200)
