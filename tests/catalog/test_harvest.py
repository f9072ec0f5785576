"""Harvesting DCAT catalogs and CKAN portals: metadata-only drafts, idempotent, withdrawals."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rdflib.namespace import DCAT
from sqlalchemy import func, select

from datenschatz.access.policy import ANONYMOUS, visible_datasets
from datenschatz.api.app import create_app
from datenschatz.catalog import dcat, harvest
from datenschatz.catalog.datasets import get_or_create_org
from datenschatz.catalog.metadata import read_metadata
from datenschatz.db.catalog_models import HarvestRecord
from datenschatz.db.models import Dataset, DatasetStatus, OrganizationType
from datenschatz.errors import InputError, NotFound, Unauthorized
from datenschatz.hub import Hub
from tests.catalog.publishing import ADMIN, GEO_SQL, make_dataset, serving_app


def _package(n: int, **more: Any) -> dict[str, Any]:
    return {
        "id": f"0000-{n}",
        "name": f"paket-{n}",
        "title": f"Baumkataster Teil {n}",
        "notes": f"Straßenbäume, Teil {n}.",
        "license_id": "dl-de-by-2.0",
        "maintainer": "Grünflächenamt",
        "maintainer_email": "gruen@bochum.example",
        "tags": [{"name": "Bäume"}, {"name": "Umwelt"}],
        "groups": [{"name": "envi"}, {"name": "nichtthema"}],
        "url": "https://www.bochum.example/baeume",
        "metadata_modified": "2024-05-01T10:00:00",
        "resources": [
            {"url": f"https://daten.bochum.example/{n}.csv", "format": "CSV", "name": "CSV"},
            {"url": "ftp://nicht-http", "format": "CSV"},
        ],
        **more,
    }


class Portal:
    """A tiny CKAN portal and DCAT server on 127.0.0.1 serving what the test puts in."""

    def __init__(self) -> None:
        self.packages: list[dict[str, Any]] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                portal.requests.append(self.path)
                url = urlsplit(self.path)
                if url.path == "/api/3/action/package_search":
                    query = parse_qs(url.query)
                    start, rows = int(query["start"][0]), int(query["rows"][0])
                    body = json.dumps(
                        {
                            "success": True,
                            "result": {
                                "count": len(portal.packages),
                                "results": portal.packages[start : start + rows],
                            },
                        }
                    ).encode()
                    self._send(200, "application/json", body)
                elif url.path in portal.files:
                    media, body = portal.files[url.path]
                    self._send(200, media, body)
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, media: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def portal() -> Iterator[Portal]:
    served = Portal()
    yield served
    served.close()


@pytest.fixture
def org_hub(hub: Hub) -> Hub:
    with hub.session() as session:
        get_or_create_org(session, "stadt-bochum", "Stadt Bochum", OrganizationType.CITY)
    return hub


def _harvested(hub: Hub) -> dict[str, Dataset]:
    with hub.session() as session:
        rows = session.scalars(
            select(Dataset).join(HarvestRecord, HarvestRecord.dataset_id == Dataset.id)
        ).all()
        for d in rows:
            session.expunge(d)
        return {d.extra["harvest"]["remote_id"]: d for d in rows}


def test_ckan_harvest_is_idempotent_and_withdraws_what_is_gone(
    org_hub: Hub, portal: Portal
) -> None:
    portal.packages = [_package(n) for n in range(5)]
    with org_hub.session() as session:
        first = harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum", rows=2)
    assert len(first.created) == 5
    assert sum("package_search" in r for r in portal.requests) == 3  # 2 + 2 + 1
    harvested = _harvested(org_hub)
    assert set(harvested) == {f"0000-{n}" for n in range(5)}
    one = harvested["0000-1"]
    assert one.status is DatasetStatus.DRAFT
    assert one.published_version_id is None
    assert one.title == "Baumkataster Teil 1"
    assert one.extra["remote_distributions"] == [
        {"url": "https://daten.bochum.example/1.csv", "format": "CSV", "title": "CSV"}
    ]
    with org_hub.session() as session:
        meta = read_metadata(session.get_one(Dataset, one.id))
    assert meta.licence == "dl-by-de/2.0"
    assert meta.themes == ["ENVI"]
    assert meta.keywords == ["Bäume", "Umwelt"]
    assert meta.contact is not None
    assert meta.contact.email == "gruen@bochum.example"

    # the same again: nothing new, nothing changed
    with org_hub.session() as session:
        again = harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum", rows=2)
    assert again.created == []
    assert again.updated == []
    assert len(again.unchanged) == 5
    with org_hub.session() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 5

    # one changes, one disappears
    portal.packages = [_package(n) for n in range(4)]
    portal.packages[0]["title"] = "Baumkataster Teil 0, neu"
    with org_hub.session() as session:
        third = harvest.harvest_ckan(session, ADMIN, portal.url + "/", "stadt-bochum", rows=2)
    assert len(third.updated) == 1
    assert len(third.withdrawn) == 1
    harvested = _harvested(org_hub)
    assert harvested["0000-4"].status is DatasetStatus.WITHDRAWN
    assert harvested["0000-0"].title == "Baumkataster Teil 0, neu"
    assert len(harvested) == 5

    # and comes back
    portal.packages.append(_package(4))
    with org_hub.session() as session:
        harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum")
    assert _harvested(org_hub)["0000-4"].status is DatasetStatus.DRAFT


def test_harvested_datasets_stay_hidden_from_the_public(org_hub: Hub, portal: Portal) -> None:
    portal.packages = [_package(1)]
    with org_hub.session() as session:
        harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum")
    with org_hub.session() as session:
        visible = session.scalar(
            select(func.count()).select_from(Dataset).where(visible_datasets(ANONYMOUS))
        )
    assert visible == 0


def test_remote_values_outside_our_vocabularies_are_dropped_not_fatal(
    org_hub: Hub, portal: Portal
) -> None:
    portal.packages = [
        _package(1, license_id="proprietaer-xyz", maintainer_email="kaputt", url="kein-link")
    ]
    with org_hub.session() as session:
        report = harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum")
    assert report.dropped_fields >= 2  # e-mail inside the contact, landing page
    with org_hub.session() as session:
        dataset = session.scalars(select(Dataset)).one()
        meta = read_metadata(dataset)
    assert meta.licence == "other-open"
    assert meta.landing_page is None


def _dcat_page(base: str, n: int, following: str | None) -> bytes:
    nxt = f"<{base}/dcat/p{n}.ttl> hydra:next <{following}> ." if following else ""
    return f"""
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
<{base}/catalog> a dcat:Catalog ; dcat:dataset <{base}/ds/{n}> ;
    hydra:view <{base}/dcat/p{n}.ttl> .
{nxt}
<{base}/ds/{n}> a dcat:Dataset ;
    dct:identifier "remote-{n}" ;
    dct:title "Luftmessung {n}"@de , "Air measurement {n}"@en ;
    dct:description "Messwerte {n}."@de ;
    dcat:theme <http://publications.europa.eu/resource/authority/data-theme/ENVI> ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/DAILY> ;
    dct:spatial <http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05913000> ;
    dcat:contactPoint [ vcard:fn "Umweltamt" ; vcard:hasEmail <mailto:umwelt@dortmund.example> ] ;
    dcat:distribution [ dcat:accessURL <https://dortmund.example/{n}.csv> ;
        dct:license <http://dcat-ap.de/def/licenses/cc-by/4.0> ;
        dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ] .
""".encode()


def test_dcat_harvest_follows_hydra_pages(org_hub: Hub, portal: Portal) -> None:
    base = portal.url
    portal.files["/dcat/p1.ttl"] = ("text/turtle", _dcat_page(base, 1, f"{base}/dcat/p2.ttl"))
    portal.files["/dcat/p2.ttl"] = ("text/turtle", _dcat_page(base, 2, None))
    with org_hub.session() as session:
        report = harvest.harvest_dcat(session, ADMIN, f"{base}/dcat/p1.ttl", "stadt-bochum")
    assert len(report.created) == 2
    harvested = _harvested(org_hub)
    assert set(harvested) == {"remote-1", "remote-2"}
    with org_hub.session() as session:
        meta = read_metadata(session.get_one(Dataset, harvested["remote-2"].id))
    assert meta.title_en == "Air measurement 2"
    assert meta.licence == "cc-by/4.0"
    assert meta.geocoding == ["05913000"]
    assert meta.accrual_periodicity == "DAILY"
    assert harvested["remote-2"].extra["remote_distributions"][0]["format"] == "CSV"
    # the second page only: the first page's dataset is gone at the source
    with org_hub.session() as session:
        again = harvest.harvest_dcat(session, ADMIN, f"{base}/dcat/p2.ttl", "stadt-bochum")
    assert again.withdrawn == []  # another source key: p2 is a source of its own
    assert len(again.created) == 1


def test_dcat_harvest_from_a_file_and_its_withdrawals(org_hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "katalog.ttl"
    path.write_bytes(
        _dcat_page("https://x.example", 1, None) + _dcat_page("https://x.example", 2, None)
    )
    with org_hub.session() as session:
        assert len(harvest.harvest_dcat(session, ADMIN, str(path), "stadt-bochum").created) == 2
    path.write_bytes(_dcat_page("https://x.example", 2, None))
    with org_hub.session() as session:
        report = harvest.harvest_dcat(session, ADMIN, str(path), "stadt-bochum")
    assert len(report.withdrawn) == 1
    assert report.unchanged == [_harvested(org_hub)["remote-2"].slug]


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_our_own_catalog_harvests_round_trip_in_every_serialization(sqlite_hub: Hub) -> None:
    make_dataset(
        sqlite_hub,
        "stationen",
        GEO_SQL,
        meta={
            "description": "Messstationen.",
            "title_en": "Stations",
            "themes": ["ENVI"],
            "licence": "cc-by/4.0",
            "contact": {"name": "Team", "url": "https://herne.example/kontakt"},
            "geocoding": ["05916000"],
        },
    )
    suffixes = ("ttl", "rdf", "jsonld")
    with sqlite_hub.session() as session:
        for suffix in suffixes:
            get_or_create_org(session, f"spiegel-{suffix}", f"Spiegel {suffix}")
    with serving_app(create_app(sqlite_hub)) as url:
        for suffix in suffixes:
            with sqlite_hub.session() as session:
                source = f"{url}/catalog.{suffix}"
                report = harvest.harvest_dcat(session, ADMIN, source, f"spiegel-{suffix}")
            assert len(report.created) == 1, suffix
            with sqlite_hub.session() as session:
                record = session.scalars(
                    select(HarvestRecord).where(HarvestRecord.source == source)
                ).one()
                assert record.remote_id == f"{url}/datasets/stationen"
                copy = session.get_one(Dataset, record.dataset_id)
                meta = read_metadata(copy)
                formats = {d["url"].rsplit(".", 1)[-1] for d in copy.extra["remote_distributions"]}
            assert meta.title == "Stationen", suffix
            assert meta.title_en == "Stations"
            assert meta.description == "Messstationen."
            assert meta.themes == ["ENVI"]
            assert meta.licence == "cc-by/4.0"
            assert meta.geocoding == ["05916000"]
            assert meta.contact is not None
            assert meta.contact.url == "https://herne.example/kontakt"
            assert {"csv", "geojson", "parquet", "xlsx"} <= formats


def test_harvest_needs_an_admin_and_a_known_organization(org_hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "leer.ttl"
    path.write_text("")
    with org_hub.session() as session:
        with pytest.raises(Unauthorized):
            harvest.harvest_dcat(session, ANONYMOUS, str(path), "stadt-bochum")
        with pytest.raises(NotFound):
            harvest.harvest_dcat(session, ADMIN, str(path), "gibt-es-nicht")
        with pytest.raises(InputError) as raised:
            harvest.harvest_dcat(session, ADMIN, str(tmp_path / "fehlt.ttl"), "stadt-bochum")
        assert raised.value.details["parameter"] == "source"
        with pytest.raises(InputError):
            harvest.harvest_ckan(session, ADMIN, "file:///etc/passwd", "stadt-bochum")


def test_an_unreachable_source_changes_nothing(org_hub: Hub, portal: Portal) -> None:
    portal.packages = [_package(1)]
    with org_hub.session() as session:
        harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum")
    with org_hub.session() as session, pytest.raises(InputError):
        harvest.harvest_ckan(session, ADMIN, portal.url + "/kaputt", "stadt-bochum")
    assert _harvested(org_hub)["0000-1"].status is DatasetStatus.DRAFT


def test_our_own_ckan_api_harvests_round_trip(sqlite_hub: Hub) -> None:
    meta = {
        "description": "Tabelle.",
        "keywords": ["Wasser"],
        "licence": "dl-zero-de/2.0",
        "contact": {"name": "Team", "email": "team@herne.example"},
    }
    for n in range(3):
        make_dataset(sqlite_hub, f"tabelle-{n}", meta=meta)
    with sqlite_hub.session() as session:
        get_or_create_org(session, "spiegel", "Spiegel")
    with serving_app(create_app(sqlite_hub)) as url, sqlite_hub.session() as session:
        report = harvest.harvest_ckan(session, ADMIN, url, "spiegel", rows=2)
    assert len(report.created) == 3
    copies = _harvested(sqlite_hub)
    assert len(copies) == 3
    with sqlite_hub.session() as session:
        copy = read_metadata(session.get_one(Dataset, next(iter(copies.values())).id))
    assert copy.keywords == ["Wasser"]
    assert copy.licence == "dl-zero-de/2.0"
    assert copy.contact is not None
    assert copy.contact.email == "team@herne.example"


def test_harvested_drafts_in_an_admins_catalog_conform(sqlite_hub: Hub, portal: Portal) -> None:
    from tests.catalog.dcat_shapes import violations

    with sqlite_hub.session() as session:
        get_or_create_org(session, "stadt-bochum", "Stadt Bochum", OrganizationType.CITY)
    portal.packages = [_package(1), _package(2, license_id="unbekannt", maintainer_email=None)]
    with sqlite_hub.session() as session:
        harvest.harvest_ckan(session, ADMIN, portal.url, "stadt-bochum")
    with sqlite_hub.session() as session:
        page = dcat.catalog_page(session, ADMIN, "https://daten.herne.example")
    assert page.total == 2
    urls = {str(u) for u in page.graph.objects(None, DCAT.accessURL)}
    assert urls == {"https://daten.bochum.example/1.csv", "https://daten.bochum.example/2.csv"}
    assert violations(page.graph, "v3.0") == []
