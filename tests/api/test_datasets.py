from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.api.test_app import assert_error_shape
from tests.helpers import add_version


@pytest.fixture
def client(hub: Hub) -> TestClient:
    add_version(hub, "luft", "SELECT range AS id, range * 0.5 AS pm10 FROM range(5)")
    publish(hub, "luft", actor="test")
    add_version(hub, "luft", "SELECT 99 AS id, 1.0 AS pm10")  # newer, unpublished
    add_version(hub, "entwurf", "SELECT 1 AS a")  # draft, never published
    return TestClient(create_app(hub))


def test_list_shows_only_published_public_datasets(client: TestClient) -> None:
    body = client.get("/api/v1/datasets").json()
    assert body["total"] == 1
    [dataset] = body["datasets"]
    assert dataset["slug"] == "luft"
    assert dataset["published_version"] == 1
    assert dataset["rows"] == 5
    assert [f["name"] for f in dataset["schema"]["fields"]] == ["id", "pm10"]
    assert dataset["links"]["rows"].endswith("/api/v1/datasets/luft/rows")


def test_draft_dataset_answers_404_like_a_missing_one(client: TestClient) -> None:
    hidden = client.get("/api/v1/datasets/entwurf")
    missing = client.get("/api/v1/datasets/gibt-es-nicht")
    assert hidden.status_code == missing.status_code == 404
    assert_error_shape(hidden.json(), "not_found")
    assert hidden.json()["error"]["message"] == missing.json()["error"]["message"]
    assert client.get("/api/v1/datasets/entwurf/versions").status_code == 404


def test_versions_lists_only_published_ones(client: TestClient) -> None:
    body = client.get("/api/v1/datasets/luft/versions").json()
    assert [v["version"] for v in body["versions"]] == [1]
    assert body["versions"][0]["schema"]["fields"][0]["name"] == "id"


def test_dataset_detail_has_an_etag_and_answers_304(client: TestClient) -> None:
    first = client.get("/api/v1/datasets/luft")
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = client.get("/api/v1/datasets/luft", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_list_paging_links_to_the_next_page(hub: Hub) -> None:
    for slug in ("a", "b", "c"):
        add_version(hub, slug, "SELECT 1 AS x")
        publish(hub, slug, actor="test")
    client = TestClient(create_app(hub))
    body = client.get("/api/v1/datasets", params={"limit": 2}).json()
    assert [d["slug"] for d in body["datasets"]] == ["a", "b"]
    follow = client.get(body["next"]).json()
    assert [d["slug"] for d in follow["datasets"]] == ["c"]
    assert "next" not in follow


def test_bad_limit_is_a_400_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/api/v1/datasets", params={"limit": 0})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == "limit"


def test_metadata_is_cached_briefly_and_refreshed_after_a_change_here(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from datenschatz.api import cache as cache_module

    add_version(hub, "luft", "SELECT 1 AS x")
    publish(hub, "luft", actor="test")
    client = TestClient(create_app(hub))
    assert client.get("/api/v1/datasets/luft").json()["title"] == "Luft"

    # Another process changes the title: this process may answer from its cache until the TTL.
    with hub.engine.begin() as conn:
        conn.execute(text("UPDATE dataset SET title = 'Luftgüte' WHERE slug = 'luft'"))
    assert client.get("/api/v1/datasets/luft").json()["title"] == "Luft"
    now = cache_module.time.monotonic()
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now + 60)
    assert client.get("/api/v1/datasets/luft").json()["title"] == "Luftgüte"

    # A change made through this process shows at once.
    add_version(hub, "luft", "SELECT 2 AS x")
    publish(hub, "luft", actor="test")
    assert client.get("/api/v1/datasets/luft").json()["published_version"] == 2


def test_hidden_dataset_is_not_served_from_the_cache(hub: Hub) -> None:
    from sqlalchemy import update

    from datenschatz.db.models import AccessLevel, Dataset

    add_version(hub, "luft", "SELECT 1 AS x")
    publish(hub, "luft", actor="test")
    client = TestClient(create_app(hub))
    assert client.get("/api/v1/datasets/luft").status_code == 200
    with hub.session() as session:  # made internal through the service layer of this process
        session.execute(
            update(Dataset).where(Dataset.slug == "luft").values(access_level=AccessLevel.INTERNAL)
        )
    assert client.get("/api/v1/datasets/luft").status_code == 404
