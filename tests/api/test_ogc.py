"""OGC API - Features under /ogc through HTTP, on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from datenschatz.api import ogc
from datenschatz.api.app import create_app
from datenschatz.db.models import Dataset
from datenschatz.hub import Hub
from datenschatz.store import duck
from tests.api.test_app import assert_error_shape
from tests.conftest import make_hub
from tests.helpers import add_version
from tests.query.builders import BACKENDS, clean_postgres, publish_sql

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
ITEMS = "/ogc/collections/punkte/items"
HERNE_CITY_HALL = (7.2197, 51.5389)

# 2,500 points on a diagonal from (7.1, 51.5), one per hour from 2024-01-01.
PUNKTE_SQL = """
SELECT range AS id, 'Name ' || range AS name,
       TIMESTAMP '2024-01-01' + INTERVAL (range) HOUR AS zeit,
       ST_SetCRS(ST_Point(7.1 + range / 1000, 51.5 + range / 1000), 'EPSG:4326') AS geometry
FROM range(2500)
"""
# Ten squares of 0.01 degrees in a row, every 30 days a new survey date.
FLAECHEN_SQL = """
SELECT range AS nr, CASE WHEN range % 2 = 0 THEN 'Wald' ELSE 'Wiese' END AS art,
       DATE '2023-01-01' + CAST(range * 30 AS INTEGER) AS stichtag,
       ST_SetCRS(ST_MakeEnvelope(7.15 + range * 0.02, 51.50, 7.16 + range * 0.02, 51.51),
                 'EPSG:4326') AS geometry
FROM range(10)
"""
ORTE_SQL = """
SELECT 1 AS nr, 'Rathaus Herne' AS name, true AS offen,
       ST_SetCRS(ST_Point(7.2197, 51.5389), 'EPSG:4326') AS geometry
UNION ALL
SELECT 2, 'Schloss Strünkede <b>fett</b>', false,
       ST_SetCRS(ST_Point(7.2125, 51.5532), 'EPSG:4326')
UNION ALL
SELECT 3, 'Akademie Mont-Cenis', true, ST_SetCRS(ST_Point(7.2281, 51.5306), 'EPSG:4326')
"""


def build(hub: Hub) -> Hub:
    """punkte, flaechen and orte are collections; plain has no geometry; entwurf is hidden."""
    publish_sql(hub, "punkte", PUNKTE_SQL)
    publish_sql(hub, "flaechen", FLAECHEN_SQL)
    publish_sql(hub, "orte", ORTE_SQL)
    publish_sql(hub, "plain", "SELECT range AS n FROM range(5)")
    add_version(hub, "entwurf", PUNKTE_SQL)
    with hub.session() as session:
        orte = session.scalars(select(Dataset).where(Dataset.slug == "orte")).one()
        orte.title = "Orte <script>alert(1)</script>"
        orte.description = "Sehenswürdigkeiten & Ämter in Herne"
    return hub


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    directory = tmp_path_factory.mktemp("ogc")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        clean_postgres(url)
    return build(make_hub(directory / "data", url))


def ogc_app(hub: Hub) -> FastAPI:
    """The app with the OGC router (included here until the app wires it)."""
    app = create_app(hub)
    if "/ogc/collections" not in {getattr(r, "path", "") for r in app.routes}:
        app.include_router(ogc.router)
    return app


@pytest.fixture(scope="module")
def client(hub: Hub) -> TestClient:
    return TestClient(ogc_app(hub), raise_server_exceptions=False)


def get(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    # An empty params mapping would replace the query string of ``url``.
    response = client.get(url, params=params) if params else client.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def links(body: dict[str, Any], rel: str) -> list[dict[str, str]]:
    return [link for link in body["links"] if link["rel"] == rel]


def ids(body: dict[str, Any]) -> list[int]:
    return [f["id"] for f in body["features"]]


def assert_bad(client: TestClient, url: str, parameter: str, **params: Any) -> None:
    response = client.get(url, params=params) if params else client.get(url)
    assert response.status_code == 400, response.text
    body = response.json()
    assert_error_shape(body, body["error"]["code"])
    assert body["error"]["details"]["parameter"] == parameter


# --- landing, conformance, API definition ---------------------------------------------------


def test_landing_page_is_json_without_accept_and_links_api_conformance_and_data(
    client: TestClient,
) -> None:
    for url, headers in (("/ogc", {}), ("/ogc/", {}), ("/ogc", {"Accept": "*/*"})):
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
    body = client.get("/ogc").json()
    by_rel = {link["rel"]: link for link in body["links"]}
    assert by_rel["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert by_rel["service-desc"]["href"] == "http://testserver/ogc/api"
    assert by_rel["service-doc"]["type"] == "text/html"
    assert by_rel["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert by_rel["data"]["href"] == "http://testserver/ogc/collections"
    assert by_rel["self"]["type"] == "application/json"
    assert by_rel["alternate"]["type"] == "text/html"
    assert all({"href", "rel", "type"} <= set(link) for link in body["links"])


def test_browsers_get_html_and_f_overrides_accept(client: TestClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/ogc", headers={"Accept": browser})
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Datenschatz - OGC API Features</h1>" in response.text
    response = client.get("/ogc", params={"f": "json"}, headers={"Accept": browser})
    assert response.headers["content-type"] == "application/json"
    response = client.get("/ogc", params={"f": "html"})
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["vary"] == "Accept"
    assert_bad(client, "/ogc", "f", f="xml")
    for accept in ("application/geo+json", "text/html;q=0.5, application/json", "*/*"):
        response = client.get(ITEMS, headers={"Accept": accept})
        assert response.headers["content-type"] == "application/geo+json", accept
    response = client.get("/ogc/api", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")


def test_conformance_declares_core_geojson_html_oas30_and_crs(client: TestClient) -> None:
    body = get(client, "/ogc/conformance")
    assert set(body["conformsTo"]) == {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    }
    html = client.get("/ogc/conformance", params={"f": "html"}).text
    assert "conf/oas30" in html


def test_unknown_parameters_are_refused_on_every_resource(client: TestClient) -> None:
    for url in (
        "/ogc",
        "/ogc/conformance",
        "/ogc/api",
        "/ogc/collections",
        "/ogc/collections/punkte",
        ITEMS,
        ITEMS + "/1",
    ):
        assert_bad(client, url, "ooga", ooga="booga")
    assert_bad(client, ITEMS, "dateTime", dateTime="2024-01-01")


def test_api_definition_is_openapi_30_with_paths_and_filters_per_collection(
    client: TestClient,
) -> None:
    response = client.get("/ogc/api")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    spec = response.json()
    assert spec["openapi"].startswith("3.0.")
    assert spec["servers"] == [{"url": "http://testserver/ogc"}]
    paths = spec["paths"]
    assert {"/", "/conformance", "/api", "/collections"} <= set(paths)
    assert "/collections/punkte/items/{featureId}" in paths
    assert not any("plain" in p or "entwurf" in p for p in paths)
    parameters = spec["components"]["parameters"]
    assert parameters["bbox"]["schema"] == {
        "type": "array",
        "minItems": 4,
        "maxItems": 6,
        "items": {"type": "number"},
    }
    assert parameters["bbox"]["style"] == "form"
    assert parameters["bbox"]["explode"] is False
    assert parameters["limit"]["schema"]["maximum"] == 10_000
    items = paths["/collections/punkte/items"]["get"]["parameters"]
    refs = {p["$ref"].rsplit("/", 1)[-1] for p in items if "$ref" in p}
    assert {"limit", "bbox", "bbox-crs", "crs", "datetime", "offset", "cursor"} <= refs
    filters = {p["name"]: p["schema"] for p in items if "name" in p}
    assert filters == {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "zeit": {"type": "string", "format": "date-time"},
    }
    html = client.get("/ogc/api", params={"f": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "GET /collections/punkte/items" in html.text


# --- collections ----------------------------------------------------------------------------


def test_collections_are_the_visible_published_datasets_with_geometry(
    client: TestClient,
) -> None:
    body = get(client, "/ogc/collections")
    assert [c["id"] for c in body["collections"]] == ["flaechen", "orte", "punkte"]
    assert links(body, "self")[0]["href"] == "http://testserver/ogc/collections"
    punkte = body["collections"][2]
    assert punkte["itemType"] == "feature"
    assert punkte["crs"][0] == CRS84
    assert set(punkte["crs"]) >= {CRS84, EPSG + "4326", EPSG + "25832", EPSG + "3857"}
    assert punkte["storageCrs"] == CRS84
    assert punkte["extent"]["spatial"] == {"bbox": [[7.1, 51.5, 9.599, 53.999]], "crs": CRS84}
    assert punkte["extent"]["temporal"]["interval"] == [
        ["2024-01-01T00:00:00Z", "2024-04-14T03:00:00Z"]  # 2,499 hours later
    ]
    item_links = {(link["rel"], link["type"]) for link in punkte["links"]}
    assert ("items", "application/geo+json") in item_links
    assert ("items", "text/html") in item_links


def test_collection_equals_its_entry_in_collections(client: TestClient) -> None:
    listed = {c["id"]: c for c in get(client, "/ogc/collections")["collections"]}
    for collection_id, entry in listed.items():
        single = get(client, f"/ogc/collections/{collection_id}")
        for key in ("id", "title", "description", "extent", "crs", "storageCrs", "links"):
            assert single[key] == entry[key]
    assert listed["flaechen"]["extent"]["temporal"]["interval"] == [
        ["2023-01-01T00:00:00Z", "2023-09-28T23:59:59Z"]
    ]
    assert "temporal" not in listed["orte"]["extent"]


def test_datasets_without_geometry_unknown_or_hidden_are_not_collections(
    client: TestClient,
) -> None:
    for collection_id in ("plain", "entwurf", "nix"):
        for url in (
            f"/ogc/collections/{collection_id}",
            f"/ogc/collections/{collection_id}/items",
            f"/ogc/collections/{collection_id}/items/0",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert_error_shape(response.json(), "not_found")
            assert response.json()["error"]["message"] == "No such collection."


# --- items ----------------------------------------------------------------------------------


def test_items_page_is_geojson_with_counts_timestamp_and_links(client: TestClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = client.get(ITEMS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 2500
    assert body["numberReturned"] == 10
    assert ids(body) == list(range(10))
    stamp = datetime.fromisoformat(body["timeStamp"])
    assert before <= stamp <= datetime.now(UTC) + timedelta(seconds=1)
    first = body["features"][0]
    assert first == {
        "type": "Feature",
        "id": 0,
        "geometry": {"type": "Point", "coordinates": [7.1, 51.5]},
        "properties": {"id": 0, "name": "Name 0", "zeit": "2024-01-01T00:00:00"},
    }
    rels = {(link["rel"], link["type"]) for link in body["links"]}
    assert rels == {
        ("self", "application/geo+json"),
        ("alternate", "text/html"),
        ("next", "application/geo+json"),
        ("collection", "application/json"),
    }
    assert links(body, "self")[0]["href"] == "http://testserver" + ITEMS


def test_next_links_visit_every_matching_feature_once(client: TestClient) -> None:
    url: str | None = client.get(ITEMS, params={"bbox": "7.2995,51.6,7.9005,52.3", "limit": 97}).url
    seen: list[int] = []
    matched = set()
    while url:
        body = get(client, str(url))
        seen.extend(ids(body))
        matched.add(body["numberMatched"])
        assert body["numberReturned"] == len(body["features"]) <= 97
        nxt = links(body, "next")
        url = nxt[0]["href"] if nxt else None
    assert seen == list(range(200, 801))  # 7.2995 <= 7.1 + i/1000 <= 7.9005
    assert matched == {601}


def test_offset_pages_and_the_cursor_takes_over_after_it(client: TestClient) -> None:
    body = get(client, ITEMS, offset=2495)
    assert ids(body) == [2495, 2496, 2497, 2498, 2499]
    assert not links(body, "next")
    body = get(client, ITEMS, offset=100, limit=3)
    assert ids(body) == [100, 101, 102]
    nxt = links(body, "next")[0]["href"]
    assert "offset" not in nxt
    assert "cursor=" in nxt
    assert ids(get(client, nxt)) == [103, 104, 105]
    assert_bad(client, ITEMS, "offset", offset=-1)
    assert_bad(client, ITEMS, "offset", offset=5, cursor="abc")


def test_limit_over_the_maximum_is_lowered_and_below_one_refused(client: TestClient) -> None:
    body = get(client, ITEMS, limit=50_000)
    assert body["numberReturned"] == 2500  # the whole collection: under the 10,000 maximum
    assert not links(body, "next")
    assert_bad(client, ITEMS, "limit", limit=0)
    assert_bad(client, ITEMS, "limit", limit="unlimited")
    assert_bad(client, ITEMS, "limit", limit=["5", "6"])


def test_cursor_of_another_query_is_refused(client: TestClient) -> None:
    body = get(client, ITEMS, bbox="7,51,8,52", limit=5)
    token = links(body, "next")[0]["href"].split("cursor=")[1]
    assert_bad(client, ITEMS, "cursor", cursor=token)  # without the bbox
    assert_bad(client, ITEMS, "cursor", cursor="not-a-cursor")
    assert ids(get(client, ITEMS, bbox="7,51,8,52", limit=5, cursor=token)) == [5, 6, 7, 8, 9]


def test_bbox_selects_intersecting_features_in_crs84_and_epsg_4326_axis_order(
    client: TestClient,
) -> None:
    crs84 = get(client, ITEMS, bbox="7.1995,51.55,7.2505,51.7", limit=1000)
    assert ids(crs84) == list(range(100, 151))  # lon 7.1995..7.2505 and lat 51.55..51.7
    assert crs84["numberMatched"] == 51
    lat_lon = get(
        client, ITEMS, bbox="51.55,7.1995,51.7,7.2505", limit=1000, **{"bbox-crs": EPSG + "4326"}
    )
    assert ids(lat_lon) == ids(crs84)
    six = get(client, ITEMS, bbox="7.1995,51.55,-10,7.2505,51.7,100", limit=1000)
    assert ids(six) == ids(crs84)


def test_bbox_in_utm_is_tested_exactly_in_that_crs(client: TestClient) -> None:
    url = "/ogc/collections/orte/items"
    utm = {"bbox-crs": EPSG + "25832"}
    east, north = utm32(*HERNE_CITY_HALL)
    around = f"{east - 200},{north - 200},{east + 200},{north + 200}"
    body = get(client, url, bbox=around, **utm)
    assert [f["properties"]["name"] for f in body["features"]] == ["Rathaus Herne"]
    assert body["numberMatched"] == 1
    # A 2 km box whose west edge lies 10 m east of the city hall. Grid north differs from
    # true north by about 1.4 degrees here, so the lon/lat envelope of the box reaches past
    # the city hall; the box itself does not.
    box = (east + 10, north - 1000, east + 2010, north + 1000)
    west, south, _, north_lat = lonlat_envelope(box)
    assert west < HERNE_CITY_HALL[0]
    assert south < HERNE_CITY_HALL[1] < north_lat
    body = get(client, url, bbox=",".join(map(str, box)), **utm)
    assert "Rathaus Herne" not in [f["properties"]["name"] for f in body["features"]]
    assert body["numberMatched"] == len(body["features"])


def lonlat_envelope(box: tuple[float, float, float, float]) -> tuple[float, ...]:
    """The lon/lat envelope of an EPSG:25832 box, computed by DuckDB."""
    con = duck.cursor()
    try:
        row = con.execute(
            "SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM (SELECT ST_Transform("
            "ST_MakeEnvelope(?, ?, ?, ?), 'EPSG:25832', 'OGC:CRS84', true) AS g)",
            list(box),
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return tuple(float(v) for v in row)


def test_bad_bboxes_are_refused_naming_the_parameter(client: TestClient) -> None:
    for bbox in ("1,2,3", "a,b,c,d", "8,51,7,52", "7,52,8,51", "170,10,-170,20", "7,51,8,95"):
        assert_bad(client, ITEMS, "bbox", bbox=bbox)
    assert_bad(client, ITEMS, "bbox-crs", bbox="7,51,8,52", **{"bbox-crs": EPSG + "31467"})
    assert_bad(client, ITEMS, "bbox-crs", **{"bbox-crs": CRS84})


def utm32(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:25832 easting and northing, computed by DuckDB's PROJ in x/y order."""
    con = duck.cursor()
    try:
        row = con.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Point(?, ?), "
            "'OGC:CRS84', 'EPSG:25832', true) AS p)",
            [lon, lat],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return float(row[0]), float(row[1])


def test_output_crs_puts_coordinates_in_the_axis_order_of_the_crs(client: TestClient) -> None:
    url = "/ogc/collections/orte/items"
    default = get(client, url)["features"][0]["geometry"]["coordinates"]
    assert default == list(HERNE_CITY_HALL)  # CRS84: lon, lat

    response = client.get(url, params={"crs": EPSG + "4326"})
    assert response.headers["content-crs"] == f"<{EPSG}4326>"
    assert response.json()["features"][0]["geometry"]["coordinates"] == [51.5389, 7.2197]

    response = client.get(url, params={"crs": EPSG + "25832"})
    assert response.headers["content-crs"] == f"<{EPSG}25832>"
    east, north = response.json()["features"][0]["geometry"]["coordinates"]
    assert 376_400 < east < 376_700
    assert 5_711_100 < north < 5_711_400
    assert (east, north) == pytest.approx(utm32(*HERNE_CITY_HALL), abs=1e-6)

    # Web Mercator has a closed form: x = R lon, y = R ln tan(pi/4 + lat/2).
    response = client.get(url, params={"crs": EPSG + "3857"})
    x, y = response.json()["features"][0]["geometry"]["coordinates"]
    lon, lat = (math.radians(v) for v in HERNE_CITY_HALL)
    radius = 6_378_137.0
    assert x == pytest.approx(radius * lon, abs=1e-3)
    assert y == pytest.approx(radius * math.log(math.tan(math.pi / 4 + lat / 2)), abs=1e-3)

    assert_bad(client, url, "crs", crs=EPSG + "31467")
    assert_bad(client, url, "crs", crs="EPSG:4326")


def test_polygons_are_transformed_ring_by_ring(client: TestClient) -> None:
    url = "/ogc/collections/flaechen/items"
    plain = get(client, url, limit=1)["features"][0]["geometry"]
    assert plain["type"] == "Polygon"
    utm = get(client, url, limit=1, crs=EPSG + "25832")["features"][0]["geometry"]
    assert len(utm["coordinates"][0]) == len(plain["coordinates"][0]) == 5
    for (lon, lat), (east, north) in zip(
        plain["coordinates"][0], utm["coordinates"][0], strict=True
    ):
        assert (east, north) == pytest.approx(utm32(lon, lat), abs=1e-6)


# --- datetime and property filters ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T05:00:00Z", [5]),
        ("2024-01-01T07:00:00+02:00", [5]),  # the same instant
        ("2024-01-02", list(range(24, 48))),  # a date is its whole day
        ("2024-01-01T05:00:00Z/2024-01-01T08:00:00Z", [5, 6, 7, 8]),
        ("2024-04-14T01:00:00Z/..", [2497, 2498, 2499]),
        ("../2024-01-01T01:00:00Z", [0, 1]),
        ("/2024-01-01T01:00:00Z", [0, 1]),
        ("2024-04-14/", list(range(2496, 2500))),
    ],
)
def test_datetime_selects_on_the_time_column(
    client: TestClient, value: str, expected: list[int]
) -> None:
    body = get(client, ITEMS, datetime=value, limit=100)
    assert ids(body) == expected
    assert body["numberMatched"] == len(expected)


def test_datetime_on_a_date_column_and_on_a_collection_without_time(client: TestClient) -> None:
    url = "/ogc/collections/flaechen/items"
    assert [f["properties"]["nr"] for f in get(client, url, datetime="2023-01-31")["features"]] == [
        1
    ]
    within = get(client, url, datetime="2023-01-15T12:00:00Z/2023-03-02T00:00:00Z")
    assert [f["properties"]["stichtag"] for f in within["features"]] == [
        "2023-01-31",
        "2023-03-02",
    ]
    # orte has no time column: no feature has temporal data, so none is filtered out.
    assert get(client, "/ogc/collections/orte/items", datetime="2024-01-01")["numberMatched"] == 3


def test_bad_datetimes_are_refused(client: TestClient) -> None:
    for value in ("gestern", "../..", "2024-01-02/2024-01-01", "2024-13-01", "2024-01-01/x"):
        assert_bad(client, ITEMS, "datetime", datetime=value)


def test_property_filters_select_equal_values_typed_by_column(client: TestClient) -> None:
    assert ids(get(client, ITEMS, name="Name 42")) == [42]
    assert ids(get(client, ITEMS, id=7)) == [7]
    orte = get(client, "/ogc/collections/orte/items", offen="true")
    assert [f["properties"]["nr"] for f in orte["features"]] == [1, 3]
    both = get(client, ITEMS, name="Name 42", datetime="2024-01-02T18:00:00Z")
    assert ids(both) == [42]
    assert both["numberMatched"] == 1
    assert get(client, ITEMS, name="Name 42", id=43)["features"] == []
    assert_bad(client, ITEMS, "id", id="sieben")
    assert_bad(client, ITEMS, "geometry", geometry="POINT(7 51)")
    assert_bad(client, ITEMS, "name", name=["a", "b"])


# --- single features ------------------------------------------------------------------------


def test_feature_by_id_with_links_and_crs(client: TestClient) -> None:
    response = client.get(ITEMS + "/42")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "Feature"
    assert body["id"] == 42
    assert body["properties"]["name"] == "Name 42"
    assert body["geometry"]["coordinates"] == pytest.approx([7.142, 51.542])
    by_rel = {link["rel"]: link for link in body["links"]}
    assert by_rel["self"]["href"] == "http://testserver" + ITEMS + "/42"
    assert by_rel["alternate"]["type"] == "text/html"
    assert by_rel["collection"]["href"] == "http://testserver/ogc/collections/punkte"
    lat_lon = get(client, ITEMS + "/42", crs=EPSG + "4326")
    assert lat_lon["geometry"]["coordinates"] == pytest.approx([51.542, 7.142])
    # A feature's id from a page leads to the same feature.
    listed = get(client, ITEMS, offset=42, limit=1)["features"][0]
    assert {k: body[k] for k in listed} == listed


def test_unknown_features_are_not_found(client: TestClient) -> None:
    for feature_id in ("2500", "-1", "042", "abc", "1.0", "99999999999999999999999"):
        response = client.get(f"{ITEMS}/{feature_id}")
        assert response.status_code == 404, feature_id
        assert_error_shape(response.json(), "not_found")


# --- caching --------------------------------------------------------------------------------


def test_items_and_features_answer_304_to_a_matching_etag(client: TestClient) -> None:
    for url, params in ((ITEMS, {"limit": 5}), (ITEMS + "/3", {"crs": EPSG + "3857"})):
        first = client.get(url, params=params)
        etag = first.headers["etag"]
        again = client.get(url, params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        assert again.content == b""
        other = client.get(url, params={**params, "f": "html"})
        assert other.headers["etag"] != etag
    assert (
        client.get(ITEMS, params={"limit": 6}).headers["etag"]
        != client.get(ITEMS, params={"limit": 5}).headers["etag"]
    )


# --- HTML -----------------------------------------------------------------------------------


def test_html_pages_escape_titles_and_values_and_load_nothing_external(
    client: TestClient,
) -> None:
    pages = [
        "/ogc/collections",
        "/ogc/collections/orte",
        "/ogc/collections/orte/items",
        "/ogc/collections/orte/items/1",
    ]
    for url in pages:
        response = client.get(url, params={"f": "html"})
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        text = response.text
        assert "<b>fett</b>" not in text
        assert "src=" not in text
        assert "<script" not in text
        if url != "/ogc/collections/orte/items/1":
            assert "Orte &lt;script&gt;alert(1)&lt;/script&gt;" in text
    items = client.get("/ogc/collections/orte/items", params={"f": "html"}).text
    assert "Schloss Strünkede &lt;b&gt;fett&lt;/b&gt;" in items
    assert items.count("<circle") == 3  # the sketch of the three points
    assert 'href="http://testserver/ogc/collections/orte/items/1?f=html"' in items
    utm = client.get("/ogc/collections/orte/items", params={"f": "html", "crs": EPSG + "25832"})
    assert "items/1?f=html&amp;crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F25832" in (
        utm.text
    )


def test_html_items_page_links_to_the_next_html_page(client: TestClient) -> None:
    text = client.get(ITEMS, params={"f": "html", "limit": 2}).text
    assert "2 Objekte auf dieser Seite von 2500" in text
    assert "f=html&amp;limit=2&amp;cursor=" in text or "limit=2&amp;f=html&amp;cursor=" in text
