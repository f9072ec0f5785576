"""Helpers of the web form tests: signing in, the page's CSRF token, the whole audit log."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.governance import audit
from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub

PASSWORD = "formular-passwort-123"


def person(hub: Hub, name: str, role: str | None = None, **kw: str) -> None:
    """An account ``name`` with ``role`` that signs in with :data:`PASSWORD`."""
    with hub.session() as session:
        create_user(session, name, role=role, password=PASSWORD, actor="test", **kw)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def signed_in(hub: Hub, name: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(create_app(hub), raise_server_exceptions=False)
    form = client.get("/web/login")
    answer = client.post(
        "/web/login",
        data={"name": name, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    return client


def can_sign_in(hub: Hub, name: str, password: str) -> bool:
    client = TestClient(create_app(hub), raise_server_exceptions=False)
    form = client.get("/web/login")
    answer = client.post(
        "/web/login",
        data={"name": name, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    return answer.status_code == 303


def csrf(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.text[:300])
    return csrf_of(page.text)


def audit_text(hub: Hub) -> str:
    """Every audit event, as one JSON text (to look for values that must not be there)."""
    with hub.session() as session:
        _total, found = audit.events(session, limit=100_000)
        return json.dumps([audit.event_dict(e) for e in found], default=str)
