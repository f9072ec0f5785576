"""GET/POST /api/v1/sql on SQLite and PostgreSQL catalogs, and the service below it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datenschatz.access.policy import ANONYMOUS, ensure_version
from datenschatz.api.app import create_app
from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.config import Settings
from datenschatz.db.migrate import upgrade
from datenschatz.errors import SqlError
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from datenschatz.services.sql import run_sql, sql_tables
from tests.api.test_app import assert_error_shape
from tests.conftest import _clean_postgres
from tests.helpers import add_version
from tests.store.test_sandbox import ESCAPES

URL = "/api/v1/sql"


@dataclass(frozen=True)
class World:
    hub: Hub
    client: TestClient
    unpublished: Path


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> World:
    """One catalog per database: published, unpublished and draft data, short limits."""
    tmp = tmp_path_factory.mktemp(f"sql-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _clean_postgres(url)
    hub = Hub(
        Settings(
            data_dir=tmp / "data",
            database_url=url,
            query_timeout_seconds=0.5,
            query_memory_limit="256MB",
        )
    )
    hub.store.ensure()
    upgrade(hub.engine)
    add_version(hub, "luft-bochum", "SELECT range AS id, range * 2.0::DOUBLE AS pm10 FROM range(5)")
    publish(hub, "luft-bochum", actor="test")
    newer = add_version(hub, "luft-bochum", "SELECT 99 AS id, 1.0::DOUBLE AS pm10")
    add_version(hub, "entwurf", "SELECT 'secret' AS word")  # a draft, never published
    add_version(
        hub, "orte", "SELECT 1 AS id, ST_SetCRS(ST_Point(7.22, 51.54), 'EPSG:4326') AS geometry"
    )
    publish(hub, "orte", actor="test")
    add_version(hub, "zaehler", "SELECT 1 AS stand")
    publish(hub, "zaehler", actor="test")
    app = create_app(hub)
    with hub.session() as session:
        unpublished = hub.store.path(
            get_version(session, get_dataset(session, "luft-bochum"), newer.number).path
        )
    return World(hub, TestClient(app, raise_server_exceptions=False), unpublished)


@pytest.fixture
def client(world: World) -> TestClient:
    return world.client


def sql(client: TestClient, q: str, **params: Any) -> Any:
    response = client.get(URL, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def refused(world: World, response: Any, code: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert_error_shape(body, code)
    assert str(world.hub.data_dir) not in response.text
    assert "/versions/" not in response.text
    return body


# --- answers --------------------------------------------------------------------------------


def test_get_answers_columns_rows_truncated_and_timing(client: TestClient) -> None:
    body = sql(client, 'SELECT id, pm10 FROM "luft-bochum" ORDER BY id')
    assert body["columns"] == [{"name": "id", "type": "BIGINT"}, {"name": "pm10", "type": "DOUBLE"}]
    assert body["rows"] == [[0, 0.0], [1, 2.0], [2, 4.0], [3, 6.0], [4, 8.0]]
    assert body["truncated"] is False
    assert body["row_count"] == 5
    assert body["limit"] == 10_000
    assert body["elapsed_ms"] >= 0


def test_the_table_is_the_published_version_not_the_newest(client: TestClient) -> None:
    body = sql(client, "SELECT max(id) AS top, count(*) AS n FROM luft_bochum")
    assert body["rows"] == [[4, 5]]


def test_post_as_json_form_or_plain_text_answers_alike(client: TestClient) -> None:
    q = 'SELECT count(*) AS n FROM "luft-bochum"'
    as_json = client.post(URL, json={"q": q, "_limit": 5})
    as_form = client.post(URL, data={"q": q, "_limit": "5"})
    as_text = client.post(URL, content=q, headers={"Content-Type": "application/sql"})
    for response in (as_json, as_form, as_text):
        assert response.status_code == 200, response.text
        assert response.json()["rows"] == [[5]]
    assert as_json.json()["limit"] == as_form.json()["limit"] == 5


def test_limit_truncates_and_says_so(client: TestClient) -> None:
    body = sql(client, 'SELECT id FROM "luft-bochum" ORDER BY id', _limit=2)
    assert body["rows"] == [[0], [1]]
    assert body["truncated"] is True
    assert sql(client, 'SELECT id FROM "luft-bochum"', _limit=5)["truncated"] is False


def test_geometry_comes_back_as_geojson(client: TestClient) -> None:
    body = sql(client, "SELECT geometry, ST_Y(geometry) AS lat FROM orte")
    assert body["columns"][0] == {"name": "geometry", "type": "GEOMETRY"}
    assert body["rows"] == [[{"type": "Point", "coordinates": [7.22, 51.54]}, 51.54]]


def test_show_tables_lists_only_what_the_caller_may_see(client: TestClient) -> None:
    names = {row[0] for row in sql(client, "SHOW TABLES")["rows"]}
    assert names == {"luft-bochum", "luft_bochum", "orte", "zaehler"}


def test_publishing_a_new_version_changes_the_table(world: World) -> None:
    assert sql(world.client, "SELECT stand FROM zaehler")["rows"] == [[1]]
    add_version(world.hub, "zaehler", "SELECT 2 AS stand")
    publish(world.hub, "zaehler", actor="test")
    assert sql(world.client, "SELECT stand FROM zaehler")["rows"] == [[2]]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, -1, 10_001, "many"])
def test_a_bad_limit_is_a_400_naming_the_parameter(client: TestClient, limit: int | str) -> None:
    response = client.get(URL, params={"q": "SELECT 1", "_limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == "_limit"
    posted = client.post(URL, json={"q": "SELECT 1", "_limit": limit})
    assert posted.status_code == 400
    assert posted.json()["error"]["details"]["parameter"] == "_limit"


def test_a_missing_query_is_a_400_naming_q(client: TestClient) -> None:
    for response in (
        client.get(URL),
        client.post(URL, json={"query": "SELECT 1"}),
        client.post(URL, json=["SELECT 1"]),
        client.post(URL, content=b"{not json", headers={"Content-Type": "application/json"}),
        client.post(URL, content=b"SELECT 1", headers={"Content-Type": "image/png"}),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"]["parameter"] == "q"


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "code"), [e[1:] for e in ESCAPES], ids=[e[0] for e in ESCAPES])
def test_escape_attempt_is_refused_with_a_400(world: World, q: str, code: str) -> None:
    q = q.format(root=world.hub.data_dir, unpublished=world.unpublished)
    body = refused(world, world.client.get(URL, params={"q": q}), code)
    assert body["error"]["details"]["parameter"] == "q"
    assert refused(world, world.client.post(URL, json={"q": q}), code) == body
    assert not list(world.hub.data_dir.glob("*.csv"))
    assert not (world.hub.data_dir / "export").exists()


def test_the_unpublished_version_file_stays_unreadable(world: World) -> None:
    for q, code in (
        (f"SELECT * FROM read_parquet('{world.unpublished}')", "sql_forbidden"),
        (f"SELECT * FROM parquet_scan(['{world.unpublished}'])", "sql_forbidden"),
        (f"SELECT * FROM '{world.unpublished}'", "sql_forbidden"),
    ):
        body = refused(world, world.client.get(URL, params={"q": q}), code)
        assert str(world.unpublished) not in body["error"]["message"]


def test_a_draft_dataset_fails_exactly_like_a_table_that_never_existed(world: World) -> None:
    hidden = refused(
        world, world.client.get(URL, params={"q": "SELECT * FROM entwurf"}), "sql_error"
    )
    missing = refused(world, world.client.get(URL, params={"q": "SELECT * FROM nie"}), "sql_error")
    assert hidden["error"]["message"].replace("entwurf", "?") == missing["error"][
        "message"
    ].replace("nie", "?")
    assert hidden["error"]["details"].keys() == missing["error"]["details"].keys()


def test_runaway_queries_stop_with_a_timeout_400(world: World) -> None:
    for q in (
        "SELECT count(*) FROM range(1000000) a CROSS JOIN range(1000000) b",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
    ):
        body = refused(world, world.client.get(URL, params={"q": q}), "sql_timeout")
        assert body["error"]["details"]["timeout_seconds"] == 0.5


def test_the_memory_limit_is_a_400(world: World) -> None:
    q = "SELECT length(string_agg(repeat('x', 1000), '')) FROM range(1000000)"
    body = refused(world, world.client.get(URL, params={"q": q}), "sql_memory_limit")
    assert body["error"]["details"]["memory_limit"] == "256MB"


# --- documentation and the service ----------------------------------------------------------


def test_openapi_documents_get_and_post(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    get, post = paths[URL]["get"], paths[URL]["post"]
    assert {p["name"] for p in get["parameters"]} == {"q", "_limit"}
    assert "sql_forbidden" in get["description"]
    assert set(post["requestBody"]["content"]) >= {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert "400" in get["responses"]


def test_the_service_runs_without_http(world: World) -> None:
    result = run_sql(world.hub, ANONYMOUS, 'SELECT count(*) FROM "luft-bochum"', limit=1)
    assert result.rows == [[5]]
    with pytest.raises(SqlError) as caught:
        run_sql(world.hub, ANONYMOUS, "SELECT * FROM entwurf")
    assert caught.value.code == "sql_error"


def test_the_tables_are_what_the_access_policy_says(world: World) -> None:
    with world.hub.session() as session:
        tables = sql_tables(session, world.hub, ANONYMOUS)
        expected = {
            slug: world.hub.store.path(ensure_version(session, ANONYMOUS, slug).path)
            for slug in tables
        }
    assert tables == expected
    assert set(tables) == {"luft-bochum", "orte", "zaehler"}
