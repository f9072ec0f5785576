"""The one translator from exceptions to the one JSON error shape.

``{"error": {"code": str, "message": str, "details": {...}}}`` for every 4xx and 5xx.
Unexpected exceptions are logged with their traceback and answered with a generic 500 that
carries no internal detail.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from datenschatz.errors import DatenschatzError, RateLimited, Unauthorized

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


async def _datenschatz_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DatenschatzError)
    if exc.status >= 500:
        log.error("internal error %s: %s", exc.code, exc.message)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=error_headers(exc))


def error_headers(exc: DatenschatzError) -> dict[str, str]:
    """Headers an error status calls for: Retry-After on 429, WWW-Authenticate on 401."""
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(max(1, math.ceil(float(exc.details.get("retry_after", 1)))))}
    if isinstance(exc, Unauthorized):
        return {"WWW-Authenticate": 'Bearer, Basic realm="datenschatz"'}
    return {}


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
    parameter = ".".join(location) or None
    message = f"Invalid parameter {parameter}: {first.get('msg', 'invalid value')}."
    return JSONResponse(error_body("invalid_input", message, parameter=parameter), status_code=400)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = "Not found."
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "Internal server error."), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DatenschatzError, _datenschatz_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
