"""The real ckanapi client (RemoteCKAN) against the app served by uvicorn on 127.0.0.1.

Both of ckanapi's ways of calling are used: POST with a JSON body (its default) and GET with
query parameters (``get_only``). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from datenschatz.api.app import create_app
from datenschatz.governance.accounts import create_user, get_user
from datenschatz.governance.tokens import create_token
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.api.test_ogc_owslib import serving
from tests.catalog.test_search import CORPUS, build_corpus
from tests.conftest import IN_CI, make_hub
from tests.helpers import add_version
from tests.query.builders import BACKENDS, clean_postgres

try:
    import ckanapi
except ImportError:  # pragma: no cover - ckanapi is a dev dependency
    if IN_CI:
        raise
    pytest.skip("ckanapi is not installed (pip install ckanapi)", allow_module_level=True)

EXTRA = 23  # more datasets, so that paging takes several pages


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    directory = tmp_path_factory.mktemp("ckanapi")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        clean_postgres(url)
    hub = make_hub(directory / "data", url)
    build_corpus(hub)
    for n in range(EXTRA):
        slug = f"messreihe-{n:02d}"
        add_version(hub, slug, f"SELECT {n} AS n, 'Reihe {n}' AS name", org="stadtwerke")
        publish(hub, slug, actor="test")
    return hub


@pytest.fixture(scope="module")
def base_url(hub: Hub) -> Iterator[str]:
    with serving(create_app(hub)) as url:
        yield url


@pytest.fixture(scope="module", params=["post", "get"])
def ckan(request: pytest.FixtureRequest, base_url: str) -> Iterator[Any]:
    with ckanapi.RemoteCKAN(
        base_url, user_agent="datenschatz-tests", get_only=request.param == "get"
    ) as remote:
        yield remote


TOTAL = len(CORPUS) + EXTRA


def test_action_calls_return_results(ckan: Any) -> None:
    status = ckan.action.status_show()
    assert status["api_version"] == 3
    package = ckan.action.package_show(id="baumkataster")
    assert package["license_id"] == "cc-by/4.0"
    assert package["organization"]["name"] == "stadt"
    assert [r["format"] for r in package["resources"]][:2] == ["CSV", "JSON"]
    resource = ckan.action.resource_show(id=package["resources"][0]["id"])
    assert resource["package_id"] == "baumkataster"
    orgs = ckan.action.organization_list(all_fields=True)
    assert {o["name"]: o["package_count"] for o in orgs} == {"stadt": 3, "stadtwerke": 1 + EXTRA}
    assert ckan.action.organization_show(id="stadt")["title"] == "Stadt Herne"
    assert "Stadtgrün" in ckan.action.tag_list()
    assert ckan.action.group_list() == []
    found = ckan.action.package_search(q="Überschwemmung", **{"facet.field": ["organization"]})
    assert [p["name"] for p in found["results"]] == ["ueberschwemmung"]
    assert found["search_facets"]["organization"]["items"][0]["name"] == "stadt"
    records = ckan.action.datastore_search(
        resource_id="messreihe-07.csv", filters=json.dumps({"n": 7}), fields=["name"]
    )
    assert records["records"] == [{"name": "Reihe 7"}]
    sql = ckan.action.datastore_search_sql(sql='SELECT sum(n) AS s FROM "messreihe-01"')
    assert sql["records"] == [{"s": 1}]


def test_paging_through_all_datasets(ckan: Any) -> None:
    names: list[str] = []
    start = 0
    while True:
        page = ckan.action.package_search(rows=7, start=start, sort="name asc")
        assert page["count"] == TOTAL
        if not page["results"]:
            break
        names.extend(p["name"] for p in page["results"])
        start += 7
    assert len(names) == TOTAL
    assert names == sorted(names)
    assert names == ckan.action.package_list()
    assert ckan.action.package_list(limit=5, offset=5) == names[5:10]


def test_datastore_offset_pages(ckan: Any) -> None:
    page = ckan.action.datastore_search(resource_id="messreihe-03.json", limit=1, offset=0)
    assert page["total"] == 1
    assert len(page["records"]) == 1
    assert ckan.action.datastore_search(resource_id="messreihe-03.json", offset=1)["records"] == []


def test_errors_raise_the_ckanapi_exceptions(ckan: Any) -> None:
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="baumgeheimnis")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id="gibt-es-nicht.csv")
    with pytest.raises(ckanapi.ValidationError) as caught:
        ckan.action.package_show()
    assert "id" in caught.value.error_dict
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id="haushalt.csv", limit="viele")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="farbe:rot")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(sort="beliebtheit desc")
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.datastore_search_sql(sql="COPY haushalt TO 'raus.csv'")
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.package_create(name="neu")


def test_api_keys_are_read_the_ckan_way(hub: Hub, base_url: str) -> None:
    with hub.session() as session:
        create_user(session, "ckan-skript", actor="test")
        secret = create_token(
            session, get_user(session, "ckan-skript"), scopes=("read",), actor="test"
        ).secret
    # ckanapi sends the key as a bare Authorization header and as X-CKAN-API-Key.
    with ckanapi.RemoteCKAN(base_url, apikey=secret, user_agent="datenschatz-tests") as remote:
        assert remote.action.package_show(id="haushalt")["name"] == "haushalt"
    with (
        ckanapi.RemoteCKAN(base_url, apikey="falsch", user_agent="datenschatz-tests") as remote,
        pytest.raises(ckanapi.NotAuthorized),
    ):
        remote.action.package_list()
