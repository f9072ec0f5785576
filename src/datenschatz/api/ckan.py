"""CKAN Action API (read-only subset) under /api/3/action/{action} and /api/action/{action}.

Parameters come as query parameters (GET), a JSON object or form fields (POST). Every answer
is CKAN's envelope ``{help, success, result}``; errors are ``{help, success: false, error:
{__type, message, ...}}`` with the types and statuses ``ckanapi`` maps to its exceptions:
"Not Found Error" 404, "Validation Error" 409, "Authorization Error" 403, "Search Query
Error" 400. These routes answer in CKAN's envelope instead of the one error shape of the
native API, because CKAN clients read it.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import Principal
from datenschatz.api.ckan_actions import ACTIONS, SEARCH_ACTIONS, WRITE_ACTIONS
from datenschatz.api.ckan_dicts import Call
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.errors import (
    CheckFailed,
    DatenschatzError,
    Forbidden,
    Gone,
    InputError,
    NotFound,
    SqlForbidden,
    Unauthorized,
)
from datenschatz.governance.tokens import principal_for_token

log = logging.getLogger(__name__)

PREFIXES = ("/api/3/action", "/api/action")
router = APIRouter(tags=["ckan"])

_DESCRIPTION = (
    "CKAN Action API, read-only. Actions: "
    + ", ".join(sorted(ACTIONS))
    + ", help_show. Parameters as query parameters (GET), JSON object or form fields (POST). "
    "Answers in CKAN's envelope {help, success, result}; errors carry error.__type "
    "('Not Found Error' 404, 'Validation Error' 409, 'Authorization Error' 403, "
    "'Search Query Error' 400)."
)


# package_search parameters whose mistakes are validation errors, not query errors.
_PAGING = frozenset({"rows", "start", "facet.limit", "limit", "offset", "facet_limit"})


class CkanError(Exception):
    def __init__(self, status: int, type_name: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type_name = type_name
        self.message = message
        self.fields = fields


def _help(request: Request, action: str) -> str:
    return str(request.base_url).rstrip("/") + f"/api/3/action/help_show?name={action}"


def _envelope(request: Request, action: str, result: Any) -> JSONResponse:
    return JSONResponse({"help": _help(request, action), "success": True, "result": result})


def _failure(request: Request, action: str, error: CkanError) -> JSONResponse:
    body = {
        "help": _help(request, action),
        "success": False,
        "error": {"__type": error.type_name, "message": error.message, **error.fields},
    }
    return JSONResponse(body, status_code=error.status)


def translate(action: str, exc: DatenschatzError) -> CkanError:
    """A Datenschatz error as the CKAN error a client expects for it."""
    parameter = exc.details.get("parameter")
    if isinstance(exc, NotFound | Gone):
        return CkanError(404, "Not Found Error", exc.message)
    if isinstance(exc, Unauthorized | Forbidden | SqlForbidden):
        return CkanError(403, "Authorization Error", exc.message)
    if isinstance(exc, InputError) and action in SEARCH_ACTIONS and parameter not in _PAGING:
        return CkanError(400, "Search Query Error", exc.message, parameter=parameter)
    if isinstance(exc, InputError | CheckFailed):
        field = "query" if action == "datastore_search_sql" else parameter or "value"
        return CkanError(409, "Validation Error", exc.message, **{field: [exc.message]})
    if exc.status == 429:
        return CkanError(429, "Rate Limit Error", exc.message)
    log.error("ckan action %s failed: %s", action, exc.code)
    return CkanError(500, "Internal Error", "Internal server error.")


def _bad_body(message: str) -> CkanError:
    return CkanError(409, "Validation Error", message, body=[message])


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in params:  # a repeated parameter is a list, as CKAN reads it
            previous = params[key]
            params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[key] = value
    if request.method != "POST":
        return params
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw.strip():
        return params
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_body("The body is not UTF-8.") from None
    if media == "application/x-www-form-urlencoded" or media == "multipart/form-data":
        if media == "multipart/form-data":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            params.update(parse_qsl(text, keep_blank_values=True))
        return params
    try:
        body = json.loads(text)
    except ValueError:
        raise _bad_body("The body is not a valid JSON object.") from None
    if not isinstance(body, dict):
        raise _bad_body("The body must be a JSON object.")
    params.update(body)
    return params


def _help_show(call: Call) -> str:
    name = call.text("name", required=True)
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound("No such action.", parameter="name")
    return (action.__doc__ or name).strip()


def _ckan_key(request: Request) -> str | None:
    """CKAN's API key: ``X-CKAN-API-Key``, or an ``Authorization`` header without a scheme."""
    key = request.headers.get("x-ckan-api-key", "").strip()
    header = request.headers.get("authorization", "").strip()
    if not key and header and " " not in header:
        key = header
    return key or None


async def _principal(request: Request) -> Principal:
    """Who is asking: a CKAN API key (a Datenschatz token), else as the native API decides."""
    key = _ckan_key(request)
    if key is None:
        return await get_principal(request)
    hub = get_hub(request)

    def lookup() -> Principal:
        with hub.session() as session:
            return principal_for_token(session, key)

    return await run_in_threadpool(lookup)


async def _run(request: Request, action: str) -> JSONResponse:
    try:
        if action in WRITE_ACTIONS:
            raise CkanError(
                403, "Authorization Error", "This CKAN API is read-only; use the native API."
            )
        handler = _help_show if action == "help_show" else ACTIONS.get(action)
        if handler is None:
            raise CkanError(400, "Bad Request", f"Action name not known: {action[:100]}")
        try:
            principal = await _principal(request)
            call = Call(get_hub(request), principal, str(request.base_url), await _params(request))
            result = await run_in_threadpool(handler, call)
        except DatenschatzError as exc:
            raise translate(action, exc) from None
    except CkanError as error:
        return _failure(request, action, error)
    return _envelope(request, action, result)


async def ckan_action(action: str, request: Request) -> JSONResponse:
    return await _run(request, action)


for _prefix in PREFIXES:
    for _method in ("GET", "POST"):
        router.add_api_route(
            _prefix + "/{action}",
            ckan_action,
            methods=[_method],
            summary=f"CKAN action ({_method})"
            + (", without the API version" if _prefix == "/api/action" else ""),
            description=_DESCRIPTION,
            operation_id=f"ckan{_prefix.replace('/', '_')}_{_method.lower()}",
        )
