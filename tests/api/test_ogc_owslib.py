"""OWSLib's OGC API - Features client against a real server on 127.0.0.1.

OWSLib speaks HTTP through ``requests`` and sends no Accept header of its own, so these tests
run uvicorn on a free loopback port in a background thread.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from fastapi import FastAPI

from datenschatz.hub import Hub
from tests.api.test_ogc import EPSG, HERNE_CITY_HALL, build, ogc_app, utm32
from tests.conftest import IN_CI, make_hub
from tests.query.builders import BACKENDS, clean_postgres

try:
    from owslib.ogcapi.features import Features
except ImportError:  # pragma: no cover - OWSLib is a dev dependency
    if IN_CI:
        raise
    pytest.skip("OWSLib is not installed (pip install OWSLib)", allow_module_level=True)


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    directory = tmp_path_factory.mktemp("owslib")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        clean_postgres(url)
    return build(make_hub(directory / "data", url))


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def ogc_url(hub: Hub) -> Iterator[str]:
    with serving(ogc_app(hub)) as url:
        yield url + "/ogc"


@pytest.fixture(scope="module")
def api(ogc_url: str) -> Any:
    return Features(ogc_url)


def test_owslib_reads_the_landing_page_and_the_api_definition(api: Any) -> None:
    rels = {link["rel"] for link in api.links}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    spec = api.api()
    assert spec["openapi"].startswith("3.0.")
    assert "/collections/punkte/items" in spec["paths"]


def test_owslib_reads_conformance(api: Any) -> None:
    conforms = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conforms


def test_owslib_lists_feature_collections_and_reads_one(api: Any) -> None:
    assert api.feature_collections() == ["flaechen", "orte", "punkte"]
    punkte = api.collection("punkte")
    assert punkte["id"] == "punkte"
    assert punkte["extent"]["spatial"]["bbox"] == [[7.1, 51.5, 9.599, 53.999]]


def test_owslib_items_with_bbox_and_limit(api: Any) -> None:
    page = api.collection_items("punkte", bbox=[7.1995, 51.55, 7.2505, 51.7], limit=20)
    assert page["type"] == "FeatureCollection"
    assert page["numberMatched"] == 51
    assert page["numberReturned"] == 20
    assert [f["id"] for f in page["features"]] == list(range(100, 120))
    for feature in page["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 7.1995 <= lon <= 7.2505
        assert 51.55 <= lat <= 51.7


def test_owslib_pages_with_offset_and_with_the_next_cursor(api: Any) -> None:
    first = api.collection_items("punkte", limit=7)
    assert [f["id"] for f in first["features"]] == list(range(7))
    by_offset = api.collection_items("punkte", limit=7, offset=7)
    assert [f["id"] for f in by_offset["features"]] == list(range(7, 14))
    nxt = next(link for link in first["links"] if link["rel"] == "next")["href"]
    cursor = parse_qs(urlsplit(nxt).query)["cursor"][0]
    by_cursor = api.collection_items("punkte", limit=7, cursor=cursor)
    assert by_cursor["features"] == by_offset["features"]


def test_owslib_items_with_datetime_and_crs(api: Any) -> None:
    page = api.collection_items("punkte", datetime_="2024-01-01T05:00:00Z/2024-01-01T06:00:00Z")
    assert [f["id"] for f in page["features"]] == [5, 6]
    utm = api.collection_items("orte", crs=EPSG + "25832", nr=1)
    assert api.response_headers["Content-Crs"] == f"<{EPSG}25832>"
    east, north = utm["features"][0]["geometry"]["coordinates"]
    assert (east, north) == pytest.approx(utm32(*HERNE_CITY_HALL), abs=1e-6)


def test_owslib_reads_a_single_feature(api: Any) -> None:
    feature = api.collection_item("punkte", "42")
    assert feature["type"] == "Feature"
    assert feature["id"] == 42
    assert feature["properties"]["name"] == "Name 42"
    assert feature["geometry"]["coordinates"] == pytest.approx([7.142, 51.542])


def test_owslib_reports_server_errors(api: Any) -> None:
    with pytest.raises(RuntimeError, match="No such collection"):
        api.collection_items("entwurf")
    with pytest.raises(RuntimeError, match="bbox"):
        api.collection_items("punkte", bbox=[8, 51, 7, 52])
