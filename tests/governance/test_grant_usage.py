"""Partner reads are counted against the grant on every data path that serves them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.governance import grants
from datenschatz.hub import Hub
from tests.governance.release_builders import bearer, granted, partner_dataset, who

POINTS = (
    "SELECT range AS id, range * 1.5 AS kw, "
    "ST_SetCRS(ST_Point(7.2 + range / 100, 51.5), 'EPSG:4326') AS geometry FROM range(12)"
)


def test_rows_aggregates_downloads_and_ogc_items_are_counted(sqlite_hub: Hub) -> None:
    partner_dataset(sqlite_hub, "anlagen", POINTS)
    grant_id = granted(sqlite_hub, ["anlagen"])
    client = TestClient(create_app(sqlite_hub))
    tom = bearer(sqlite_hub, "tom", "read")
    for url, params in (
        ("/api/v1/datasets/anlagen/rows", {"_limit": "5"}),
        ("/api/v1/datasets/anlagen/aggregate", {}),
        ("/api/v1/datasets/anlagen/download.csv", {}),
        ("/ogc/collections/anlagen/items", {"limit": "4"}),
    ):
        response = client.get(url, params=params, headers=tom)
        assert response.status_code == 200, (url, response.text)
    with sqlite_hub.session() as session:
        usage = grants.grant_usage(session, who(sqlite_hub, "rita"), grant_id)
    assert (usage["requests"], usage["downloads"], usage["rows"]) == (4, 1, 5 + 1 + 4)


def test_public_reads_and_other_callers_cost_no_count(hub: Hub) -> None:
    partner_dataset(hub, "anlagen", "SELECT 1 AS id, 2 AS kw")
    grant_id = granted(hub, ["anlagen"])
    grants.count_partner_read(hub, who(hub, "anna"), "anlagen", rows=3)  # admin: no grant
    grants.count_partner_read(hub, who(hub, "tom"), "gibt-es-nicht")
    grants.count_partner_read(hub, who(hub, "tom"), "anlagen", downloads=1)
    with hub.session() as session:
        usage = grants.grant_usage(session, who(hub, "rita"), grant_id)
    assert (usage["requests"], usage["downloads"], usage["rows"]) == (1, 1, 0)


def test_a_token_scoped_to_a_grant_reads_only_that_grants_data(sqlite_hub: Hub) -> None:
    partner_dataset(sqlite_hub, "anlagen", "SELECT 1 AS id, 2 AS kw")
    grant_id = granted(sqlite_hub, ["anlagen"])
    client = TestClient(create_app(sqlite_hub))
    url = "/api/v1/datasets/anlagen/rows"
    scoped = bearer(sqlite_hub, "tom", grants.grant_scope(grant_id))
    assert client.get(url, headers=scoped).status_code == 200
    other = bearer(sqlite_hub, "tom", grants.grant_scope(grant_id + 1))
    assert client.get(url, headers=other).status_code == 404


def test_sql_over_a_partner_dataset_counts_against_the_grant(sqlite_hub: Hub) -> None:
    partner_dataset(sqlite_hub, "netz-a", "SELECT range AS id, range AS kw FROM range(7)")
    grant_id = granted(sqlite_hub, ["netz-a"])
    client = TestClient(create_app(sqlite_hub))
    tom = bearer(sqlite_hub, "tom", "read")
    for q in ('SELECT * FROM "netz-a"', "WITH x AS (SELECT 1) SELECT kw FROM netz_a, x"):
        response = client.get("/api/v1/sql", params={"q": q}, headers=tom)
        assert response.status_code == 200, response.text
    assert client.get("/api/v1/sql", params={"q": "SELECT 1"}, headers=tom).status_code == 200
    with sqlite_hub.session() as session:
        usage = grants.grant_usage(session, who(sqlite_hub, "rita"), grant_id)
    assert (usage["requests"], usage["rows"]) == (2, 14)
