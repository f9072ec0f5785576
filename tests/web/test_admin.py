"""The admin page: users and roles, tokens, the audit log with filters and verification."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.governance.accounts import create_user, get_user
from datenschatz.governance.tokens import create_token
from datenschatz.hub import Hub

PASSWORD = "admin-passwort-1234"


@pytest.fixture(scope="module")
def admin_hub(sqlite_web_hub: Hub) -> Hub:
    with sqlite_web_hub.session() as session:
        create_user(session, "chefin", role="admin", password=PASSWORD, actor="test")
        create_user(
            session, "steffi", role="steward", org="stadt-herne", password=PASSWORD, actor="test"
        )
        create_token(session, get_user(session, "steffi"), label="skript", actor="test")
    return sqlite_web_hub


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _client(hub: Hub, name: str) -> TestClient:
    client = TestClient(create_app(hub), raise_server_exceptions=False)
    form = client.get("/web/login")
    response = client.post(
        "/web/login",
        data={"name": name, "password": PASSWORD, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def test_only_admins_open_the_admin_page(admin_hub: Hub) -> None:
    assert _client(admin_hub, "steffi").get("/web/admin").status_code == 403
    anonymous = TestClient(create_app(admin_hub))
    assert anonymous.get("/web/admin", follow_redirects=False).status_code == 303


def test_admin_sees_users_tokens_and_a_verified_audit_log(admin_hub: Hub) -> None:
    client = _client(admin_hub, "chefin")
    html = client.get("/web/admin").text
    assert 'data-user="steffi"' in html
    assert "skript" in html
    assert 'id="audit-verification" class="ok" data-ok="true"' in html
    assert html.count('<tr class="event">') > 0
    filtered = client.get("/web/admin?action=token.*").text
    actions = re.findall(r'<tr class="event">.*?<code>([^<]+)</code>', filtered, re.S)
    assert actions
    assert all(a.startswith("token.") for a in actions)
    assert client.get("/web/admin?since=gestern").status_code == 400


def test_admin_gives_a_role_and_revokes_a_token(admin_hub: Hub) -> None:
    client = _client(admin_hub, "chefin")
    html = client.get("/web/admin").text
    token = _csrf(html)
    given = client.post(
        "/web/admin/roles",
        data={"csrf": token, "user": "steffi", "role": "reviewer", "reviewer_kind": "data_owner"},
        follow_redirects=False,
    )
    assert given.status_code == 303
    html = client.get("/web/admin").text
    row = re.search(r'<tr data-user="steffi">.*?</tr>', html, re.S)
    assert row is not None
    assert "reviewer · data_owner" in row.group(0)
    token_id = re.search(r'action="/web/admin/tokens/(\d+)/revoke"', html)
    assert token_id is not None
    revoked = client.post(
        f"/web/admin/tokens/{token_id.group(1)}/revoke",
        data={"csrf": token, "reason": "verloren"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert f"/web/admin/tokens/{token_id.group(1)}/revoke" not in client.get("/web/admin").text
    no_csrf = client.post(
        "/web/admin/roles", data={"user": "steffi", "role": "admin"}, follow_redirects=False
    )
    assert no_csrf.status_code == 403
