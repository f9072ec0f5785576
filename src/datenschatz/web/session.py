"""Web sign-in: a signed, expiring session cookie and CSRF tokens.

The cookie holds the user id, an expiry and the session's CSRF token, signed with HMAC-SHA256
under a key derived from the hub's secret key; it is HttpOnly, SameSite=Lax and Secure over
HTTPS. :func:`load_principal` is the ``PRINCIPAL_LOADERS`` entry of ``api/deps.py``: it
authenticates the cookie for reading anywhere, but for changes only on the web pages, whose
handlers check the CSRF token (:func:`check_csrf`) — a cookie alone never changes anything
through the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from datenschatz.access.policy import Principal
from datenschatz.errors import Forbidden, Unauthorized
from datenschatz.governance.accounts import principal_for_user
from datenschatz.hub import Hub
from datenschatz.web.rendering import PREFIX

COOKIE = "ds_session"
LOGIN_CSRF_COOKIE = "ds_csrf"
LIFETIME_SECONDS = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WebSession:
    user_id: int
    expires: int
    csrf: str


def _key(hub: Hub) -> bytes:
    return hashlib.sha256(
        b"datenschatz web session\0" + hub.settings.signing_key().encode()
    ).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(hub: Hub, user_id: int, *, now: float | None = None) -> tuple[str, WebSession]:
    """A new session for ``user_id``: (cookie value, session)."""
    moment = int(now if now is not None else time.time())
    web = WebSession(user_id, moment + LIFETIME_SECONDS, secrets.token_urlsafe(24))
    payload = _b64(json.dumps({"u": web.user_id, "e": web.expires, "c": web.csrf}).encode())
    signature = _b64(hmac.new(_key(hub), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}", web


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (a forged value is not a 500)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def read(hub: Hub, value: str, *, now: float | None = None) -> WebSession | None:
    """The session in a cookie value, or None when it is forged, malformed or expired."""
    payload, _, signature = value.partition(".")
    expected = _b64(hmac.new(_key(hub), payload.encode(), hashlib.sha256).digest())
    if not signature or not _same(signature, expected):
        return None
    try:
        data = json.loads(_unb64(payload))
        web = WebSession(int(data["u"]), int(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None
    if web.expires <= (now if now is not None else time.time()):
        return None
    return web


def current(request: Request) -> WebSession | None:
    value = request.cookies.get(COOKIE)
    return read(request.app.state.hub, value) if value else None


def load_principal(request: Request, session: Session) -> Principal | None:
    """The signed-in user of a request's session cookie (see the module docstring)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    if request.method not in SAFE_METHODS and not request.url.path.startswith(PREFIX + "/"):
        return None
    web = read(request.app.state.hub, value)
    if web is None:
        return None
    try:
        return principal_for_user(session, web.user_id)
    except Unauthorized:
        return None  # deactivated since sign-in: anonymous from now on


def check_csrf(request: Request, submitted: str | None) -> None:
    """Forbidden unless ``submitted`` is the CSRF token of the request's session."""
    web = current(request)
    if web is None:
        raise Unauthorized("Sign in first.", key="auth.sign_in_first")
    if not submitted or not _same(submitted, web.csrf):
        raise Forbidden(
            "The form is out of date; reload the page and try again.", key="auth.form_expired"
        )


def login_csrf(request: Request) -> str:
    """The double-submit token of the sign-in form (set as a cookie by :func:`set_login_csrf`)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
    )


def check_login_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not submitted or not _same(cookie, submitted):
        raise Forbidden(
            "The form is out of date; reload the page and try again.", key="auth.form_expired"
        )


def sign_in(request: Request, response: Response, hub: Hub, user_id: int) -> None:
    value, _web = issue(hub, user_id)
    response.set_cookie(
        COOKIE,
        value,
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
