"""Every route answers a caller's mistake with the one JSON error shape, never a 500.

The route list comes from the app's own OpenAPI description, so a new route is covered the
day it is added: each path is called with an unknown dataset (404) and with a bad parameter
(400), and the test fails for a route it does not know how to call.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.api.test_app import assert_error_shape
from tests.helpers import add_version

# A path parameter value that names nothing, per parameter name.
MISSING = {"slug": "gibt-es-nicht", "collection_id": "gibt-es-nicht", "feature_id": "0"}
MISSING.update(
    {
        "release_id": "999999",
        "challenge": "gibt-es-nicht",
        "application_id": "999999",
        "grant_id": "999999",
    }
)
MISSING["path"] = "Gibtsnicht(1)"  # SensorThings resource paths under /sta/v1.1
# Routes without path parameters, with a request that is the caller's mistake.
BAD_REQUESTS = {
    "/api/v1/datasets": ("get", {"limit": "0"}, 400),
    "/api/v1/sql": ("get", {"q": "DROP TABLE luft"}, 400),
    "/ogc": ("get", {"unbekannt": "1"}, 400),
    "/ogc/conformance": ("get", {"unbekannt": "1"}, 400),
    "/ogc/api": ("get", {"unbekannt": "1"}, 400),
    "/ogc/collections": ("get", {"unbekannt": "1"}, 400),
    "/sta/v1.1": ("get", {"$top": "1"}, 400),
    "/api/v1/admin/users": ("get", {}, 401),
    "/api/v1/admin/tokens": ("get", {}, 401),
    "/api/v1/admin/audit": ("get", {"limit": "0"}, 400),
    "/api/v1/admin/audit.csv": ("get", {}, 401),
    "/api/v1/admin/audit/verify": ("get", {}, 401),
    "/api/v1/releases": ("get", {"status": "vielleicht"}, 400),
    "/api/v1/challenges": ("get", {"status": "vielleicht"}, 400),
}
# Routes that take no input at all.
NO_INPUT = {"/health", "/", "/api/v1/me"}
# Search; the CKAN Action API answers in CKAN's own envelope instead of the one error shape
# (that is its standard), asserted for every action in tests/api/test_ckan*.py.
BAD_REQUESTS["/api/v1/search"] = ("get", {"sort": "beliebt"}, 400)
CKAN_PREFIXES = ("/api/3/action/", "/api/action/")
# The DCAT-AP.de catalog and the metadata routes.
BAD_REQUESTS.update(
    {path: ("get", {"page": "0"}, 400) for path in ("/catalog", "/catalog.ttl", "/catalog.rdf")}
)
BAD_REQUESTS["/catalog.jsonld"] = ("get", {"modified_since": "gestern"}, 400)
NO_INPUT |= {"/api/v1/organizations", "/api/v1/groups"}
NO_INPUT |= {"/api/v1/teams", "/api/v1/grants"}
# Measures.
MISSING["name"] = "gibt-es-nicht"
NO_INPUT |= {"/api/v1/measures"}
# Sensor aggregates (native API).
MISSING["datastream_id"] = "999999"


@pytest.fixture
def client(sqlite_hub: Hub) -> TestClient:
    add_version(sqlite_hub, "luft", "SELECT 1 AS id, 2.5 AS pm10")
    publish(sqlite_hub, "luft", actor="test")
    add_version(
        sqlite_hub,
        "punkte",
        "SELECT 1 AS id, ST_SetCRS(ST_Point(7.2, 51.5), 'EPSG:4326') AS geometry",
    )
    publish(sqlite_hub, "punkte", actor="test")
    return TestClient(create_app(sqlite_hub), raise_server_exceptions=False)


def _paths(client: TestClient) -> list[str]:
    spec = client.get("/openapi.json").json()
    return sorted(p for p, ops in spec["paths"].items() if "get" in ops)


def test_every_route_answers_mistakes_with_the_one_error_shape(client: TestClient) -> None:
    checked = []
    for path in _paths(client):
        if path in NO_INPUT or path.startswith(CKAN_PREFIXES):
            continue
        if "{" in path:
            url = path
            for name, value in MISSING.items():
                url = url.replace("{" + name + "}", value)
            assert "{" not in url, f"no test value for a parameter of {path}"
            response = client.get(url)
            expected = 404
        else:
            assert path in BAD_REQUESTS, f"add a bad request for {path}"
            _method, params, expected = BAD_REQUESTS[path]
            response = client.get(path, params=params)
        assert response.status_code == expected, (path, response.status_code, response.text)
        body = response.json()
        code = body["error"]["code"]
        assert_error_shape(body, code)
        checked.append(path)
    assert len(checked) >= 15


def test_bad_parameters_on_data_routes_name_the_parameter(client: TestClient) -> None:
    base = "/api/v1/datasets/luft"
    cases = [
        (f"{base}/rows", {"nope__gt": "1"}),
        (f"{base}/rows", {"_limit": "999999"}),
        (f"{base}/rows", {"pm10__gt": "viel"}),
        (f"{base}/aggregate", {"group_by": "nope"}),
        (f"{base}/download.csv", {"_sort": "nope"}),
        ("/ogc/collections/punkte/items", {"limit": "0"}),
        ("/ogc/collections/punkte/items", {"bbox": "1,2,3"}),
    ]
    for url, params in cases:
        response = client.get(url, params=params)
        assert response.status_code == 400, (url, params, response.text)
        body = response.json()
        assert_error_shape(body, body["error"]["code"])
        if not url.startswith("/ogc"):
            assert body["error"]["details"].get("parameter"), (url, params, body)
