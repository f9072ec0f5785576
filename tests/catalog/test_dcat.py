"""DCAT-AP.de output: what the catalog holds, distributions and services, Hydra paging, routes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import DCAT, DCTERMS, RDF

from datenschatz.access.policy import ANONYMOUS
from datenschatz.api.app import create_app
from datenschatz.catalog import dcat, vocab
from datenschatz.catalog.metadata import update_metadata
from datenschatz.db.models import AccessLevel, utcnow
from datenschatz.hub import Hub
from tests.catalog.publishing import ADMIN, GEO_SQL, make_dataset

BASE = "https://daten.herne.example"
HYDRA = dcat.HYDRA
META = {
    "description": "Messstationen im Stadtgebiet.",
    "keywords": ["Luft"],
    "themes": ["ENVI"],
    "contact": {"name": "Open-Data-Team", "email": "opendata@herne.example"},
    "geocoding": ["05916000"],
    "accrual_periodicity": "DAILY",
}


def _uri(path: str) -> rdflib.URIRef:
    return rdflib.URIRef(BASE + path)


def _build(hub: Hub) -> Hub:
    make_dataset(hub, "stationen", GEO_SQL, meta=META)
    make_dataset(hub, "tabelle", meta={"description": "Eine Tabelle."})
    make_dataset(hub, "intern", access=AccessLevel.INTERNAL)
    make_dataset(hub, "entwurf", access=None)
    return hub


@pytest.fixture
def catalog_hub(hub: Hub) -> Hub:
    return _build(hub)


@pytest.fixture
def served_hub(sqlite_hub: Hub) -> Hub:
    """The routes are database-agnostic: once on the embedded default is enough."""
    return _build(sqlite_hub)


def _page(hub: Hub, **kwargs: object) -> dcat.CatalogPage:
    with hub.session() as session:
        return dcat.catalog_page(session, ANONYMOUS, BASE, **kwargs)  # type: ignore[arg-type]


def test_catalog_holds_only_what_the_caller_may_see(catalog_hub: Hub) -> None:
    page = _page(catalog_hub)
    datasets = set(page.graph.objects(_uri("/catalog"), DCAT.dataset))
    assert datasets == {_uri("/datasets/stationen"), _uri("/datasets/tabelle")}
    assert page.total == 2
    text = page.graph.serialize(format="turtle")
    assert "intern" not in text
    assert "entwurf" not in text


def test_a_distribution_per_download_format_and_the_apis_as_services(catalog_hub: Hub) -> None:
    g = _page(catalog_hub).graph
    geo = _uri("/datasets/stationen")
    downloads = {
        str(u) for d in g.objects(geo, DCAT.distribution) for u in g.objects(d, DCAT.downloadURL)
    }
    assert downloads == {
        f"{BASE}/api/v1/datasets/stationen/download.{f}"
        for f in ("csv", "json", "ndjson", "geojson", "parquet", "xlsx")
    }
    table_downloads = {
        str(u).rsplit(".", 1)[-1]
        for d in g.objects(_uri("/datasets/tabelle"), DCAT.distribution)
        for u in g.objects(d, DCAT.downloadURL)
    }
    assert table_downloads == {"csv", "json", "ndjson", "parquet", "xlsx"}  # no GeoJSON
    services = set(g.subjects(DCAT.servesDataset, geo))
    endpoints = {str(g.value(s, DCAT.endpointURL)) for s in services}
    assert endpoints == {
        f"{BASE}/api/v1/datasets/stationen",
        f"{BASE}/api/3/action/package_show?id=stationen",
        f"{BASE}/ogc/collections/stationen",
    }
    assert all((s, RDF.type, DCAT.DataService) in g for s in services)
    assert services <= set(g.objects(_uri("/catalog"), DCAT.service))
    # each service is also reachable from a distribution (dcat:accessService)
    assert services <= {
        s for d in g.objects(geo, DCAT.distribution) for s in g.objects(d, DCAT.accessService)
    }
    # coverage and description
    assert (geo, DCTERMS.spatial, rdflib.URIRef(vocab.MUNICIPALITY_BASE + "05916000")) in g
    boxes = [g.value(p, DCAT.bbox) for p in g.objects(geo, DCTERMS.spatial)]
    assert any(b is not None and str(b).startswith("POLYGON((7.2") for b in boxes)
    period = g.value(geo, DCTERMS.temporal)
    assert str(g.value(period, DCAT.startDate)).startswith("2024-01-01")
    assert str(g.value(period, DCAT.endDate)).startswith("2024-01-03")


def test_every_download_url_answers(served_hub: Hub) -> None:
    client = TestClient(create_app(served_hub))
    body = client.get("/catalog.ttl").text
    g = rdflib.Graph().parse(data=body, format="turtle")
    urls = {str(u) for u in g.objects(None, DCAT.downloadURL)} | {
        str(u) for u in g.objects(None, DCAT.endpointURL)
    }
    assert len(urls) == 6 + 5 + 3 + 2  # downloads, services (REST, CKAN, OGC; REST, CKAN)
    for url in urls:
        path = url.removeprefix("http://testserver")
        assert client.get(path).status_code == 200, path


def test_hydra_paging_walks_every_dataset_once(
    catalog_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        make_dataset(catalog_hub, f"weitere-{i}")
    monkeypatch.setattr(dcat, "PAGE_SIZE", 2)
    seen: list[rdflib.term.Node] = []
    page_number = 1
    while True:
        page = _page(catalog_hub, page=page_number)
        g = page.graph
        seen += list(g.objects(_uri("/catalog"), DCAT.dataset))
        view = g.value(_uri("/catalog"), HYDRA.view)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in g
        assert str(g.value(_uri("/catalog"), HYDRA.totalItems)) == "5"
        assert str(g.value(view, HYDRA.last)).endswith("page=3")
        following = g.value(view, HYDRA.next)
        if following is None:
            break
        assert str(following).endswith(f"page={page_number + 1}")
        page_number += 1
    assert page_number == 3
    assert len(seen) == len(set(seen)) == 5


def test_modified_since_narrows_the_catalog(catalog_hub: Hub) -> None:
    later = utcnow() + timedelta(hours=1)
    assert _page(catalog_hub, modified_since=later).total == 0
    assert _page(catalog_hub, modified_since=utcnow() - timedelta(hours=1)).total == 2


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_routes_serialize_and_negotiate(served_hub: Hub) -> None:
    client = TestClient(create_app(served_hub))
    for suffix, (fmt, media) in dcat.SERIALIZATIONS.items():
        response = client.get(f"/catalog.{suffix}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        g = rdflib.Graph().parse(data=response.content, format=fmt)
        assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 2
        one = client.get(f"/datasets/stationen.{suffix}")
        assert one.status_code == 200
        g = rdflib.Graph().parse(data=one.content, format=fmt)
        assert set(g.subjects(RDF.type, DCAT.Dataset)) == {
            rdflib.URIRef("http://testserver/datasets/stationen")
        }
    negotiated = client.get(
        "/catalog", headers={"Accept": "application/rdf+xml;q=0.5, application/ld+json"}
    )
    assert negotiated.headers["content-type"].startswith("application/ld+json")
    assert negotiated.headers["vary"] == "Accept"
    assert (
        client.get("/catalog", headers={"Accept": "*/*"})
        .headers["content-type"]
        .startswith("text/turtle")
    )
    assert client.get("/datasets/intern.ttl").status_code == 404
    assert client.get("/datasets/entwurf.jsonld").status_code == 404
    bad = client.get("/catalog.ttl", params={"page": "0"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["parameter"] == "page"


def test_conditional_requests_and_a_fresh_answer_after_a_change(served_hub: Hub) -> None:
    client = TestClient(create_app(served_hub))
    first = client.get("/catalog.ttl")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    assert client.get("/catalog.ttl", headers={"If-None-Match": etag}).status_code == 304
    with served_hub.session() as session:
        update_metadata(session, ADMIN, "tabelle", {"keywords": ["Neu"]})
    changed = client.get("/catalog.ttl", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert '"Neu"@de' in changed.text
    one = client.get("/datasets/tabelle.ttl")
    assert (
        client.get(
            "/datasets/tabelle.ttl", headers={"If-None-Match": one.headers["etag"]}
        ).status_code
        == 304
    )
