"""Every role, every access level, every read and write path the app has.

The paths come from the app's own OpenAPI description, so a route added later (CKAN, DCAT,
search, SensorThings, ...) is checked the day it appears: a dataset a role may not see must
answer exactly like a dataset that does not exist (404, same body), must not appear in any
listing or SQL table list, and a dataset it may see must answer like the public one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from datenschatz.access.policy import ensure_can_edit, ensure_dataset
from datenschatz.api.app import create_app
from datenschatz.errors import Forbidden, Gone, NotFound, Unauthorized
from datenschatz.governance.tokens import principal_for_token
from tests.governance.access_fixtures import (
    ABSENT,
    DRAFT,
    EDITORS,
    LEVELS,
    PUBLIC,
    ROLES,
    VISIBLE,
    WITHDRAWAL_REASON,
    WITHDRAWN,
    World,
    make_world,
)

# Dataset-keyed path parameters, and a value for the others a dataset route may have.
DATASET_PARAMS = ("slug", "collection_id")
OTHER_VALUES = {"feature_id": "1"}
# Routes without a dataset in the path that are not listings of datasets.
NOT_LISTINGS = {"/health", "/openapi.json"}
# Listings behind a templated path or with parameters: (route in the OpenAPI, URL).
MORE_LISTINGS = [
    ("/api/3/action/{action}", "/api/3/action/package_list"),
    ("/api/3/action/{action}", "/api/3/action/package_search?rows=1000"),
    ("/api/3/action/{action}", "/api/3/action/current_package_list_with_resources"),
    ("/api/3/action/{action}", '/api/3/action/package_search?facet.field=["access_level"]'),
    ("/api/action/{action}", "/api/action/package_list"),
    ("/api/v1/search", "/api/v1/search?q=mx&limit=100"),
    ("/api/v1/search", "/api/v1/search?facet=access_level&facet=organization&limit=100"),
]
# Look-ups by a query parameter: a hidden dataset must answer like an absent one.
QUERY_LOOKUPS = [
    ("/api/3/action/{action}", "/api/3/action/package_show?id={slug}"),
    ("/api/3/action/{action}", "/api/3/action/package_search?q={slug}"),
    ("/api/3/action/{action}", "/api/3/action/package_search?fq=name:{slug}"),
    ("/api/v1/search", "/api/v1/search?q={slug}"),
    ("/api/v1/releases", "/api/v1/releases?dataset={slug}"),
]
ALL_SLUGS = (*LEVELS, WITHDRAWN)


@pytest.fixture
def world(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> World:
    return make_world(tmp_path, database_url, monkeypatch, scopes={"read", "write"})


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(create_app(world.hub), raise_server_exceptions=False)


def _spec(client: TestClient) -> dict[str, Any]:
    spec: dict[str, Any] = client.get("/openapi.json").json()
    return spec


def _dataset_paths(client: TestClient, method: str) -> list[str]:
    paths = []
    for path, ops in _spec(client)["paths"].items():
        if method in ops and any("{" + p + "}" in path for p in DATASET_PARAMS):
            paths.append(path)
    return sorted(paths)


def _url(path: str, slug: str) -> str | None:
    url = path
    for name in DATASET_PARAMS:
        url = url.replace("{" + name + "}", slug)
    for name, value in OTHER_VALUES.items():
        url = url.replace("{" + name + "}", value)
    return None if "{" in url else url


def _same_as_absent(response: Response, absent: Response, slug: str) -> bool:
    """Whether a hidden dataset's answer is the answer for a dataset that does not exist."""
    if response.status_code != absent.status_code:
        return False
    return response.text.replace(slug, "<slug>") == absent.text.replace(ABSENT, "<slug>")


def test_read_paths_answer_per_role_and_access_level(client: TestClient, world: World) -> None:
    checked: set[str] = set()
    for path in _dataset_paths(client, "get"):
        public_url, absent_url = _url(path, PUBLIC), _url(path, ABSENT)
        if public_url is None or absent_url is None:
            continue
        baseline = client.get(public_url)
        if baseline.status_code == 404:
            continue  # the {slug} of this route names something else (organization, group)
        checked.add(path)
        # What a visible dataset answers: like the public one to anonymous callers, or (a
        # route for editors, such as privacy proposals) like the public one to an admin.
        expected = baseline.status_code
        if expected >= 400:
            expected = client.get(public_url, headers=world.headers("admin")).status_code
        for role in ROLES:
            headers = world.headers(role)
            absent = client.get(absent_url, headers=headers)
            assert absent.status_code == 404, (path, role, absent.text)
            for slug in LEVELS:
                url = _url(path, slug)
                assert url is not None
                response = client.get(url, headers=headers)
                where = (path, role, slug, response.status_code, response.text[:300])
                if slug in VISIBLE[role]:
                    if baseline.status_code < 400 or role in EDITORS:
                        assert response.status_code == expected, where
                    else:  # a route for those who may change the dataset
                        assert response.status_code in (401, 403), where
                else:
                    assert _same_as_absent(response, absent, slug), where
            gone = client.get(_url(path, WITHDRAWN) or "", headers=headers)
            if baseline.status_code < 400:  # a withdrawn dataset's public URLs: 410, why
                assert gone.status_code == 410, (path, role, gone.text[:300])
                assert gone.json()["error"]["details"]["reason"] == WITHDRAWAL_REASON
            elif role not in EDITORS:  # editors keep working on a withdrawn dataset
                assert gone.status_code in (401, 403, 404), (path, role, gone.text[:300])
    # The native REST dataset routes and the OGC collection routes at least.
    assert {
        "/api/v1/datasets/{slug}",
        "/api/v1/datasets/{slug}/versions",
        "/api/v1/datasets/{slug}/rows",
        "/api/v1/datasets/{slug}/aggregate",
        "/api/v1/datasets/{slug}/download.csv",
        "/ogc/collections/{collection_id}",
        "/ogc/collections/{collection_id}/items",
        "/ogc/collections/{collection_id}/items/{feature_id}",
    } <= checked


def test_listings_never_name_a_hidden_dataset(client: TestClient, world: World) -> None:
    listings = [
        path
        for path, ops in _spec(client)["paths"].items()
        if "get" in ops and "{" not in path and path not in NOT_LISTINGS
    ]
    assert "/api/v1/datasets" in listings
    assert "/ogc/collections" in listings
    for role in ROLES:
        hidden = set(LEVELS) - VISIBLE[role]
        if role not in EDITORS:  # admins and stewards keep a withdrawn dataset's history
            hidden.add(WITHDRAWN)
        for path in listings:
            if role == "admin" and path.startswith("/api/v1/admin/"):
                continue  # the audit log names every dataset, for admins only
            response = client.get(path, headers=world.headers(role))
            named = {slug for slug in hidden if slug in response.text}
            assert not named, (path, role, named)
        for route, url in MORE_LISTINGS:
            if route not in _spec(client)["paths"]:
                continue
            response = client.get(url, headers=world.headers(role))
            named = {slug for slug in hidden if slug in response.text}
            assert not named, (url, role, named)
        listed = client.get("/api/v1/datasets", headers=world.headers(role)).json()
        assert {d["slug"] for d in listed["datasets"]} == VISIBLE[role], role
        assert listed["total"] == len(VISIBLE[role])


def _sql(client: TestClient, world: World, role: str, q: str) -> Response:
    return client.get("/api/v1/sql", params={"q": q}, headers=world.headers(role))


def test_sql_tables_and_queries_per_role(client: TestClient, world: World) -> None:
    for role in ROLES:
        answer = _sql(client, world, role, "SHOW TABLES")
        assert answer.status_code == 200, answer.text
        names = {row[0] for row in answer.json()["rows"]}
        # A table exists for each visible dataset with a published version (not the draft).
        expected = VISIBLE[role] - {DRAFT}
        # Each table is reachable by its slug and by the slug with underscores.
        assert {n for n in names if n.startswith("mx")} == expected | {
            slug.replace("-", "_") for slug in expected
        }, role
        absent = _sql(client, world, role, f'SELECT count(*) FROM "{ABSENT}"')
        assert absent.status_code == 400
        for slug in (*LEVELS, WITHDRAWN):
            response = _sql(client, world, role, f'SELECT count(*) FROM "{slug}"')
            if slug in expected:
                assert response.status_code == 200, (role, slug, response.text)
                assert response.json()["rows"] == [[2]]
            else:
                assert _same_as_absent(response, absent, slug), (role, slug, response.text)


def test_write_paths_per_role_and_access_level(client: TestClient, world: World) -> None:
    checked = []
    routes = [
        (method, path)
        for method in ("patch", "put", "post", "delete")
        for path in _dataset_paths(client, method)
    ]
    for method, path in routes:
        admin = world.headers("admin")
        absent_url, public_url = _url(path, ABSENT), _url(path, PUBLIC)
        if absent_url is None or public_url is None:
            continue
        probe = client.request(method, absent_url, json={}, headers=admin)
        if probe.status_code != 404:
            continue  # the body is validated first (the same for every dataset)
        if client.request(method, public_url, json={}, headers=admin).status_code == 404:
            continue  # not a dataset route
        checked.append((method, path))
        for role in ROLES:
            headers = world.headers(role)
            absent = client.request(method, absent_url, json={}, headers=headers)
            for slug in LEVELS:
                response = client.request(method, _url(path, slug) or "", json={}, headers=headers)
                where = (method, path, role, slug, response.status_code, response.text[:300])
                if role in EDITORS:
                    assert response.status_code not in (401, 403, 404), where
                elif slug not in VISIBLE[role]:
                    assert _same_as_absent(response, absent, slug), where
                else:
                    assert response.status_code == (401 if role == "anonymous" else 403), where
    assert ("patch", "/api/v1/datasets/{slug}/metadata") in checked


def test_policy_functions_per_role_and_access_level(world: World) -> None:
    """ensure_dataset / ensure_can_edit directly, for every role including anonymous."""
    from datenschatz.access.policy import ANONYMOUS

    with world.hub.session() as session:
        for role in ROLES:
            secret = world.secrets.get(role)
            principal = principal_for_token(session, secret) if secret else ANONYMOUS
            for slug in LEVELS:
                if slug in VISIBLE[role]:
                    assert ensure_dataset(session, principal, slug).slug == slug
                else:
                    with pytest.raises(NotFound) as hidden:
                        ensure_dataset(session, principal, slug)
                    assert json.dumps(hidden.value.to_dict()).count(slug) == 1  # only the echo
                expected: type[Exception] | None
                if role in EDITORS:
                    expected = None
                elif slug not in VISIBLE[role]:
                    expected = NotFound
                else:
                    expected = Unauthorized if role == "anonymous" else Forbidden
                if expected is None:
                    assert ensure_can_edit(session, principal, slug).slug == slug
                else:
                    with pytest.raises(expected):
                        ensure_can_edit(session, principal, slug)
            with pytest.raises(Gone):
                ensure_dataset(session, principal, WITHDRAWN)


def test_look_ups_by_query_parameter_do_not_tell_hidden_from_absent(
    client: TestClient, world: World
) -> None:
    paths = _spec(client)["paths"]
    checked = 0
    for route, template in QUERY_LOOKUPS:
        if route not in paths:
            continue
        checked += 1
        for role in ROLES:
            headers = world.headers(role)
            absent = client.get(template.format(slug=ABSENT), headers=headers)
            for slug in LEVELS:  # (the withdrawn one was public: its 410 is no secret)
                if slug in VISIBLE[role]:
                    continue
                response = client.get(template.format(slug=slug), headers=headers)
                assert _same_as_absent(response, absent, slug), (
                    template,
                    role,
                    slug,
                    response.text[:300],
                    absent.text[:300],
                )
    assert checked >= 1


def test_search_totals_and_facet_counts_count_only_visible_datasets(
    client: TestClient, world: World
) -> None:
    paths = _spec(client)["paths"]
    if "/api/v1/search" not in paths:
        pytest.skip("no search route yet")
    for role in ROLES:
        headers = world.headers(role)
        found = client.get(
            "/api/v1/search",
            params=[("facet", "access_level"), ("facet", "organization"), ("limit", "100")],
            headers=headers,
        ).json()
        slugs = [r["slug"] for r in found["results"]]
        assert set(slugs) <= VISIBLE[role], role
        assert found["total"] == len(slugs), role
        levels: dict[str, int] = {}
        for r in found["results"]:
            levels[r["access_level"]] = levels.get(r["access_level"], 0) + 1
        facet = {f["value"]: f["count"] for f in found["facets"]["access_level"]}
        assert facet == levels, role
        assert sum(f["count"] for f in found["facets"]["organization"]) == len(slugs), role
        if "/api/3/action/{action}" in paths:
            ckan = client.get(
                "/api/3/action/package_search",
                params={"rows": "1000", "facet.field": '["access_level"]'},
                headers=headers,
            ).json()["result"]
            assert ckan["count"] == len(ckan["results"]) == len(slugs), role
            assert ckan["facets"]["access_level"] == levels, role
