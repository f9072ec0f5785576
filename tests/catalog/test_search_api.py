"""GET /api/v1/search: the search service over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape
from tests.catalog.test_search import build_corpus
from tests.query.builders import client_for


@pytest.fixture
def client(hub: Hub) -> TestClient:
    build_corpus(hub)
    return client_for(hub)


def test_search_answers_hits_facets_and_a_next_link(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "Bäume"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    hit = body["results"][0]
    assert hit["slug"] == "baumkataster"
    assert hit["licence"] == "cc-by/4.0"
    assert hit["themes"] == ["ENVI", "AGRI"]
    assert hit["has_time_series"] is True
    assert hit["has_geodata"] is False
    assert hit["organization"] == {"slug": "stadt", "name": "Stadt Herne"}
    assert hit["score"] > 0
    assert client.get(hit["links"]["self"]).status_code == 200
    themes = {v["value"]: (v["label"], v["count"]) for v in body["facets"]["theme"]}
    assert themes["ENVI"] == ("Umwelt", 1)
    assert set(themes) == {"ENVI", "AGRI"}

    page = client.get("/api/v1/search", params={"sort": "title", "limit": 3}).json()
    assert [r["slug"] for r in page["results"]] == ["baumkataster", "haushalt", "luftqualitaet"]
    rest = client.get(page["next"]).json()
    assert [r["slug"] for r in rest["results"]] == ["ueberschwemmung"]
    assert "next" not in rest


def test_facet_filters_and_facet_choice(client: TestClient) -> None:
    body = client.get(
        "/api/v1/search",
        params=[("has_geodata", "true"), ("facet", "format"), ("facet", "organization")],
    ).json()
    assert [r["slug"] for r in body["results"]] == ["ueberschwemmung"]
    assert set(body["facets"]) == {"format", "organization"}
    assert {v["value"] for v in body["facets"]["format"]} == {
        "CSV",
        "GeoJSON",
        "JSON",
        "Parquet",
        "XLSX",
    }


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"sort": "beliebt"}, "sort"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "5000"}, "limit"),
        ({"facet": "farbe"}, "facet"),
        ({"organisation": "stadt"}, "organisation"),
        ({"has_geodata": "vielleicht"}, "has_geodata"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, body["error"]["code"])
    assert body["error"]["details"]["parameter"] == parameter
