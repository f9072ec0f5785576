"""The SensorThings API over HTTP: service root, paths, query options, writes, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.governance import accounts, tokens
from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape
from tests.conftest import make_hub
from tests.sensors.builders import point, station

ROOT = "/sta/v1.1"


def issue_sensor_token(hub: Hub) -> str:
    """A real API token with the sensors:write scope, for a gateway account."""
    with hub.session() as session:
        accounts.create_user(session, "gateway", role="partner", actor="test")
        user = accounts.get_user(session, "gateway")
        return tokens.create_token(session, user, scopes=["sensors:write"], actor="test").secret


@pytest.fixture
def token(hub: Hub) -> str:
    return issue_sensor_token(hub)


@pytest.fixture
def client(hub: Hub, token: str) -> TestClient:
    """A client that sends the token as a Bearer token with every request."""
    headers = {"Authorization": f"Bearer {token}"}
    return TestClient(create_app(hub), headers=headers, raise_server_exceptions=False)


def post(client: TestClient, path: str, body: Any) -> Any:
    response = client.post(ROOT + path, json=body)
    assert response.status_code == 201, response.text
    return response


def test_service_root_lists_entity_sets_and_conformance(client: TestClient) -> None:
    body = client.get(ROOT).json()
    names = {item["name"]: item["url"] for item in body["value"]}
    assert names["Things"] == "http://testserver/sta/v1.1/Things"
    assert len(names) == 8
    conformance = body["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete" in conformance
    assert "$batch" in body["serverSettings"]["notSupported"]
    assert client.get(ROOT + "/").json() == body


def test_service_root_announces_mqtt_without_credentials(tmp_path: Path) -> None:
    hub = make_hub(tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    hub.settings = hub.settings.model_copy(
        update={"mqtt_url": "mqtt://bridge:geheim@127.0.0.1:1883"}
    )
    body = TestClient(create_app(hub)).get(ROOT).json()
    settings = body["serverSettings"]
    mqtt = "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/"
    assert mqtt + "observations-creation" in settings["conformance"]
    assert settings[mqtt + "observations-creation"]["endpoints"] == ["mqtt://127.0.0.1:1883"]
    assert "geheim" not in json.dumps(body)


def test_post_answers_201_with_location_and_reads_follow_paths(client: TestClient) -> None:
    response = post(client, "/Things", station())
    assert response.headers["location"] == "http://testserver/sta/v1.1/Things(1)"
    assert response.json()["@iot.id"] == 1
    assert client.get(f"{ROOT}/Datastreams(1)/Thing").json()["name"] == "Station Herne Mitte"
    assert client.get(f"{ROOT}/Things(1)/Locations").json()["value"][0]["location"] == point(
        7.22, 51.54
    )
    assert client.get(f"{ROOT}/Things(1)/name").json() == {"name": "Station Herne Mitte"}
    value = client.get(f"{ROOT}/Things(1)/name/$value")
    assert value.text == "Station Herne Mitte"
    refs = client.get(f"{ROOT}/Things/$ref").json()["value"]
    assert refs == [{"@iot.selfLink": "http://testserver/sta/v1.1/Things(1)"}]
    created = post(
        client,
        "/Datastreams(1)/Observations",
        {"result": 3, "phenomenonTime": "2024-01-01T00:00:00Z"},
    )
    assert created.headers["location"].endswith("/Observations(1)")
    assert (
        client.get(f"{ROOT}/Things(1)/Datastreams(1)/Observations").json()["value"][0]["result"]
        == 3
    )


def test_next_links_are_absolute_and_walk_the_whole_collection(client: TestClient) -> None:
    post(client, "/Things", station())
    rows = [[f"2024-01-01T{h:02d}:00:00Z", h] for h in range(7)]
    answer = client.post(
        f"{ROOT}/CreateObservations",
        json=[
            {
                "Datastream": {"@iot.id": 1},
                "components": ["phenomenonTime", "result"],
                "dataArray": rows,
            }
        ],
    )
    assert answer.status_code == 201
    assert answer.json()[0] == "http://testserver/sta/v1.1/Observations(1)"
    seen: list[int] = []
    url: str | None = f"{ROOT}/Observations?$top=3&$orderby=phenomenonTime desc&$count=true"
    while url:
        page = client.get(url).json()
        assert page["@iot.count"] == 7
        seen += [o["result"] for o in page["value"]]
        url = page.get("@iot.nextLink")
        if url:
            parts = urlsplit(url)
            assert parts.scheme == "http"
            assert parts.netloc == "testserver"
            url = f"{parts.path}?{parts.query}"
    assert seen == [6, 5, 4, 3, 2, 1, 0]


def test_expand_nested_with_options_and_next_link_on_expanded_set(client: TestClient) -> None:
    post(client, "/Things", station())
    for h in range(4):
        post(
            client,
            "/Datastreams(1)/Observations",
            {"result": h, "phenomenonTime": f"2024-01-01T0{h}:00:00Z"},
        )
    body = client.get(
        f"{ROOT}/Things(1)",
        params={
            "$select": "name,Datastreams",
            "$expand": "Datastreams($select=name;$expand=Observations($top=2;$orderby=result DESC;"
            "$select=result)),Locations($select=name)",
        },
    ).json()
    assert set(body) == {"name", "Datastreams@iot.navigationLink", "Datastreams", "Locations"}
    datastream = body["Datastreams"][0]
    assert datastream["name"] == "Station Herne Mitte PM10"
    assert datastream["Observations"] == [{"result": 3}, {"result": 2}]
    next_link = datastream["Observations@iot.nextLink"]
    assert next_link.startswith("http://testserver/sta/v1.1/Datastreams(1)/Observations?")
    rest = client.get(next_link.removeprefix("http://testserver")).json()
    assert [o["result"] for o in rest["value"]] == [1, 0]
    compact = client.get(f"{ROOT}/Things", params={"$expand": "Datastreams/Observations"}).json()
    assert len(compact["value"][0]["Datastreams"][0]["Observations"]) == 4


def test_result_format_data_array(client: TestClient) -> None:
    post(client, "/Things", station())
    post(
        client,
        "/Datastreams(1)/Observations",
        {"result": 7, "phenomenonTime": "2024-01-01T00:00:00Z"},
    )
    body = client.get(
        f"{ROOT}/Observations",
        params={"$resultFormat": "dataArray", "$select": "id,phenomenonTime,result"},
    ).json()
    block = body["value"][0]
    assert block["components"] == ["id", "phenomenonTime", "result"]
    assert block["dataArray"] == [[1, "2024-01-01T00:00:00Z", 7]]
    assert block["Datastream@iot.navigationLink"].endswith("/Datastreams(1)")


def test_patch_put_json_patch_and_delete_over_http(client: TestClient) -> None:
    post(client, "/Things", station())
    response = client.patch(f"{ROOT}/Things(1)", json={"description": "gewartet"})
    assert response.status_code == 200
    assert response.json()["name"] == "Station Herne Mitte"
    response = client.put(f"{ROOT}/Things(1)", json={"name": "Neu"})
    assert response.json()["description"] == ""
    response = client.patch(
        f"{ROOT}/Things(1)",
        content=b'[{"op": "replace", "path": "/name", "value": "Gepatcht"}]',
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert client.get(f"{ROOT}/Things(1)").json()["name"] == "Gepatcht"
    assert client.delete(f"{ROOT}/Things(1)").status_code == 200
    assert client.get(f"{ROOT}/Things(1)").status_code == 404
    assert client.get(f"{ROOT}/Datastreams").json()["value"] == []


def test_writes_without_a_token_are_refused_and_basic_auth_works(
    client: TestClient, token: str
) -> None:
    response = client.post(f"{ROOT}/Things", json=station(), headers={"Authorization": ""})
    assert response.status_code == 401
    assert_error_shape(response.json(), "unauthorized")
    response = client.post(
        f"{ROOT}/Things", json=station(), headers={"Authorization": "Bearer dsz_wrong"}
    )
    assert response.status_code == 401
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    response = client.post(
        f"{ROOT}/Things", json=station(), headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "status"),
    [
        ("get", "/Things", {"$filter": "name eq"}, None, 400),
        ("get", "/Things", {"$filter": "nope eq 1"}, None, 400),
        ("get", "/Things", {"$filter": "name eq 1"}, None, 400),
        ("get", "/Things", {"$filter": "frobnicate(name)"}, None, 400),
        ("get", "/Things", {"$top": "-1"}, None, 400),
        ("get", "/Things", {"$expand": "Nope"}, None, 400),
        ("get", "/Things", {"$select": "nope"}, None, 400),
        ("get", "/Things", {"$orderby": "nope desc"}, None, 400),
        ("get", "/Things", {"$unknown": "1"}, None, 400),
        ("get", "/Things", {"$resultFormat": "dataArray"}, None, 400),
        ("get", "/Things(99)", {}, None, 404),
        ("get", "/Things(1)/Nope", {}, None, 404),
        ("get", "/Gibtsnicht", {}, None, 404),
        ("post", "/Things", {}, {"name": 5}, 400),
        ("post", "/Things", {}, [1, 2], 400),
        ("post", "/Things(1)/name", {}, {"name": "x"}, 400),
        ("post", "/CreateObservations", {}, {"not": "a list"}, 400),
        ("patch", "/Things(99)", {}, {"name": "x"}, 404),
        ("patch", "/Things", {}, {"name": "x"}, 400),
        ("delete", "/Things(99)", {}, None, 404),
    ],
)
def test_mistakes_answer_4xx_in_the_one_error_shape(
    client: TestClient, method: str, path: str, params: dict[str, str], body: Any, status: int
) -> None:
    post(client, "/Things", station())
    kwargs: dict[str, Any] = {"params": params}
    if body is not None:
        kwargs["json"] = body
    response = client.request(method.upper(), ROOT + path, **kwargs)
    assert response.status_code == status, response.text
    payload = response.json()
    assert_error_shape(payload, payload["error"]["code"])


def test_a_broken_json_body_is_a_400(client: TestClient) -> None:
    response = client.post(
        f"{ROOT}/Things",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]
