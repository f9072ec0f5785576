"""Native REST for sensor data: aggregates of a datastream for charts and measures.

``/api/v1/sensors/datastreams/{id}/aggregate`` and ``.../exceedances``; thin adapters over
:mod:`datenschatz.sensors.aggregates` (which asks the access policy). The SensorThings API
itself lives under ``/sta/v1.1``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_principal, get_session
from datenschatz.errors import InputError
from datenschatz.sensors import aggregates

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
FromParam = Annotated[
    str | None,
    Query(
        alias="from",
        description="Start (inclusive), ISO 8601; UTC when it has no offset, e.g. 2024-05-01.",
    ),
]
ToParam = Annotated[
    str | None, Query(alias="to", description="End (exclusive), ISO 8601, e.g. 2024-06-01.")
]


def _datastream_id(value: str) -> int:
    if not value.isdigit():
        raise InputError("The datastream id must be a whole number.", parameter="datastream_id")
    return int(value)


@router.get(
    "/datastreams/{datastream_id}/aggregate",
    summary="Hourly or daily count, mean, min and max of a datastream",
    description=(
        "Buckets are UTC hours or days with at least one numeric result, oldest first: "
        '`{"datastream": 1, "interval": "hour", "buckets": [{"start": "2024-05-01T10:00:00Z", '
        '"count": 24, "mean": 17.2, "min": 9.1, "max": 30.4}, ...]}`.'
    ),
)
def aggregate(
    datastream_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    interval: Annotated[str, Query(description="hour or day.")] = "hour",
    start: FromParam = None,
    end: ToParam = None,
) -> dict[str, Any]:
    ident = _datastream_id(datastream_id)
    buckets = aggregates.aggregate(
        session,
        principal,
        ident,
        interval,
        start=aggregates.parse_time_parameter(start, "from"),
        end=aggregates.parse_time_parameter(end, "to"),
    )
    return {
        "datastream": ident,
        "interval": interval,
        "from": start,
        "to": end,
        "buckets": [b.to_dict() for b in buckets],
        "links": {"sta": str(request.base_url).rstrip("/") + f"/sta/v1.1/Datastreams({ident})"},
    }


@router.get(
    "/datastreams/{datastream_id}/exceedances",
    summary="Days whose mean is over a limit (EU PM10: 50 µg/m³, 35 days a year allowed)",
    description=(
        "Daily means (UTC days) and the valid days (at least 18 of 24 hours measured) whose "
        "mean is above `limit`. Only for datastreams measured in µg/m³."
    ),
)
def exceedances(
    datastream_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    start: FromParam = None,
    end: ToParam = None,
    limit: Annotated[
        float, Query(gt=0, description="Daily limit in µg/m³ (default: EU PM10 limit).")
    ] = aggregates.PM10_DAILY_LIMIT,
) -> dict[str, Any]:
    result = aggregates.exceedances(
        session,
        principal,
        _datastream_id(datastream_id),
        start=aggregates.parse_time_parameter(start, "from"),
        end=aggregates.parse_time_parameter(end, "to"),
        limit=limit,
    )
    return result.to_dict()
