"""Native REST: recipes of derived datasets and lineage (/api/v1/datasets/{slug}/...)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import Principal
from datenschatz.analysis import lineage as lineage_service
from datenschatz.analysis import recipes
from datenschatz.api.deps import get_hub, get_principal, get_session
from datenschatz.errors import InputError
from datenschatz.hub import Hub

router = APIRouter(prefix="/api/v1", tags=["recipes"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
HubDep = Annotated[Hub, Depends(get_hub)]


@router.get("/datasets/{slug}/lineage", summary="What feeds this dataset, and what uses it")
def get_lineage(session: SessionDep, principal: PrincipalDep, slug: str) -> dict[str, Any]:
    return lineage_service.lineage(session, principal, slug)


@router.get("/datasets/{slug}/recipe", summary="The recipe of a derived dataset (editors)")
def get_recipe(session: SessionDep, principal: PrincipalDep, slug: str) -> dict[str, Any]:
    return recipes.show_recipe(session, principal, slug)


@router.put(
    "/datasets/{slug}/recipe",
    summary="Save the recipe of a derived dataset (the body is the recipe YAML)",
    openapi_extra={
        "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}}
    },
)
async def put_recipe(
    request: Request, hub: HubDep, principal: PrincipalDep, slug: str
) -> dict[str, Any]:
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("The recipe must be UTF-8 text.", parameter="body") from None
    return await run_in_threadpool(
        lambda: recipes.create_recipe(hub, principal, text, source="body", output=slug)
    )


@router.post("/datasets/{slug}/recipe/run", summary="Run the recipe: a new version")
async def run_recipe(hub: HubDep, principal: PrincipalDep, slug: str) -> dict[str, Any]:
    info = await run_in_threadpool(recipes.run_recipe, hub, principal, slug)
    return info.to_dict()
