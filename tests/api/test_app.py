from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub


@pytest.fixture
def client(hub: Hub) -> TestClient:
    return TestClient(create_app(hub), raise_server_exceptions=False)


def assert_error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_health_reports_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_describes_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Datenschatz"
    assert "/health" in spec["paths"]


def test_root_counts_published_datasets(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["published_datasets"] == 0
    assert body["links"]["openapi"] == "/openapi.json"


def test_a_browser_at_the_root_is_sent_to_the_web_pages(client: TestClient) -> None:
    html = client.get("/", headers={"accept": "text/html,*/*"}, follow_redirects=False)
    assert html.status_code == 307
    assert html.headers["location"] == "/web/"
    assert client.get("/").json()["links"]["web"] == "/web/"


def test_unknown_route_answers_the_one_error_shape(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_wrong_method_answers_the_one_error_shape(client: TestClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_unexpected_failure_is_a_500_without_internals(hub: Hub) -> None:
    app = create_app(hub)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM /var/lib/thing")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert_error_shape(response.json(), "internal_error")
    assert "SELECT" not in response.text
    assert "/var/lib" not in response.text
