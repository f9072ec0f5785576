"""Rate limits per API token and per client address, as one ASGI middleware.

A request with credentials counts against its token (keyed by the SHA-256 of the secret,
which is how the token is stored); a request without counts against its client address.
Credentials that turn out invalid (401) count against the address as well, and an address
out of budget is refused even with credentials, so guessing tokens is limited too.

Each key has a bucket of ``N`` requests refilled at ``N`` per minute, kept in this process.
A refused request gets 429 in the one error shape with ``Retry-After``; a browser at a web
page gets the web UI's error page (in its language) with the same status and header.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datenschatz.api.errors import browser_page, error_headers
from datenschatz.config import Settings
from datenschatz.errors import RateLimited, Unauthorized

__all__ = ["Bucket", "RateLimitMiddleware", "RateLimiter", "client_address", "credential_key"]

Clock = Callable[[], float]


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key: ``per_minute`` requests, refilled continuously."""

    PRUNE_AT = 50_000

    def __init__(self, per_minute: int, clock: Clock = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def _bucket(self, key: str, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_AT:
                self._prune(now)
            bucket = self._buckets[key] = Bucket(float(self.per_minute), now)
        else:
            rate = self.per_minute / 60.0
            bucket.tokens = min(
                float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate
            )
            bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if now - b.updated >= 60.0]
        for key in full:
            del self._buckets[key]

    def _wait(self, bucket: Bucket) -> float:
        return (1.0 - bucket.tokens) / (self.per_minute / 60.0)

    def hit(self, key: str) -> float:
        """Take one request from ``key``'s bucket: 0.0 if allowed, else seconds to wait."""
        if not self.enabled:
            return 0.0
        with self._lock:
            bucket = self._bucket(key, self.clock())
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return self._wait(bucket)

    def charge(self, key: str) -> None:
        """Take one request from ``key``'s bucket even if it is empty (a failed sign-in)."""
        if not self.enabled:
            return
        with self._lock:
            bucket = self._bucket(key, self.clock())
            bucket.tokens = max(bucket.tokens - 1.0, -float(self.per_minute))

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may send again, without taking anything (0.0: now)."""
        if not self.enabled:
            return 0.0
        with self._lock:
            bucket = self._bucket(key, self.clock())
            return 0.0 if bucket.tokens >= 1.0 else self._wait(bucket)


def credential_key(headers: Headers) -> str | None:
    """The rate-limit key of the token in the request, or None without credentials."""
    from datenschatz.api.deps import credential_from_authorization

    try:
        credential = credential_from_authorization(headers.get("authorization"))
    except Unauthorized:
        credential = headers.get("authorization", "")
    if credential is None:
        return None
    return "token:" + hashlib.sha256(credential.encode()).hexdigest()


def client_address(scope: Scope, trust_forwarded: bool) -> str:
    """The client address; behind a trusted proxy, the last X-Forwarded-For entry."""
    if trust_forwarded:
        forwarded = Headers(scope=scope).get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """The ASGI middleware; ``app.state.rate_limits`` holds the two limiters (for tests)."""

    def __init__(self, app: ASGIApp, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.app = app
        self.tokens = RateLimiter(settings.rate_limit_token_per_minute, clock)
        self.addresses = RateLimiter(settings.rate_limit_ip_per_minute, clock)
        self.trust_forwarded = settings.rate_limit_trust_forwarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.tokens.enabled or self.addresses.enabled):
            await self.app(scope, receive, send)
            return
        address = "ip:" + client_address(scope, self.trust_forwarded)
        token = credential_key(Headers(scope=scope))
        if token is None:
            wait = self.addresses.hit(address)
        else:
            wait = self.addresses.wait(address) or self.tokens.hit(token)
        if wait > 0:
            await self._refuse(scope, receive, send, wait)
            return
        if token is None:
            await self.app(scope, receive, send)
            return

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.addresses.charge(address)
            await send(message)

        await self.app(scope, receive, send_and_watch)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        error = RateLimited(f"Too many requests; try again in {seconds} s.", retry_after=seconds)
        headers = error_headers(error)
        response: Response | None = browser_page(Request(scope), error, headers)
        if response is None:
            response = JSONResponse(error.to_dict(), status_code=429, headers=headers)
        await response(scope, receive, send)
