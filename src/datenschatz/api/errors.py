"""The one translator from exceptions to the one JSON error shape.

``{"error": {"code": str, "message": str, "details": {...}}}`` for every 4xx and 5xx.
Unexpected exceptions are logged with their traceback and answered with a generic 500 that
carries no internal detail.

A browser gets the web UI's error page instead, in its language and with the same status
(:func:`browser_page`): at addresses under ``/web``, and where it asks for HTML at an address
that is not the API's. The API's addresses (:data:`API_PREFIXES`) always answer the JSON shape.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from datenschatz.api.deps import get_principal
from datenschatz.errors import DatenschatzError, InputError, NotFound, RateLimited, Unauthorized
from datenschatz.web.rendering import answers_errors, web_error_response

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


# Where the API lives: errors here are JSON whatever the client accepts.
API_PREFIXES = ("/api", "/sta", "/ogc", "/catalog", "/openapi.json", "/docs", "/redoc", "/health")
# Texts of the web error page for HTTP errors that are no DatenschatzError (errors.<key>).
_HTTP_KEYS = {404: "http.not_found", 405: "http.method_not_allowed"}


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _api_address(path: str) -> bool:
    return any(path == p or path.startswith((p + "/", p + ".", p + "?")) for p in API_PREFIXES)


def browser_page(
    request: Request, exc: DatenschatzError, headers: dict[str, str]
) -> Response | None:
    """The web UI's answer to ``exc`` for a browser; None where the JSON shape answers."""
    if _api_address(request.url.path):
        return None
    return web_error_response(request, exc, headers)


async def _page(
    request: Request, exc: DatenschatzError, headers: dict[str, str], *, who: bool = True
) -> Response | None:
    """:func:`browser_page`; ``who``: first find out who is signed in, for the navigation."""
    if _api_address(request.url.path) or not answers_errors(request):
        return None
    if who:
        with contextlib.suppress(DatenschatzError):
            await get_principal(request)
    return web_error_response(request, exc, headers)


async def _datenschatz_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DatenschatzError)
    if exc.status >= 500:
        log.error("internal error %s: %s", exc.code, exc.message)
    headers = error_headers(exc)
    page = await _page(request, exc, headers, who=exc.status < 500)
    if page is not None:
        return page
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


def error_headers(exc: DatenschatzError) -> dict[str, str]:
    """Headers an error status calls for: Retry-After on 429, WWW-Authenticate on 401."""
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(max(1, math.ceil(float(exc.details.get("retry_after", 1)))))}
    if isinstance(exc, Unauthorized):
        return {"WWW-Authenticate": 'Bearer, Basic realm="datenschatz"'}
    return {}


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
    parameter = ".".join(location) or None
    message = f"Invalid parameter {parameter}: {first.get('msg', 'invalid value')}."
    if parameter:
        error = InputError(message, key="http.invalid_parameter", parameter=parameter)
    else:
        error = InputError(message, key="http.invalid_request")
    page = await _page(request, error, {})
    if page is not None:
        return page
    return JSONResponse(error_body("invalid_input", message, parameter=parameter), status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = "Not found."
    headers = dict(exc.headers or {})
    error = NotFound(message) if exc.status_code == 404 else DatenschatzError(message)
    error.status, error.code, error.key = exc.status_code, code, _HTTP_KEYS.get(exc.status_code)
    page = await _page(request, error, headers)
    if page is not None:
        return page
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    error = DatenschatzError("Internal server error.")
    page = await _page(request, error, {}, who=False)
    if page is not None:
        return page
    return JSONResponse(error.to_dict(), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DatenschatzError, _datenschatz_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
