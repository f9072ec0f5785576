"""Web sign-in (argon2 accounts, signed session cookie, CSRF) and the steward's upload."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from datenschatz.web import session as web_session

PASSWORD = "ein-langes-passwort-42"
CSV = b"station,pm10\nS1,12.5\nS2,13.0\nS3,9.5\n"


@pytest.fixture(scope="module")
def steward(sqlite_web_hub: Hub) -> str:
    with sqlite_web_hub.session() as session:
        create_user(
            session,
            "stewardin",
            role="steward",
            org="stadt-herne",
            password=PASSWORD,
            actor="test",
        )
    return "stewardin"


@pytest.fixture
def browser_client(sqlite_web_hub: Hub, steward: str) -> TestClient:
    return TestClient(create_app(sqlite_web_hub), raise_server_exceptions=False)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def _sign_in(client: TestClient, password: str = PASSWORD) -> object:
    form = client.get("/web/login")
    assert form.status_code == 200
    return client.post(
        "/web/login",
        data={"name": "stewardin", "password": password, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )


def test_wrong_password_is_refused_without_saying_which_part(browser_client: TestClient) -> None:
    response = _sign_in(browser_client, "falsches-passwort-1")
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert "Name oder Passwort falsch." in response.text  # type: ignore[attr-defined]
    assert web_session.COOKIE not in browser_client.cookies


def test_sign_in_without_the_form_token_is_refused(browser_client: TestClient) -> None:
    response = browser_client.post(
        "/web/login", data={"name": "stewardin", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert web_session.COOKIE not in browser_client.cookies


def test_a_non_ascii_form_token_is_refused_not_a_server_error(
    browser_client: TestClient, sqlite_web_hub: Hub
) -> None:
    form = browser_client.get("/web/login")
    assert form.status_code == 200
    login = browser_client.post(
        "/web/login",
        data={"name": "stewardin", "password": PASSWORD, "csrf": "gefälscht"},
        follow_redirects=False,
    )
    assert login.status_code == 403
    _sign_in(browser_client)
    for url in ("/web/datasets/luftmessung/roles", "/web/datasets/luftmessung/release"):
        response = browser_client.post(url, data={"csrf": "gefälscht"}, follow_redirects=False)
        assert response.status_code == 403, url
    assert web_session.read(sqlite_web_hub, "päyload.sïgnature") is None


def test_sign_in_sets_a_protected_session_cookie_and_shows_the_account(
    browser_client: TestClient,
) -> None:
    response = _sign_in(browser_client)
    assert response.status_code == 303  # type: ignore[attr-defined]
    header = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "ds_session=" in header
    assert "HttpOnly" in header
    assert "SameSite=lax" in header
    account = browser_client.get("/web/account")
    assert "Angemeldet als stewardin." in account.text
    assert "/web/datasets/luftmessung/upload" in account.text
    assert "/web/datasets/entwurf/upload" in account.text  # the organization's draft
    assert "dortmund-entwurf" not in account.text  # another organization's
    # signed in, the draft of the steward's organization becomes visible on its page
    assert browser_client.get("/web/datasets/entwurf").status_code == 200


def test_a_forged_or_expired_cookie_is_anonymous(sqlite_web_hub: Hub, steward: str) -> None:
    client = TestClient(create_app(sqlite_web_hub), raise_server_exceptions=False)
    value, _ = web_session.issue(sqlite_web_hub, 1)
    payload, _, signature = value.partition(".")
    client.cookies.set(web_session.COOKIE, payload + "." + signature[::-1])
    assert client.get("/web/datasets/entwurf").status_code == 404
    expired, _ = web_session.issue(sqlite_web_hub, 1, now=0)
    assert web_session.read(sqlite_web_hub, expired) is None
    assert web_session.read(sqlite_web_hub, value) is not None


def test_upload_needs_the_session_csrf_token(browser_client: TestClient) -> None:
    _sign_in(browser_client)
    response = browser_client.post(
        "/web/datasets/luftmessung/upload",
        files={"file": ("neu.csv", CSV, "text/csv")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_the_cookie_alone_changes_nothing_through_the_api(browser_client: TestClient) -> None:
    _sign_in(browser_client)
    response = browser_client.post("/api/v1/datasets/luftmessung/recipe/run")
    assert response.status_code == 401


def test_steward_uploads_a_new_version(browser_client: TestClient, sqlite_web_hub: Hub) -> None:
    _sign_in(browser_client)
    form = browser_client.get("/web/datasets/luftmessung/upload")
    assert form.status_code == 200
    assert '<progress id="upload-progress"' in form.text
    response = browser_client.post(
        "/web/datasets/luftmessung/upload",
        data={"csrf": _csrf(form.text)},
        files={"file": ("neu.csv", CSV, "text/csv")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["rows"] == 3
    assert body["version"] >= 3
    # stored, not published: the public page still shows the published version
    public = TestClient(create_app(sqlite_web_hub))
    assert "300 (Version 2)" in public.get("/web/datasets/luftmessung").text


def test_upload_to_a_foreign_or_hidden_dataset_is_refused(browser_client: TestClient) -> None:
    _sign_in(browser_client)
    form = browser_client.get("/web/datasets/luftmessung/upload")
    token = _csrf(form.text)
    assert browser_client.get("/web/datasets/gibt-es-nicht/upload").status_code == 404
    assert browser_client.get("/web/datasets/dortmund-entwurf/upload").status_code == 404
    anonymous = TestClient(browser_client.app)
    assert (
        anonymous.get("/web/datasets/luftmessung/upload", follow_redirects=False).headers[
            "location"
        ]
        == "/web/login"
    )
    response = browser_client.post(
        "/web/datasets/gibt-es-nicht/upload",
        data={"csrf": token},
        files={"file": ("neu.csv", CSV, "text/csv")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 404


def test_sign_out(browser_client: TestClient) -> None:
    _sign_in(browser_client)
    account = browser_client.get("/web/account")
    response = browser_client.post(
        "/web/logout", data={"csrf": _csrf(account.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    browser_client.cookies.delete(web_session.COOKIE)
    assert browser_client.get("/web/account", follow_redirects=False).status_code == 303


def test_steward_manages_roles_and_requests_a_release(browser_client: TestClient) -> None:
    _sign_in(browser_client)
    assert browser_client.get("/web/datasets/dortmund-entwurf/manage").status_code == 404
    manage = browser_client.get("/web/datasets/entwurf/manage")
    assert manage.status_code == 200
    assert "Qualitätsbericht" in manage.text
    assert "Spaltenrollen" in manage.text
    assert 'name="role:n"' in manage.text
    token = _csrf(manage.text)
    refused = browser_client.post(
        "/web/datasets/entwurf/roles", data={"role:n": "measure"}, follow_redirects=False
    )
    assert refused.status_code == 403
    saved = browser_client.post(
        "/web/datasets/entwurf/roles",
        data={"csrf": token, "role:n": "measure"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = browser_client.get("/web/datasets/entwurf/manage").text
    assert re.search(r'<option value="measure" selected>', page)
    asked = browser_client.post(
        "/web/datasets/entwurf/release",
        data={"csrf": token, "purpose": "Offene Daten", "level": "public"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    page = browser_client.get("/web/datasets/entwurf/manage").text
    assert 'class="card release"' in page
    assert "Offene Daten" in page
    english = browser_client.get("/web/datasets/entwurf/manage?lang=en").text
    assert "Column roles for the privacy gate" in english
    browser_client.cookies.delete("lang")


def test_board_pages_need_sign_in_and_hide_unknown_requests(
    browser_client: TestClient, sqlite_web_hub: Hub
) -> None:
    anonymous = TestClient(create_app(sqlite_web_hub))
    for url in ("/web/board", "/web/board/1"):
        assert anonymous.get(url, follow_redirects=False).headers["location"] == "/web/login"
    _sign_in(browser_client)
    assert browser_client.get("/web/board/999999").status_code == 404
    refused = browser_client.post(
        "/web/board/1/decide", data={"verdict": "approve"}, follow_redirects=False
    )
    assert refused.status_code == 403  # no CSRF token


def test_metadata_form_saves_and_names_the_wrong_field(browser_client: TestClient) -> None:
    _sign_in(browser_client)
    manage = browser_client.get("/web/datasets/entwurf/manage")
    token = _csrf(manage.text)
    form = {
        "csrf": token,
        "title": "Entwurf <b>neu</b>",
        "description": "Ein Testdatensatz.",
        "keywords": "Test, Entwurf",
        "themes": ["ENVI", "REGI"],
        "licence": "dl-by-de/2.0",
        "accrual_periodicity": "MONTHLY",
        "contact_name": "Open-Data-Team",
        "contact_email": "opendata@example.org",
    }
    saved = browser_client.post("/web/datasets/entwurf/metadata", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    html = browser_client.get("/web/datasets/entwurf/manage").text
    assert 'value="Entwurf &lt;b&gt;neu&lt;/b&gt;"' in html
    assert '<option value="MONTHLY" selected>' in html
    assert '<option value="ENVI" selected>' in html
    bad = browser_client.post(
        "/web/datasets/entwurf/metadata", data={**form, "contact_email": "keine-adresse"}
    )
    assert bad.status_code == 400
    assert 'id="metadata-error"' in bad.text
    message = bad.text.split('id="metadata-error"')[1].split("</p>")[0]
    assert "E-Mail-Adresse der Kontaktstelle" in message  # the field, named in German
    empty = browser_client.post("/web/datasets/entwurf/metadata", data={**form, "description": ""})
    assert empty.status_code == 400
