"""Errors outside the pages' own handlers: a browser at ``/web`` gets the web UI's error page in
its language (unknown addresses, wrong methods, bad parameters, rate limits), a page's script
gets the one JSON error shape in the page's language, and the API keeps its JSON."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.config import Settings
from datenschatz.db.migrate import upgrade
from datenschatz.hub import Hub
from tests.web.form_helpers import person, signed_in

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"accept": "application/json"}
NOT_FOUND_DE = "Diese Seite gibt es nicht (oder nicht mehr unter dieser Adresse)."
NOT_FOUND_EN = "This page does not exist (or no longer at this address)."
API_NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "details": {}}}


@pytest.fixture(scope="module")
def client(sqlite_web_hub: Hub) -> TestClient:
    """The app on the web tests' catalog (the backend does not matter here)."""
    return TestClient(create_app(sqlite_web_hub), raise_server_exceptions=False)


def _message(html: str) -> str:
    found = re.search(r'<p id="error-message">([^<]*)</p>', html)
    assert found, html[:500]
    return found.group(1)


def _hub(tmp_path: Path, **settings: int) -> Hub:
    hub = Hub(
        Settings(
            data_dir=tmp_path / "data",
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **settings,  # type: ignore[arg-type]
        )
    )
    hub.store.ensure()
    upgrade(hub.engine)
    return hub


def test_an_unknown_web_address_is_a_404_page_in_german_or_english(client: TestClient) -> None:
    german = client.get("/web/gibt-es-nicht", headers=HTML)
    assert german.status_code == 404
    assert german.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in german.text
    assert "<h1>Nicht gefunden</h1>" in german.text
    assert _message(german.text) == NOT_FOUND_DE
    english = client.get("/web/gibt-es-nicht", headers={**HTML, "accept-language": "en"})
    assert english.status_code == 404
    assert '<html lang="en">' in english.text
    assert _message(english.text) == NOT_FOUND_EN
    # without any Accept header, too: the address alone makes it a page
    assert _message(client.get("/web/nichts/da", headers={"accept": ""}).text) == NOT_FOUND_DE


def test_the_api_keeps_its_json_error_even_for_a_browser(client: TestClient) -> None:
    for url in ("/api/v1/gibt-es-nicht", "/ogc/gibt/es/nicht", "/catalog.xyz"):
        for headers in (HTML, JSON, {}):
            answer = client.get(url, headers=headers)
            assert answer.status_code == 404, url
            assert answer.headers["content-type"] == "application/json", (url, headers)
            assert answer.json() == API_NOT_FOUND
    sta = client.get("/sta/v1.1/Gibtsnicht", headers=HTML)
    assert sta.headers["content-type"].startswith("application/json")
    assert sta.json()["error"]["code"] == "not_found"
    # outside the API and the pages: a browser gets a page, any other client JSON
    assert client.get("/gibt-es-nicht", headers=HTML).status_code == 404
    assert _message(client.get("/gibt-es-nicht", headers=HTML).text) == NOT_FOUND_DE
    assert client.get("/gibt-es-nicht", headers=JSON).json() == API_NOT_FOUND


def test_a_script_asking_a_web_address_for_json_gets_the_error_shape_in_its_language(
    client: TestClient,
) -> None:
    german = client.get("/web/gibt-es-nicht", headers=JSON)
    assert german.status_code == 404
    assert german.json() == {"error": {"code": "not_found", "message": NOT_FOUND_DE, "details": {}}}
    english = client.get("/web/gibt-es-nicht?lang=en", headers=JSON)
    assert english.json()["error"]["message"] == NOT_FOUND_EN
    client.cookies.delete("lang")


def test_a_wrong_method_and_a_bad_path_parameter_are_pages_with_their_status(
    client: TestClient,
) -> None:
    wrong = client.delete("/web/search", headers=HTML)
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]
    assert "<h1>Nicht erlaubt</h1>" in wrong.text
    assert _message(wrong.text) == "Diese Adresse lässt sich so nicht aufrufen."
    bad = client.get("/web/board/kein-antrag", headers=HTML)
    assert bad.status_code == 400
    assert "<h1>Ungültige Anfrage</h1>" in bad.text
    assert "release_id" in _message(bad.text)
    assert _message(bad.text).startswith("Der Parameter")
    english = client.get("/web/board/kein-antrag", headers={**HTML, "accept-language": "en"})
    assert _message(english.text).startswith("The parameter “release_id” of the address")
    api = client.delete("/api/v1/search", headers=HTML)
    assert api.status_code == 405
    assert api.json()["error"]["code"] == "method_not_allowed"


def test_the_404_page_knows_who_is_signed_in(sqlite_web_hub: Hub) -> None:
    person(sqlite_web_hub, "irrlaeuferin")
    browser = signed_in(sqlite_web_hub, "irrlaeuferin")
    page = browser.get("/web/falsch/abgebogen", headers=HTML)
    assert page.status_code == 404
    assert 'href="/web/account"' in page.text
    assert 'href="/web/login"' not in page.text


def test_a_rate_limited_browser_gets_the_page_in_its_language(tmp_path: Path) -> None:
    client = TestClient(create_app(_hub(tmp_path, rate_limit_ip_per_minute=2)))
    assert [client.get("/web/", headers=HTML).status_code for _ in range(2)] == [200, 200]
    german = client.get("/web/search", headers=HTML)
    assert german.status_code == 429
    assert int(german.headers["retry-after"]) >= 1
    assert german.headers["content-type"].startswith("text/html")
    assert "<h1>Zu viele Anfragen</h1>" in german.text
    seconds = german.headers["retry-after"]
    assert _message(german.text) == (
        f"Zu viele Anfragen in kurzer Zeit. Bitte versuchen Sie es in {seconds} Sekunden "
        "noch einmal."
    )
    english = client.get("/web/search", headers={**HTML, "accept-language": "en"})
    assert english.status_code == 429
    assert "<h1>Too many requests</h1>" in english.text
    script = client.get("/web/search", headers=JSON)
    assert script.status_code == 429
    assert script.json()["error"]["code"] == "rate_limited"
    assert script.json()["error"]["message"].startswith("Zu viele Anfragen")
    api = client.get("/api/v1/datasets", headers=HTML)
    assert api.status_code == 429
    assert api.headers["content-type"] == "application/json"
    assert api.json()["error"]["code"] == "rate_limited"
    assert api.json()["error"]["message"].startswith("Too many requests; try again in")


def test_an_unexpected_error_is_a_500_page_without_detail(sqlite_web_hub: Hub) -> None:
    app = create_app(sqlite_web_hub)

    def broken() -> None:
        raise RuntimeError("/srv/geheim/pfad kaputt")

    app.add_api_route("/web/kaputt", broken)
    app.add_api_route("/api/v1/kaputt", broken)
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/web/kaputt", headers=HTML)
    assert page.status_code == 500
    assert "<h1>Fehler</h1>" in page.text
    assert _message(page.text) == (
        "Etwas ist schiefgegangen. Bitte versuchen Sie es später noch einmal."
    )
    assert "geheim" not in page.text
    api = client.get("/api/v1/kaputt", headers=HTML)
    assert api.status_code == 500
    assert api.json() == {
        "error": {"code": "internal_error", "message": "Internal server error.", "details": {}}
    }
