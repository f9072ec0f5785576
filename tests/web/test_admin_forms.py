"""The admin's forms: users (create, deactivate, reactivate, take a role away), API tokens shown
once, and drafting and publishing a challenge — each checked in the database through the
services, refused without the admin role or the CSRF token, escaping hostile input, and never
writing a password or a token secret to the audit log or the server log."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from datenschatz.access.policy import Principal, Role
from datenschatz.api.app import create_app
from datenschatz.errors import NotFound
from datenschatz.governance import accounts, challenges, tokens
from datenschatz.hub import Hub
from tests.web.form_helpers import (
    PASSWORD,
    audit_text,
    can_sign_in,
    csrf,
    person,
    signed_in,
)

ADMIN = Principal(name="test", roles=frozenset({Role.ADMIN}))
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def hub(web_hub: Hub) -> Hub:
    person(web_hub, "chefin", "admin")
    person(web_hub, "steffi", "steward", org="stadt-herne")
    person(web_hub, "paula", "partner")
    return web_hub


@pytest.fixture(scope="module")
def admin(hub: Hub) -> TestClient:
    return signed_in(hub, "chefin")


@pytest.fixture(scope="module")
def steward(hub: Hub) -> TestClient:
    return signed_in(hub, "steffi")


def _user(hub: Hub, name: str) -> accounts.UserInfo:
    with hub.session() as session:
        return accounts.user_info(session, name)


def _exists(hub: Hub, name: str) -> bool:
    try:
        _user(hub, name)
    except NotFound:
        return False
    return True


def _token_count(hub: Hub) -> int:
    with hub.session() as session:
        return len(tokens.list_tokens(session))


# --- users ------------------------------------------------------------------------------------


def test_admin_creates_a_user_with_a_typed_password_who_then_signs_in(
    hub: Hub, admin: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "ein-neues-passwort-4711"
    answer = admin.post(
        "/web/admin/users",
        data={
            "csrf": csrf(admin, "/web/admin"),
            "name": "neu.partnerin",
            "role": "partner",
            "password": secret,
            "password2": secret,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/web/admin?done=user#users"
    info = _user(hub, "neu.partnerin")
    assert info.active
    assert [m.role for m in info.memberships] == [Role.PARTNER]
    assert can_sign_in(hub, "neu.partnerin", secret)
    assert "Der Benutzer ist angelegt." in admin.get(answer.headers["location"]).text
    assert secret not in audit_text(hub)
    assert secret not in caplog.text


def test_a_generated_password_is_shown_once_and_never_again(
    hub: Hub, admin: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = admin.post(
        "/web/admin/users",
        data={"csrf": csrf(admin, "/web/admin"), "name": "gerd", "password": "", "password2": ""},
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    found = re.search(r'<code id="generated-password">([^<]+)</code>', answer.text)
    assert found is not None
    password = found.group(1)
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    assert answer.text.count(password) == 1
    assert can_sign_in(hub, "gerd", password)
    assert password not in admin.get("/web/admin").text
    assert password not in audit_text(hub)
    assert password not in caplog.text


def test_a_failed_user_form_keeps_the_values_but_not_the_password(
    hub: Hub, admin: TestClient
) -> None:
    token = csrf(admin, "/web/admin")
    differ = admin.post(
        "/web/admin/users",
        data={
            "csrf": token,
            "name": "hanna",
            "role": "partner",
            "password": "erstes-passwort-123",
            "password2": "zweites-passwort-123",
        },
    )
    assert differ.status_code == 400
    assert 'id="error-create-user"' in differ.text
    assert "Die beiden Passwörter stimmen nicht überein." in differ.text
    assert 'id="nu-name" name="name" required aria-describedby="nu-name-hint" value="hanna"' in (
        differ.text
    )
    assert "<option selected>partner</option>" in differ.text
    assert "erstes-passwort-123" not in differ.text
    assert not _exists(hub, "hanna")
    twice = admin.post(
        "/web/admin/users",
        data={"csrf": token, "name": "paula", "password": "", "password2": ""},
    )
    assert twice.status_code == 409
    assert 'id="error-create-user"' in twice.text
    steward_without_org = admin.post(
        "/web/admin/users",
        data={"csrf": token, "name": "susi", "role": "steward", "password": "", "password2": ""},
    )
    assert steward_without_org.status_code == 400
    assert not _exists(hub, "susi")  # the role failed, so the account was not created either


def test_hostile_input_comes_back_escaped(admin: TestClient) -> None:
    answer = admin.post(
        "/web/admin/users",
        data={"csrf": csrf(admin, "/web/admin"), "name": HOSTILE, "password": "", "password2": ""},
    )
    assert answer.status_code == 400
    assert HOSTILE not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


def test_admin_deactivates_and_reactivates_an_account(hub: Hub, admin: TestClient) -> None:
    person(hub, "dora", "partner")
    dora = signed_in(hub, "dora")
    assert dora.get("/web/partner").status_code == 200
    token = csrf(admin, "/web/admin")
    off = admin.post(
        "/web/admin/users/dora/active",
        data={"csrf": token, "active": "false", "reason": "Projekt beendet"},
        follow_redirects=False,
    )
    assert off.headers["location"] == "/web/admin?done=deactivate#users"
    assert not _user(hub, "dora").active
    assert not can_sign_in(hub, "dora", PASSWORD)
    assert dora.get("/web/partner", follow_redirects=False).status_code == 303  # signed out
    assert "Projekt beendet" in admin.get("/web/admin?object_type=user").text
    on = admin.post(
        "/web/admin/users/dora/active",
        data={"csrf": token, "active": "true", "reason": ""},
        follow_redirects=False,
    )
    assert on.headers["location"] == "/web/admin?done=activate#users"
    assert _user(hub, "dora").active
    assert can_sign_in(hub, "dora", PASSWORD)
    unknown = admin.post("/web/admin/users/niemand/active", data={"csrf": token, "active": "false"})
    assert unknown.status_code == 404


def test_admin_takes_a_role_away(hub: Hub, admin: TestClient) -> None:
    person(hub, "ben", "steward", org="stadt-herne")
    with hub.session() as session:
        accounts.add_role(session, accounts.get_user(session, "ben"), "partner", actor="test")
    token = csrf(admin, "/web/admin")
    answer = admin.post(
        "/web/admin/users/ben/roles/remove",
        data={"csrf": token, "role": "steward", "org": "stadt-herne", "reason": "gewechselt"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/web/admin?done=role_removed#users"
    assert [m.role for m in _user(hub, "ben").memberships] == [Role.PARTNER]
    wrong = admin.post(
        "/web/admin/users/ben/roles/remove",
        data={"csrf": token, "role": "kaiser", "reason": "<b>nein</b>"},
    )
    assert wrong.status_code == 400
    assert 'id="error-remove-role-ben"' in wrong.text
    assert "&lt;b&gt;nein&lt;/b&gt;" in wrong.text  # the reason is kept, escaped
    assert "<details open>" in wrong.text


# --- tokens -----------------------------------------------------------------------------------


def test_admin_issues_a_token_whose_secret_is_shown_once_and_works_as_bearer(
    hub: Hub, admin: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = admin.post(
        "/web/admin/tokens",
        data={
            "csrf": csrf(admin, "/web/admin"),
            "user": "paula",
            "label": "Auswertung",
            "scope": ["read", "write"],
            "expires_days": "30",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    found = re.search(r'<code id="token-secret">([^<]+)</code>', answer.text)
    assert found is not None
    secret = found.group(1)
    assert secret.startswith(tokens.TOKEN_PREFIX)
    assert answer.text.count(secret) == 1
    me = TestClient(create_app(hub)).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert me.status_code == 200
    assert me.json()["name"] == "paula"
    assert me.json()["scopes"] == ["read", "write"]
    with hub.session() as session:
        issued = [t for t in tokens.list_tokens(session, "paula") if t.label == "Auswertung"]
    assert len(issued) == 1
    assert issued[0].expires_at is not None
    page = admin.get("/web/admin").text
    assert secret not in page
    assert f"<code>{issued[0].prefix}…</code> Auswertung" in page
    assert secret not in audit_text(hub)
    assert secret not in caplog.text


def test_a_failed_token_form_keeps_the_values(hub: Hub, admin: TestClient) -> None:
    before = _token_count(hub)
    token = csrf(admin, "/web/admin")
    no_scope = admin.post(
        "/web/admin/tokens",
        data={"csrf": token, "user": "paula", "label": "ohne Bereich", "expires_days": "7"},
    )
    assert no_scope.status_code == 400
    assert 'id="error-create-token"' in no_scope.text
    assert 'value="ohne Bereich"' in no_scope.text
    assert 'value="7"' in no_scope.text
    admin_scope = admin.post(
        "/web/admin/tokens",
        data={"csrf": token, "user": "paula", "scope": "admin", "expires_days": ""},
    )
    assert admin_scope.status_code == 400  # only admins hold the admin scope
    assert 'value="admin" checked' in admin_scope.text
    days = admin.post(
        "/web/admin/tokens",
        data={"csrf": token, "user": "paula", "scope": "read", "expires_days": "bald"},
    )
    assert days.status_code == 400
    assert _token_count(hub) == before


# --- challenges -------------------------------------------------------------------------------


CHALLENGE = {
    "slug": "waerme-2027",
    "title": "Wärmewende",
    "question": "Wo lohnen sich Wärmenetze?",
    "background": "Die Stadt plant die kommunale Wärmeplanung.",
    "terms": "Nur für die Challenge nutzen; keine Weitergabe.",
    "datasets": ["luftmessung", "orte"],
    "criterion-0-name": "Nutzen",
    "criterion-0-weight": "2",
    "criterion-0-description": "für die Stadt",
    "criterion-1-name": "Machbarkeit",
    "criterion-1-weight": "1",
    "criterion-1-description": "",
    "applications_close_at": "2030-01-31T12:00",
    "access_ends_at": "2030-06-30T12:00",
    "demo_day_at": "2030-07-15T18:00",
}


def test_admin_drafts_and_publishes_a_challenge(hub: Hub, admin: TestClient) -> None:
    form = admin.get("/web/admin/challenges/new")
    assert form.status_code == 200
    assert '<option value="luftmessung">' in form.text
    assert 'value="intern"' not in form.text  # internal data is never offered
    created = admin.post(
        "/web/admin/challenges",
        data={"csrf": csrf(admin, "/web/admin/challenges/new"), **CHALLENGE},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/web/challenges/waerme-2027/manage?done=created"
    with hub.session() as session:
        drafted = challenges.get_challenge(session, ADMIN, "waerme-2027")
    assert drafted.status == "draft"
    assert drafted.title == "Wärmewende"
    assert [d["slug"] for d in drafted.datasets] == ["luftmessung", "orte"]
    assert [(c["name"], c["weight"]) for c in drafted.criteria] == [
        ("Nutzen", 2.0),
        ("Machbarkeit", 1.0),
    ]
    assert drafted.applications_close_at == datetime(2030, 1, 31, 12, tzinfo=UTC)
    assert drafted.demo_day_at == datetime(2030, 7, 15, 18, tzinfo=UTC)
    anonymous = TestClient(create_app(hub), raise_server_exceptions=False)
    assert anonymous.get("/web/challenges/waerme-2027").status_code == 404
    manage = admin.get(created.headers["location"])
    assert "Die Challenge ist als Entwurf angelegt." in manage.text
    published = admin.post(
        "/web/challenges/waerme-2027/manage/publish",
        data={"csrf": csrf(admin, "/web/challenges/waerme-2027/manage")},
        follow_redirects=False,
    )
    assert published.headers["location"] == "/web/challenges/waerme-2027/manage?done=published"
    with hub.session() as session:
        assert challenges.get_challenge(session, ADMIN, "waerme-2027").status == "published"
    assert anonymous.get("/web/challenges/waerme-2027").status_code == 200
    again = admin.post(
        "/web/challenges/waerme-2027/manage/publish", data={"csrf": csrf(admin, "/web/admin")}
    )
    assert again.status_code == 409


def test_a_failed_challenge_form_keeps_every_value(hub: Hub, admin: TestClient) -> None:
    token = csrf(admin, "/web/admin/challenges/new")
    late = admin.post(
        "/web/admin/challenges",
        data={
            "csrf": token,
            **CHALLENGE,
            "slug": "zu-spaet",
            "title": HOSTILE,
            "access_ends_at": "2029-01-01T00:00",
        },
    )
    assert late.status_code == 400
    assert 'id="error-challenge"' in late.text
    assert HOSTILE not in late.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in late.text
    assert "Wo lohnen sich Wärmenetze?</textarea>" in late.text
    assert 'value="Machbarkeit"' in late.text
    assert '<option value="orte" selected>' in late.text
    assert 'value="2029-01-01T00:00"' in late.text
    no_criteria = admin.post(
        "/web/admin/challenges",
        data={
            "csrf": token,
            **{k: v for k, v in CHALLENGE.items() if not k.startswith("criterion")},
            "slug": "ohne-kriterien",
        },
    )
    assert no_criteria.status_code == 400
    unknown = admin.post(
        "/web/admin/challenges",
        data={"csrf": token, **CHALLENGE, "slug": "unbekannt", "datasets": "gibt-es-nicht"},
    )
    assert unknown.status_code == 404
    bad_time = admin.post(
        "/web/admin/challenges",
        data={"csrf": token, **CHALLENGE, "slug": "zeit", "applications_close_at": "morgen"},
    )
    assert bad_time.status_code == 400
    with hub.session() as session:
        slugs = {c.slug for c in challenges.list_challenges(session, ADMIN)}
    assert not slugs & {"zu-spaet", "ohne-kriterien", "unbekannt", "zeit"}


# --- who may ----------------------------------------------------------------------------------


def test_a_non_admin_gets_403_and_nothing_changes(hub: Hub, steward: TestClient) -> None:
    token = csrf(steward, "/web/account")
    tokens_before = _token_count(hub)
    audit_before = audit_text(hub)
    posts = {
        "/web/admin/users": {"name": "eindringling", "password": "", "password2": ""},
        "/web/admin/users/paula/active": {"active": "false"},
        "/web/admin/users/paula/roles/remove": {"role": "partner"},
        "/web/admin/tokens": {"user": "steffi", "scope": "admin"},
        "/web/admin/challenges": {**CHALLENGE, "slug": "von-steffi"},
        "/web/admin/roles": {"user": "steffi", "role": "admin"},
    }
    for url, data in posts.items():
        answer = steward.post(url, data={"csrf": token, **data}, follow_redirects=False)
        assert answer.status_code == 403, url
        assert 'data-status="403"' in answer.text
    assert steward.get("/web/admin/challenges/new").status_code == 403
    assert not _exists(hub, "eindringling")
    assert _user(hub, "paula").active
    assert [m.role for m in _user(hub, "paula").memberships] == [Role.PARTNER]
    assert [m.role for m in _user(hub, "steffi").memberships] == [Role.STEWARD]
    assert _token_count(hub) == tokens_before
    assert audit_text(hub) == audit_before


def test_every_admin_form_refuses_a_missing_csrf_token(hub: Hub, admin: TestClient) -> None:
    tokens_before = _token_count(hub)
    posts = {
        "/web/admin/users": {"name": "ohne-csrf", "password": "", "password2": ""},
        "/web/admin/users/paula/active": {"active": "false"},
        "/web/admin/users/paula/roles/remove": {"role": "partner"},
        "/web/admin/tokens": {"user": "paula", "scope": "read"},
        "/web/admin/challenges": {**CHALLENGE, "slug": "ohne-csrf"},
    }
    for url, data in posts.items():
        assert admin.post(url, data=data).status_code == 403, url
        assert admin.post(url, data={**data, "csrf": "gefälscht"}).status_code == 403, url
    assert not _exists(hub, "ohne-csrf")
    assert _user(hub, "paula").active
    assert _token_count(hub) == tokens_before
    anonymous = TestClient(create_app(hub), raise_server_exceptions=False)
    assert anonymous.post("/web/admin/users", data={"name": "x"}).status_code == 401


def test_the_form_pages_speak_english_on_request(hub: Hub, admin: TestClient) -> None:
    for url, text in (
        ("/web/admin?lang=en", "Issue a token"),
        ("/web/admin/challenges/new?lang=en", "Create the challenge as a draft"),
        ("/web/challenges/saubere-luft/manage?lang=en", "Applications"),
        ("/web/partner?lang=en", "A new token for me"),
        ("/web/challenges/saubere-luft?lang=en", "Register the team"),
    ):
        answer = admin.get(url)
        assert answer.status_code == 200, url
        assert '<html lang="en">' in answer.text
        assert text in answer.text, url
    differ = admin.post(
        "/web/admin/users?lang=en",
        data={"csrf": csrf(admin, "/web/admin"), "name": "x1", "password": "a", "password2": "b"},
    )
    assert "That did not work: The two passwords differ." in differ.text
    admin.get("/web/admin?lang=de")
