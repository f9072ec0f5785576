"""The other public pages: the sensor overview, the city's measures and the data challenges
(one challenge's page and its forms are in ``pages_challenge_forms.py``).

Each reads through its service (SensorThings reader, measures, challenges) with the
request's principal; datastreams of hidden datasets stay hidden as in the SensorThings API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from datenschatz.access.policy import Principal
from datenschatz.analysis import measures
from datenschatz.analysis.measures import DatasetIndicator, parse_spec
from datenschatz.errors import DatenschatzError
from datenschatz.governance import challenges
from datenschatz.hub import Hub
from datenschatz.sensors import read
from datenschatz.sensors.odata import parse_options, parse_path
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_THINGS = 500
_THINGS_EXPAND = (
    "Locations($select=location),"
    "Datastreams($select=id,name,unitOfMeasurement;"
    "$expand=Observations($select=phenomenonTime,result;$orderby=phenomenonTime desc;$top=1))"
)


def sensor_things(hub: Hub, principal: Principal, root: str) -> list[dict[str, Any]]:
    """The Things with a location, their datastreams and each one's latest value."""
    options = parse_options({"$top": str(MAX_THINGS), "$orderby": "id", "$expand": _THINGS_EXPAND})
    with hub.session() as session:
        answer = read.read(
            session, principal, parse_path("Things"), options, base_url=root + "/sta/v1.1"
        )
    things = []
    for thing in answer.get("value", []):
        locations = [
            loc["location"]
            for loc in thing.get("Locations", [])
            if isinstance(loc.get("location"), dict)
        ]
        streams = []
        for stream in thing.get("Datastreams", []):
            unit = stream.get("unitOfMeasurement") or {}
            latest = (stream.get("Observations") or [None])[0]
            streams.append(
                {
                    "id": stream.get("@iot.id"),
                    "name": stream.get("name", ""),
                    "unit": unit.get("symbol") or unit.get("name") or "",
                    "result": latest.get("result") if latest else None,
                    "time": latest.get("phenomenonTime") if latest else None,
                }
            )
        things.append(
            {
                "id": thing.get("@iot.id"),
                "name": thing.get("name", ""),
                "description": thing.get("description", ""),
                "location": locations[0] if locations else None,
                "datastreams": streams,
            }
        )
    return things


@router.get("/sensors", response_class=HTMLResponse)
def sensors_page(request: Request, hub: HubDep, principal: PrincipalDep) -> HTMLResponse:
    root = str(request.base_url).rstrip("/")
    try:
        things = sensor_things(hub, principal, root)
    except DatenschatzError as exc:
        return error_page(request, exc)
    features = [
        {
            "type": "Feature",
            "geometry": t["location"],
            "properties": {
                "name": t["name"],
                "values": [
                    {"name": s["name"], "result": s["result"], "unit": s["unit"]}
                    for s in t["datastreams"]
                ],
            },
        }
        for t in things
        if t["location"]
    ]
    return page(request, "sensors.html", things=things, features=features)


@router.get("/measures", response_class=HTMLResponse)
def measures_page(request: Request, hub: HubDep) -> HTMLResponse:
    with hub.session() as session:
        items = measures.list_measures(session)
    return page(request, "measures.html", measures=items)


def _chart_config(spec: dict[str, Any]) -> dict[str, Any] | None:
    """What the page's script asks the aggregate API for (dataset indicators only)."""
    parsed = parse_spec(spec)
    indicator = parsed.indicator
    if not isinstance(indicator, DatasetIndicator):
        return None
    stations = parsed.treated + parsed.control
    params = [
        ("group_by", f"{indicator.group},{indicator.time}:day"),
        ("metrics", f"avg:{indicator.value}"),
        (f"{indicator.group}__in", ",".join(stations)),
        ("_limit", "10000"),
    ]
    if indicator.version is not None:
        params.append(("version", str(indicator.version)))
    return {
        "url": f"/api/v1/datasets/{indicator.dataset}/aggregate",
        "params": params,
        "group": indicator.group,
        "time": f"{indicator.time}:day",
        "value": f"avg:{indicator.value}",
        "treated": parsed.treated,
        "control": parsed.control,
        "start": parsed.start.isoformat(),
    }


@router.get("/measures/{name}", response_class=HTMLResponse)
def measure_page(name: str, request: Request, hub: HubDep) -> HTMLResponse:
    try:
        with hub.session() as session:
            measure = measures.measure_dict(measures.get_measure(session, name))
            stored = measures.evaluations(session, name)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(
        request,
        "measure.html",
        measure=measure,
        evaluation=stored[0] if stored else None,
        evaluations=stored,
        chart=_chart_config(measure["spec"]),
    )


@router.get("/challenges", response_class=HTMLResponse)
def challenges_page(request: Request, hub: HubDep, principal: PrincipalDep) -> HTMLResponse:
    with hub.session() as session:
        items = challenges.list_challenges(session, principal)
    return page(request, "challenges.html", challenges=items)
