"""Native REST: the city's measures and the evaluation of their effects (/api/v1/measures)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import Principal
from datenschatz.analysis import measures
from datenschatz.api.deps import get_hub, get_principal, get_session
from datenschatz.hub import Hub

router = APIRouter(prefix="/api/v1", tags=["measures"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
HubDep = Annotated[Hub, Depends(get_hub)]


@router.get("/measures", summary="The recorded measures")
def list_measures(session: SessionDep) -> list[dict[str, Any]]:
    return measures.list_measures(session)


@router.post("/measures", status_code=201, summary="Record a measure (stewards, admins)")
def create_measure(
    session: SessionDep,
    principal: PrincipalDep,
    spec: Annotated[dict[str, Any], Body(description="The measure, as in measure.yaml.")],
    replace: bool = False,
) -> dict[str, Any]:
    parsed = measures.parse_spec(spec, source="body")
    return measures.measure_dict(
        measures.create_measure(session, principal, parsed, replace=replace)
    )


@router.get("/measures/{name}", summary="One measure, with its stored evaluations")
def show_measure(session: SessionDep, name: str) -> dict[str, Any]:
    data = measures.measure_dict(measures.get_measure(session, name))
    data["evaluations"] = measures.evaluations(session, name)
    return data


@router.post("/measures/{name}/evaluate", summary="Evaluate the measure's effect now")
async def evaluate_measure(hub: HubDep, principal: PrincipalDep, name: str) -> dict[str, Any]:
    return await run_in_threadpool(measures.evaluate_measure, hub, principal, name)
