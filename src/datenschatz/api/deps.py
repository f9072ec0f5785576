"""Request-scoped dependencies shared by every router: the hub and the principal.

Authentication: ``Authorization: Bearer <token>``, or HTTP Basic with any user name and the
token as password (what SensorThings clients and sensor gateways speak). Other ways of
signing in — the web UI's session cookie — plug in as a :data:`PRINCIPAL_LOADERS` entry.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from datenschatz.access.policy import ANONYMOUS, Principal
from datenschatz.errors import Unauthorized
from datenschatz.governance import releases as _releases  # noqa: F401  (410 reasons)
from datenschatz.governance.tokens import principal_for_token
from datenschatz.hub import Hub

__all__ = [
    "PRINCIPAL_LOADERS",
    "PrincipalLoader",
    "credential_from_authorization",
    "get_hub",
    "get_principal",
    "get_session",
    "principal_for_request",
]

# A loader looks at the cookies of a request without credentials (e.g. the web session cookie)
# and returns the principal it authenticates, or None. It runs in a worker thread with a
# database session, and only for requests that carry a cookie.
PrincipalLoader = Callable[[Request, Session], Principal | None]
PRINCIPAL_LOADERS: list[PrincipalLoader] = []

PRINCIPAL_STATE = "principal"


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def get_session(request: Request) -> Iterator[Session]:
    with get_hub(request).session() as session:
        yield session


def credential_from_authorization(header: str | None) -> str | None:
    """The token in an Authorization header (Bearer, or Basic with the token as password).

    None when there is no header; Unauthorized when it is there but unusable.
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Malformed Basic credentials.") from None
        _user, sep, password = decoded.partition(":")
        if sep and password:
            return password
    raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")


def principal_for_request(hub: Hub, request: Request) -> Principal:
    """Who sent ``request`` (blocking: call it from a worker thread)."""
    credential = credential_from_authorization(request.headers.get("authorization"))
    with hub.session() as session:
        if credential is not None:
            return principal_for_token(session, credential)
        for loader in PRINCIPAL_LOADERS:
            principal = loader(request, session)
            if principal is not None:
                return principal
    return ANONYMOUS


async def get_principal(request: Request) -> Principal:
    """Who is asking; anonymous without credentials. Bad credentials answer 401."""
    known = getattr(request.state, PRINCIPAL_STATE, None)
    if isinstance(known, Principal):
        return known
    if "authorization" not in request.headers and (
        not PRINCIPAL_LOADERS or "cookie" not in request.headers
    ):
        principal = ANONYMOUS  # the common case answers without a thread or a session
    else:
        principal = await run_in_threadpool(principal_for_request, get_hub(request), request)
    setattr(request.state, PRINCIPAL_STATE, principal)
    return principal
