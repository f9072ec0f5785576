"""CKAN Action API over HTTP: the envelope of every action, its errors, GET and POST alike.

Runs on SQLite and PostgreSQL against the search corpus (four public datasets and one hidden
draft). The real ckanapi client is exercised in test_ckan_client.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from datenschatz.db.catalog_models import DatasetGroup, Group
from datenschatz.db.models import Dataset
from datenschatz.hub import Hub
from tests.catalog.test_search import build_corpus
from tests.query.builders import client_for

PREFIXES = ("/api/3/action", "/api/action")


@pytest.fixture
def client(hub: Hub) -> TestClient:
    build_corpus(hub)
    with hub.session() as session:
        group = Group(slug="umwelt", title="Umwelt und Klima", description="")
        session.add(group)
        session.flush()
        for slug in ("baumkataster", "baumgeheimnis"):
            dataset = session.scalars(select(Dataset).where(Dataset.slug == slug)).one()
            session.add(DatasetGroup(dataset_id=dataset.id, group_id=group.id))
    return client_for(hub)


def ok(client: TestClient, action: str, method: str = "get", **params: Any) -> Any:
    """The result of a successful call, after checking CKAN's envelope."""
    for prefix in PREFIXES:
        url = f"{prefix}/{action}"
        response = (
            client.get(url, params=params) if method == "get" else client.post(url, json=params)
        )
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        assert set(body) == {"help", "success", "result"}, body
        assert body["success"] is True
        assert body["help"].endswith(f"/api/3/action/help_show?name={action}")
    return body["result"]


def failed(client: TestClient, action: str, status: int, type_name: str, **params: Any) -> Any:
    """The error of a failing call, after checking CKAN's error envelope (GET and POST)."""
    for response in (
        client.get(f"/api/3/action/{action}", params=params),
        client.post(f"/api/action/{action}", json=params),
    ):
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"help", "success", "error"}, body
        assert body["success"] is False
        assert body["error"]["__type"] == type_name
        assert body["error"]["message"]
    return body["error"]


def test_package_search_with_text_filters_facets_and_paging(client: TestClient) -> None:
    result = ok(client, "package_search", q="Hochwasser")
    assert result["count"] == 2
    assert [p["name"] for p in result["results"]] == ["ueberschwemmung", "haushalt"]
    result = ok(
        client,
        "package_search",
        method="post",
        fq='organization:stadt +tags:"Stadtgrün"',
        **{"facet.field": ["organization", "tags", "groups", "res_format"], "facet.limit": 10},
    )
    assert [p["name"] for p in result["results"]] == ["baumkataster"]
    assert result["facets"]["organization"] == {"stadt": 1}
    assert result["search_facets"]["groups"]["items"] == [
        {"name": "umwelt", "display_name": "Umwelt und Klima", "count": 1}
    ]
    everything = ok(client, "package_search", rows=2, start=2, sort="title_string asc", q="*:*")
    assert everything["count"] == 4
    assert [p["name"] for p in everything["results"]] == ["luftqualitaet", "ueberschwemmung"]
    assert ok(client, "package_search", fq="res_format:GeoJSON")["count"] == 1
    assert ok(client, "package_search", q="tags:Feinstaub")["results"][0]["name"] == (
        "luftqualitaet"
    )


def test_package_search_facets_never_count_hidden_datasets(client: TestClient) -> None:
    result = ok(client, "package_search", **{"facet.field": '["tags", "groups"]'})
    assert result["facets"]["tags"] == {"Feinstaub": 1, "Hochwasser": 1, "Luft": 1, "Stadtgrün": 1}
    assert result["facets"]["groups"] == {"umwelt": 1}
    assert "baumgeheimnis" not in ok(client, "package_list")


def test_package_show_carries_the_fields_ckan_clients_read(client: TestClient) -> None:
    package = ok(client, "package_show", id="ueberschwemmung")
    assert package["id"] == package["name"] == "ueberschwemmung"
    assert package["title"] == "Überschwemmungsgebiete"
    assert package["notes"].startswith("Flächen")
    assert package["license_id"] == "dl-by-de/2.0"
    assert package["license_title"] == "Datenlizenz Deutschland Namensnennung 2.0"
    assert package["organization"]["name"] == "stadt"
    assert package["organization"]["title"] == "Stadt Herne"
    assert package["tags"] == [
        {"name": "Hochwasser", "display_name": "Hochwasser", "state": "active"}
    ]
    assert package["metadata_modified"] >= package["metadata_created"]
    formats = [r["format"] for r in package["resources"]]
    assert formats == ["CSV", "JSON", "XLSX", "Parquet", "GeoJSON"]
    csv = package["resources"][0]
    assert csv["id"] == "ueberschwemmung.csv"
    assert csv["url"].endswith("/api/v1/datasets/ueberschwemmung/download.csv")
    assert csv["package_id"] == "ueberschwemmung"
    assert {"key": "title_en", "value": "Flood areas"} in package["extras"]
    assert client.get(csv["url"]).status_code == 200
    assert ok(client, "package_show", id="baumkataster")["groups"][0]["name"] == "umwelt"


def test_lists_organizations_groups_and_tags(client: TestClient) -> None:
    assert ok(client, "package_list") == [
        "baumkataster",
        "haushalt",
        "luftqualitaet",
        "ueberschwemmung",
    ]
    assert ok(client, "package_list", limit=2, offset=1) == ["haushalt", "luftqualitaet"]
    assert ok(client, "organization_list") == ["stadt", "stadtwerke"]
    orgs = ok(client, "organization_list", all_fields="true", sort="package_count desc")
    assert [(o["name"], o["package_count"]) for o in orgs] == [("stadt", 3), ("stadtwerke", 1)]
    org = ok(client, "organization_show", id="stadtwerke", include_datasets=True)
    assert org["title"] == "Stadtwerke Herne"
    assert [p["name"] for p in org["packages"]] == ["luftqualitaet"]
    assert ok(client, "group_list") == ["umwelt"]
    groups = ok(client, "group_list", all_fields=True)
    assert groups[0]["package_count"] == 1
    assert ok(client, "group_show", id="umwelt")["title"] == "Umwelt und Klima"
    failed(client, "group_show", 404, "Not Found Error", id="verkehr")
    assert ok(client, "tag_list") == ["Feinstaub", "Hochwasser", "Luft", "Stadtgrün"]
    assert ok(client, "tag_list", query="luft") == ["Luft"]


def test_resource_show_and_status_show(client: TestClient) -> None:
    resource = ok(client, "resource_show", id="luftqualitaet.parquet")
    assert resource["format"] == "Parquet"
    assert resource["package_id"] == "luftqualitaet"
    status = ok(client, "status_show")
    assert status["api_version"] == 3
    assert "datastore" in status["extensions"]


def test_datastore_search_filters_sorts_and_pages(client: TestClient) -> None:
    result = ok(client, "datastore_search", resource_id="luftqualitaet.csv")
    assert result["records"] == [{"zeit": "2024-01-01T10:00:00", "pm10_wert": 21.5}]
    assert result["total"] == 1
    assert result["fields"] == [
        {"id": "zeit", "type": "timestamp"},
        {"id": "pm10_wert", "type": "numeric"},
    ]
    result = ok(
        client,
        "datastore_search",
        method="post",
        resource_id="baumkataster.json",
        filters={"baumart": "Eiche"},
        fields=["baumart"],
    )
    assert result["records"] == [{"baumart": "Eiche"}]
    none = ok(client, "datastore_search", resource_id="baumkataster.csv", q="Buche")
    assert none["records"] == []
    assert none["total"] == 0


def test_datastore_search_sql_runs_in_the_sandbox(client: TestClient) -> None:
    result = ok(
        client,
        "datastore_search_sql",
        sql='SELECT baumart, count(*) AS n FROM "baumkataster" GROUP BY baumart',
    )
    assert result["records"] == [{"baumart": "Eiche", "n": 1}]
    failed(client, "datastore_search_sql", 403, "Authorization Error", sql="COPY x TO 'y.csv'")
    failed(client, "datastore_search_sql", 409, "Validation Error", sql="SELEC 1")
    # A hidden dataset is no table.
    failed(
        client,
        "datastore_search_sql",
        409,
        "Validation Error",
        sql='SELECT * FROM "baumgeheimnis"',
    )


def test_errors_map_to_the_types_ckanapi_knows(client: TestClient) -> None:
    failed(client, "package_show", 404, "Not Found Error", id="baumgeheimnis")
    failed(client, "package_show", 404, "Not Found Error", id="gibt-es-nicht")
    error = failed(client, "package_show", 409, "Validation Error")
    assert error["id"]
    failed(client, "resource_show", 404, "Not Found Error", id="baumgeheimnis.csv")
    failed(client, "resource_show", 404, "Not Found Error", id="luftqualitaet.geojson")
    failed(client, "datastore_search", 404, "Not Found Error", resource_id="nichts.csv")
    failed(client, "organization_show", 404, "Not Found Error", id="nirgendwo")
    failed(client, "package_search", 400, "Search Query Error", sort="beliebtheit desc")
    failed(client, "package_search", 400, "Search Query Error", fq="farbe:rot")
    failed(client, "package_search", 400, "Search Query Error", **{"facet.field": '["x"]'})
    failed(client, "package_search", 409, "Validation Error", rows="-1")
    failed(
        client, "datastore_search", 409, "Validation Error", resource_id="haushalt.csv", limit="x"
    )
    failed(
        client,
        "datastore_search",
        409,
        "Validation Error",
        resource_id="haushalt.csv",
        filters={"gibt_es_nicht": 1},
    )
    failed(client, "package_create", 403, "Authorization Error", name="neu")
    failed(client, "datastore_upsert", 403, "Authorization Error")
    response = client.get("/api/3/action/gibt_es_nicht")
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_form_posts_and_help_show(client: TestClient) -> None:
    response = client.post("/api/3/action/package_show", data={"id": "haushalt"})
    assert response.json()["result"]["name"] == "haushalt"
    response = client.post(
        "/api/3/action/package_show",
        content=b"[1, 2]",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 409
    assert response.json()["error"]["__type"] == "Validation Error"
    assert "Search datasets" in ok(client, "help_show", name="package_search")


def test_ckan_routes_are_in_the_openapi_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/3/action/{action}"])
    assert {"get", "post"} <= set(paths["/api/action/{action}"])
