"""GET /api/v1/datasets/{slug}/rows through HTTP, on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape
from tests.query.builders import BACKENDS, client_for, luft_rows, module_hub

ROWS = "/api/v1/datasets/luft/rows"


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    return module_hub(request, tmp_path_factory)


@pytest.fixture
def client(hub: Hub) -> TestClient:
    return client_for(hub)


def get(client: TestClient, url: str = ROWS, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params) if params else client.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_first_page_has_fields_count_rows_and_an_absolute_next_link(client: TestClient) -> None:
    response = client.get(ROWS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["dataset", "version", "fields", "count", "next", "rows"]
    assert body["dataset"] == "luft"
    assert body["version"] == 2
    assert [f["name"] for f in body["fields"]][:3] == ["id", "station", "pm10"]
    assert body["count"] == {"value": 1000, "estimated": False}
    assert len(body["rows"]) == 100
    assert body["next"].startswith("http://testserver/api/v1/datasets/luft/rows?")
    assert "_next=" in body["next"]
    first = body["rows"][0]
    assert first["zeit"] == "2024-01-01T00:00:00"
    assert first["tag"] == "2024-01-01"
    assert first["gerade"] is True
    assert first["geometry"] == {"type": "Point", "coordinates": [7.1, 51.5]}


def test_following_next_links_returns_every_row_once_with_sort_and_filter(
    client: TestClient,
) -> None:
    url: str | None = client.get(
        ROWS,
        params=[
            ("ort", "Sodingen"),
            ("_sort_desc", "klasse"),
            ("_sort", "id"),
            ("_limit", "90"),
            ("_fields", "id,klasse"),
        ],
    ).url.__str__()
    seen: list[int] = []
    counts = set()
    pages = 0
    while url:
        body = get(client, url)
        seen.extend(r["id"] for r in body["rows"])
        counts.add(body["count"]["value"])
        assert all(list(r) == ["id", "klasse"] for r in body["rows"])
        url = body["next"]
        pages += 1
    wanted = [r for r in luft_rows() if r["ort"] == "Sodingen"]
    wanted.sort(key=lambda r: r["id"])
    wanted.sort(key=lambda r: -1 if r["klasse"] is None else r["klasse"], reverse=True)
    assert seen == [r["id"] for r in wanted]
    assert counts == {len(wanted)}
    assert pages == 4


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"pm10__gt": "200"}, lambda r: r["pm10"] is not None and r["pm10"] > 200),
        ({"pm10__isnull": "true"}, lambda r: r["pm10"] is None),
        (
            {"station__in": "1,3", "gerade": "false"},
            lambda r: r["station"] in (1, 3) and not r["gerade"],
        ),
        ({"ort__contains": "EICKEL"}, lambda r: r["ort"] == "Wanne-Eickel"),
        ({"ort__startswith": "herne"}, lambda r: r["ort"] == "Herne Mitte"),
        ({"q": "sod"}, lambda r: r["ort"] == "Sodingen"),
        ({"klasse__ne": "1"}, lambda r: r["klasse"] != 1),
        (
            {"zeit__gte": "2024-02-01T00:00:00", "zeit__lt": "2024-02-02"},
            lambda r: 744 <= r["id"] < 768,
        ),
        ({"tag": "2024-01-03"}, lambda r: 48 <= r["id"] < 72),
        (
            {"bbox": "7.15,51.5025,7.2,51.5055"},
            lambda r: 7.15 <= r["x"] <= 7.2 and 51.5025 <= r["y"] <= 51.5055,
        ),
    ],
)
def test_filters_select_the_matching_rows(
    client: TestClient, params: dict[str, str], predicate: Any
) -> None:
    body = get(client, **params, _limit="1000", _fields="id")
    wanted = [r["id"] for r in luft_rows() if predicate(r)]
    assert [r["id"] for r in body["rows"]] == wanted
    assert body["count"] == {"value": len(wanted), "estimated": False}
    assert body["next"] is None


def test_older_published_version_is_read_by_number(client: TestClient) -> None:
    body = get(client, version="1")
    assert body["version"] == 1
    assert body["rows"] == [{"id": 1, "ort": "alt"}]
    assert body["count"]["value"] == 1
    never_published = client.get(ROWS, params={"version": "3"})
    assert never_published.status_code == 404
    assert_error_shape(never_published.json(), "not_found")


def test_hidden_or_missing_dataset_is_404(client: TestClient) -> None:
    hidden = client.get("/api/v1/datasets/entwurf/rows")
    missing = client.get("/api/v1/datasets/gibt-es-nicht/rows")
    assert hidden.status_code == missing.status_code == 404
    assert_error_shape(hidden.json(), "not_found")
    assert hidden.json()["error"]["message"] == missing.json()["error"]["message"]


def test_pages_have_etags_and_answer_304(client: TestClient) -> None:
    first = client.get(ROWS, params=[("station", "2"), ("_limit", "5")])
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    same = client.get(ROWS, params=[("_limit", "5"), ("station", "2")])
    assert same.headers["etag"] == etag  # the order of parameters does not matter
    again = client.get(
        ROWS, params=[("station", "2"), ("_limit", "5")], headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    other = client.get(ROWS, params=[("station", "3"), ("_limit", "5")])
    assert other.headers["etag"] != etag
    following = client.get(first.json()["next"])
    assert following.headers["etag"] != etag
    older = client.get(ROWS, params=[("_limit", "5"), ("version", "1")])
    assert older.headers["etag"] != etag


def test_user_mistakes_are_400s_naming_the_parameter(client: TestClient) -> None:
    other_cursor = client.get(ROWS, params={"_limit": "2", "station": "1"}).json()["next"]
    cursor = other_cursor.split("_next=")[1]
    cases = [
        ({"gibtsnicht": "1"}, "gibtsnicht"),
        ({"pm10__zwischen": "1"}, "pm10__zwischen"),
        ({"pm10__gt": "viel"}, "pm10__gt"),
        ({"station": "1.5"}, "station"),
        ({"bbox": "7,51,8"}, "bbox"),
        ({"bbox": "7,51,a,52"}, "bbox"),
        ({"_limit": "10001"}, "_limit"),
        ({"_limit": "abc"}, "_limit"),
        ({"_sort": "gibtsnicht"}, "_sort"),
        ({"_fields": "id,gibtsnicht"}, "_fields"),
        ({"_next": cursor, "station": "2"}, "_next"),
        ({"_next": "kaputt"}, "_next"),
        ({"version": "0"}, "version"),
        ({"_unbekannt": "1"}, "_unbekannt"),
    ]
    for params, parameter in cases:
        response = client.get(ROWS, params=params)
        assert response.status_code == 400, (params, response.text)
        body = response.json()
        assert_error_shape(body, body["error"]["code"])
        assert body["error"]["details"]["parameter"] == parameter, params


def test_openapi_documents_the_rows_parameters(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/datasets/{slug}/rows"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {
        "slug",
        "version",
        "q",
        "bbox",
        "_sort",
        "_sort_desc",
        "_fields",
        "_limit",
        "_next",
    } <= names
    assert "__gte" in operation["description"]
    assert "estimated" in operation["description"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/RowsBody")
