"""Native REST: read-only SQL over the published datasets (/api/v1/sql)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.services.sql import run_sql

router = APIRouter(prefix="/api/v1", tags=["sql"])

HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

_DESCRIPTION = """
One read-only `SELECT` in the DuckDB dialect over the published datasets you may see.

**Tables.** Every dataset is a table named by its slug. Slugs contain hyphens, so quote them:
`SELECT * FROM "luft-bochum"`. The same table is also reachable as `luft_bochum`.
`SHOW TABLES`, `DESCRIBE "luft-bochum"` and `SUMMARIZE "luft-bochum"` work. Geometry comes
back as GeoJSON objects; the spatial functions (`ST_Within`, `ST_Distance`, ...) are available.

**Refused** (400, code `sql_forbidden`): anything but a single SELECT (COPY, EXPORT, ATTACH,
INSTALL, LOAD, SET, RESET, PRAGMA, CREATE, INSERT, ...); reading files or URLs (`read_csv`,
`read_parquet`, `read_text`, `read_blob`, `glob`, `FROM 'file'`); the system catalog and
settings (`duckdb_settings()`, `current_setting()`, `duckdb_views()`, `sqlite_master`,
`information_schema`, `pg_catalog`); table functions other than `range`, `generate_series`,
`unnest`, `json_each` and `json_tree`.

**Limits.** A query runs at most the configured time (default 5 s, code `sql_timeout`) and
memory (code `sql_memory_limit`). At most `_limit` rows (default and maximum 10,000) are
returned; `truncated` is true when the result had more. Any other failure is code `sql_error`.
"""


class SqlColumnOut(BaseModel):
    name: str = Field(description="Column name as DuckDB reports it.")
    type: str = Field(description="DuckDB type, e.g. BIGINT, VARCHAR, GEOMETRY.")


class SqlAnswer(BaseModel):
    columns: list[SqlColumnOut]
    rows: list[list[Any]] = Field(description="The rows, each a list in column order.")
    truncated: bool = Field(description="True when the result had more rows than returned.")
    row_count: int = Field(description="Rows returned.")
    limit: int = Field(description="The row cap that applied.")
    elapsed_ms: float = Field(description="Time the database took, in milliseconds.")


class SqlRequest(BaseModel):
    q: str = Field(description="One SELECT statement.")
    limit: int | None = Field(
        default=None, alias="_limit", description="Most rows to return (default 10,000)."
    )


class ErrorInfo(BaseModel):
    code: str = Field(description="sql_forbidden, sql_error, sql_timeout, sql_memory_limit, ...")
    message: str
    details: dict[str, Any]


class ErrorAnswer(BaseModel):
    error: ErrorInfo


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorAnswer, "description": "Refused, failed, or over a limit."}
}


def _answer(hub: Hub, principal: Principal, q: str, limit: int | None) -> JSONResponse:
    return JSONResponse(run_sql(hub, principal, q, limit=limit).to_dict())


@router.get(
    "/sql",
    summary="Run one read-only SQL query",
    description=_DESCRIPTION,
    response_model=SqlAnswer,
    responses=_RESPONSES,
)
async def sql_get(
    hub: HubDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(description="One SELECT statement (DuckDB dialect).")],
    limit: Annotated[
        int | None, Query(alias="_limit", description="Most rows to return (default 10,000).")
    ] = None,
) -> JSONResponse:
    return await run_in_threadpool(_answer, hub, principal, q, limit)


@router.post(
    "/sql",
    summary="Run one read-only SQL query (query in the body)",
    description=_DESCRIPTION
    + "\nSend `q` (and `_limit`) as a JSON object or as form fields, or the bare query as "
    "`text/plain` or `application/sql`.",
    response_model=SqlAnswer,
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SqlRequest.model_json_schema(by_alias=True)},
                "application/x-www-form-urlencoded": {
                    "schema": SqlRequest.model_json_schema(by_alias=True)
                },
                "text/plain": {"schema": {"type": "string"}},
                "application/sql": {"schema": {"type": "string"}},
            },
        }
    },
)
async def sql_post(request: Request, hub: HubDep, principal: PrincipalDep) -> JSONResponse:
    q, limit = _parse_body(request.headers.get("content-type", ""), await request.body())
    return await run_in_threadpool(_answer, hub, principal, q, limit)


def _parse_body(content_type: str, raw: bytes) -> tuple[str, int | None]:
    """``q`` and ``_limit`` from a JSON, form or plain-text body."""
    media = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("The body is not UTF-8.", parameter="q") from None
    if media in {"text/plain", "application/sql"}:
        return text, None
    fields: dict[str, Any]
    if media == "application/json":
        try:
            fields = json.loads(text)
        except ValueError:
            raise InputError("The body is not valid JSON.", parameter="q") from None
        if not isinstance(fields, dict):
            raise InputError("The body must be a JSON object with q.", parameter="q")
    elif media == "application/x-www-form-urlencoded":
        fields = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    else:
        raise InputError(
            "Send q as JSON, as form fields, or as text/plain or application/sql.",
            parameter="q",
        )
    q = fields.get("q")
    if not isinstance(q, str):
        raise InputError("q is required: one SELECT statement.", parameter="q")
    return q, _parse_limit(fields.get("_limit"))


def _parse_limit(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError("_limit must be a whole number.", parameter="_limit")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InputError("_limit must be a whole number.", parameter="_limit")
