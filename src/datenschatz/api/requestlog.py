"""Request logs without personal data: one line per request on ``datenschatz.requests``.

Logged: method, route template (``/api/v1/datasets/{slug}/rows``, never the path with its
values, never the query string), status, duration and the principal's user id. The client
address is logged only as a keyed hash prefix, enough to tell clients apart in one log,
not to recover the address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datenschatz.access.policy import Principal

log = logging.getLogger("datenschatz.requests")

__all__ = ["RequestLogMiddleware", "client_tag", "route_template"]


def route_template(scope: Scope) -> str:
    """The matched route's template, or ``(unmatched)``: never the concrete path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return str(scope.get("root_path", "")) + template
    return "(unmatched)"


def client_tag(key: bytes, address: str) -> str:
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:12]


def _principal_id(scope: Scope) -> str:
    state: Any = scope.get("state") or {}
    principal = state.get("principal") if isinstance(state, dict) else None
    if isinstance(principal, Principal) and principal.user_id is not None:
        return f"user:{principal.user_id}"
    return "anonymous"


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info(
                    "%s %s %d %.1fms %s client=%s",
                    scope.get("method", "-"),
                    route_template(scope),
                    status,
                    (time.perf_counter() - started) * 1000,
                    _principal_id(scope),
                    client_tag(self.key, str(client[0])) if client else "-",
                    extra={
                        "http_method": scope.get("method"),
                        "route": route_template(scope),
                        "status": status,
                    },
                )
