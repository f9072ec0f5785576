"""API tokens: shown once, stored hashed, scoped, expiring; Bearer and Basic on the API."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from datenschatz.api.app import create_app
from datenschatz.cli import app as cli_app
from datenschatz.db.governance_models import ApiToken
from datenschatz.db.models import utcnow
from datenschatz.errors import InputError, Unauthorized
from datenschatz.governance import accounts, audit, tokens
from datenschatz.hub import Hub


def _user(hub: Hub, name: str, role: str = "partner") -> int:
    with hub.session() as session:
        return accounts.create_user(session, name, role=role, actor="t").id


def _issue(hub: Hub, name: str, **kwargs: object) -> tokens.IssuedToken:
    with hub.session() as session:
        return tokens.create_token(session, accounts.get_user(session, name), actor="t", **kwargs)  # type: ignore[arg-type]


def test_only_the_hash_of_the_secret_is_stored(hub: Hub) -> None:
    _user(hub, "paula")
    issued = _issue(hub, "paula", scopes=["read", "write"], label="laptop")
    assert re.fullmatch(r"dsz_[A-Za-z0-9_-]{43}", issued.secret)
    with hub.session() as session:
        row = session.scalar(select(ApiToken))
        assert row is not None
        assert row.secret_sha256 == hashlib.sha256(issued.secret.encode()).hexdigest()
        assert issued.secret not in (row.prefix, row.label, str(row.scopes))
        assert issued.secret.startswith(row.prefix)
        assert sorted(row.scopes) == ["read", "write"]
        listed = tokens.list_tokens(session)
    assert issued.secret not in str([t.to_dict() for t in listed])


def test_principal_for_token_and_last_use(hub: Hub) -> None:
    user_id = _user(hub, "paula")
    issued = _issue(hub, "paula", scopes=["read"])
    with hub.session() as session:
        principal = tokens.principal_for_token(session, issued.secret)
    assert (principal.user_id, principal.token_id) == (user_id, issued.info.id)
    assert principal.scopes == {"read"}
    with hub.session() as session:
        used = session.get(ApiToken, issued.info.id)
        assert used is not None
        assert used.last_used_at is not None


def test_expired_revoked_and_unknown_tokens_are_refused_alike(hub: Hub) -> None:
    _user(hub, "paula")
    expiring = _issue(hub, "paula", expires_days=1)
    revoked = _issue(hub, "paula")
    with hub.session() as session:
        tokens.revoke_token(session, revoked.info.id, actor="t", reason="laptop lost")
    messages = set()
    with hub.session() as session:
        later = utcnow() + timedelta(days=1, seconds=1)
        for secret, now in [
            (expiring.secret, later),
            (revoked.secret, None),
            ("dsz_" + "x" * 43, None),
            ("kein-token", None),
        ]:
            with pytest.raises(Unauthorized) as refused:
                tokens.principal_for_token(session, secret, now=now)
            messages.add(refused.value.message)
        assert tokens.principal_for_token(session, expiring.secret).user_id is not None
    assert len(messages) == 1


def test_scopes_are_checked(hub: Hub) -> None:
    _user(hub, "paula")
    _user(hub, "root", role="admin")
    with pytest.raises(InputError) as unknown:
        _issue(hub, "paula", scopes=["read", "alles"])
    assert unknown.value.details["parameter"] == "scope"
    with pytest.raises(InputError):
        _issue(hub, "paula", scopes=["admin"])  # not an admin
    with pytest.raises(InputError):
        _issue(hub, "paula", expires_days=0)
    assert set(_issue(hub, "root", scopes=["admin"]).info.scopes) == {"admin"}
    granted = _issue(hub, "paula", scopes=["grant:3"])
    assert set(granted.info.scopes) == {"grant:3", "read"}


def test_token_creation_and_revocation_are_audited(hub: Hub) -> None:
    _user(hub, "paula")
    issued = _issue(hub, "paula")
    with hub.session() as session:
        tokens.revoke_token(session, issued.info.id, actor="root", reason="left the team")
        _total, events = audit.events(session, audit.AuditFilter(object_type="token"))
    assert [e.action for e in events] == ["token.revoke", "token.create"]
    assert events[0].reason == "left the team"
    assert all(issued.secret not in str(e.details) for e in events)


def _basic(secret: str, user: str = "gateway") -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_api_accepts_bearer_and_basic_with_the_token_as_password(hub: Hub) -> None:
    user_id = _user(hub, "paula")
    issued = _issue(hub, "paula")
    client = TestClient(create_app(hub))
    assert client.get("/api/v1/me").json()["user_id"] is None
    bearer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.secret}"})
    assert bearer.json()["user_id"] == user_id
    basic = client.get("/api/v1/me", headers={"Authorization": _basic(issued.secret)})
    assert basic.json()["user_id"] == user_id
    assert basic.json()["scopes"] == ["read"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer dsz_falsch",
        "Bearer ",
        "Basic !!!",
        "Basic " + base64.b64encode(b"nur-ein-name").decode(),
        "Digest abc",
    ],
)
def test_bad_credentials_answer_401_in_the_error_shape(sqlite_hub: Hub, header: str) -> None:
    client = TestClient(create_app(sqlite_hub))
    response = client.get("/api/v1/datasets", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_admin_api_users_tokens_and_audit(hub: Hub) -> None:
    _user(hub, "root", role="admin")
    admin = {"Authorization": f"Bearer {_issue(hub, 'root', scopes=['read', 'admin']).secret}"}
    reader = {"Authorization": f"Bearer {_issue(hub, 'root', scopes=['read']).secret}"}
    client = TestClient(create_app(hub))
    assert client.get("/api/v1/admin/users").status_code == 401
    assert client.get("/api/v1/admin/users", headers=reader).status_code == 403
    created = client.post(
        "/api/v1/admin/users", json={"name": "paula", "role": "partner"}, headers=admin
    )
    assert created.status_code == 201, created.text
    token = client.post(
        "/api/v1/admin/tokens",
        json={"user": "paula", "scopes": ["read"], "expires_days": 30},
        headers=admin,
    )
    assert token.status_code == 201, token.text
    secret = token.json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert (me["name"], me["roles"]) == ("paula", ["partner"])
    # A partner is no admin, whatever the token says.
    assert (
        client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 403
    )
    listed = client.get("/api/v1/admin/tokens", params={"user": "paula"}, headers=admin).json()
    assert [t["id"] for t in listed["tokens"]] == [token.json()["id"]]
    assert secret not in str(listed)
    revoked = client.delete(f"/api/v1/admin/tokens/{token.json()['id']}", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )
    events = client.get(
        "/api/v1/admin/audit", params={"object_type": "token"}, headers=admin
    ).json()
    assert [e["action"] for e in events["events"]][:2] == ["token.revoke", "token.create"]
    csv_text = client.get("/api/v1/admin/audit.csv", params={"action": "token.*"}, headers=admin)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.count("token.create") == 3
    verified = client.get("/api/v1/admin/audit/verify", headers=admin).json()
    assert verified["ok"] is True
    assert verified["checked"] >= 6


def test_cli_token_create_prints_the_token_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATENSCHATZ_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli_app, ["user", "add", "gw", "--role", "partner"]).exit_code == 0
    created = runner.invoke(
        cli_app,
        [
            "token",
            "create",
            "gw",
            "--scope",
            "read",
            "--scope",
            "sensors:write",
            "--expires-days",
            "90",
        ],
    )
    assert created.exit_code == 0, created.output
    assert re.fullmatch(r"dsz_[A-Za-z0-9_-]{43}\n", created.stdout)
    hub = Hub.from_env()
    with hub.session() as session:
        principal = tokens.principal_for_token(session, created.stdout.strip())
        assert principal.scopes == {"read", "sensors:write"}
        token_id = principal.token_id
    listed = runner.invoke(cli_app, ["token", "list", "--json"])
    assert created.stdout.strip() not in listed.output
    assert runner.invoke(cli_app, ["token", "revoke", str(token_id)]).exit_code == 0
    with hub.session() as session, pytest.raises(Unauthorized):
        tokens.principal_for_token(session, created.stdout.strip())
    assert runner.invoke(cli_app, ["token", "create", "niemand"]).exit_code == 1


def test_recording_a_tokens_use_does_not_drop_the_read_caches(hub: Hub) -> None:
    from datenschatz import events

    _user(hub, "paula")
    issued = _issue(hub, "paula")
    before = events.generation()
    with hub.session() as session:
        tokens.principal_for_token(session, issued.secret)
    assert events.generation() == before
    with hub.session() as session:
        used = session.get(ApiToken, issued.info.id)
        assert used is not None
        assert used.last_used_at is not None
