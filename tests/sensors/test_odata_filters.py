"""$filter over HTTP: operators, the string, math and time functions, and geo filters.

One small scenario (two stations, four observations) is queried with each expression on
SQLite and on PostgreSQL; each case names the ids it must return.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from datenschatz.sensors import service
from tests.conftest import make_hub
from tests.query.builders import BACKENDS, clean_postgres
from tests.sensors.builders import BASE, point, station

HERNE = "POLYGON((7.18 51.50, 7.30 51.50, 7.30 51.60, 7.18 51.60, 7.18 51.50))"
BOTH = "POLYGON((7.0 51.0, 8.0 51.0, 8.0 52.0, 7.0 52.0, 7.0 51.0))"
FAR = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    directory = tmp_path_factory.mktemp("sta-filters")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        clean_postgres(url)
    hub = make_hub(directory / "data", url)
    _scenario(hub)
    return TestClient(create_app(hub), raise_server_exceptions=False)


def _scenario(hub: Hub) -> None:
    wanne = station("Station Wanne", 7.16, 51.53)
    wanne["properties"] = {"owner": "Stadtwerke", "height": 10}
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        service.create_entity(session, "Things", wanne, base_url=BASE)
        service.create_observations(
            session,
            [
                {
                    "Datastream": {"@iot.id": 1},
                    "components": ["phenomenonTime", "result"],
                    "dataArray": [
                        ["2024-03-05T06:30:15.250Z", 12.5],
                        ["2024-03-05T18:00:00Z", 40],
                        ["2023-12-31T23:59:59Z", "defekt"],
                    ],
                },
                {
                    "Datastream": {"@iot.id": 2},
                    "components": ["phenomenonTime", "result"],
                    "dataArray": [["2024-06-01T12:00:00Z", 55]],
                },
            ],
            base_url=BASE,
        )


CASES = [
    # comparison and logical operators
    ("Things", "name eq 'Station Wanne'", [2]),
    ("Things", "name ne 'Station Wanne'", [1]),
    ("Things", "id ge 2 or name eq 'Station Herne Mitte'", [1, 2]),
    ("Things", "not (id eq 1)", [2]),
    ("Things", "id gt 1 and id lt 3", [2]),
    ("Things", "id le 1", [1]),
    ("Observations", "result gt 12.5", [2, 4]),
    ("Observations", "result eq 'defekt'", [3]),
    ("Observations", "result lt 50 and result ge 40", [2]),
    ("Observations", "resultTime eq null", [1, 2, 3, 4]),
    ("Observations", "resultTime ne null", []),
    # arithmetic
    ("Observations", "result add 10 eq 50", [2]),
    ("Observations", "result sub 2.5 eq 10", [1]),
    ("Observations", "result mul 2 eq 110", [4]),
    ("Observations", "result div 2 eq 6.25", [1]),
    ("Observations", "result mod 7 eq 5", [2]),
    # string functions
    ("Things", "substringof('Wanne', name)", [2]),
    ("Things", "endswith(name, 'Mitte')", [1]),
    ("Things", "startswith(name, 'Station W')", [2]),
    ("Things", "length(name) eq 13", [2]),
    ("Things", "indexof(name, 'Wanne') eq 8", [2]),
    ("Things", "substring(name, 8) eq 'Wanne'", [2]),
    ("Things", "substring(name, 8, 2) eq 'Wa'", [2]),
    ("Things", "tolower(name) eq 'station wanne'", [2]),
    ("Things", "toupper(name) eq 'STATION WANNE'", [2]),
    ("Things", "trim(concat(' ', name)) eq 'Station Wanne'", [2]),
    ("Things", "concat(concat(name, ', '), 'Herne') eq 'Station Wanne, Herne'", [2]),
    # JSON properties
    ("Things", "properties/owner eq 'Stadtwerke'", [2]),
    ("Things", "properties/height gt 5", [2]),
    # math functions
    ("Observations", "round(result) eq 13", [1]),
    ("Observations", "floor(result) eq 12", [1]),
    ("Observations", "ceiling(result) eq 13", [1]),
    # time functions
    ("Observations", "year(phenomenonTime) eq 2023", [3]),
    ("Observations", "month(phenomenonTime) eq 6", [4]),
    ("Observations", "day(phenomenonTime) eq 5", [1, 2]),
    ("Observations", "hour(phenomenonTime) eq 18", [2]),
    ("Observations", "minute(phenomenonTime) eq 30", [1]),
    ("Observations", "second(phenomenonTime) eq 15", [1]),
    ("Observations", "fractionalseconds(phenomenonTime) gt 0.2", [1]),
    ("Observations", "date(phenomenonTime) eq 2024-03-05", [1, 2]),
    ("Observations", "time(phenomenonTime) eq 18:00:00", [2]),
    ("Observations", "phenomenonTime lt 2024-01-01T00:00:00Z", [3]),
    ("Observations", "phenomenonTime ge 2024-03-05T07:00:00+01:00", [1, 2, 4]),
    ("Observations", "phenomenonTime lt now()", [1, 2, 3, 4]),
    (
        "Observations",
        "phenomenonTime gt mindatetime() and phenomenonTime lt maxdatetime()",
        [1, 2, 3, 4],
    ),
    ("Observations", "totaloffsetminutes(phenomenonTime) eq 0", [1, 2, 3, 4]),
    ("Datastreams", "phenomenonTime gt 2024-05-01T00:00:00Z", [2]),
    # navigation in filters (to-one and to-many)
    ("Observations", "Datastream/Thing/name eq 'Station Wanne'", [4]),
    ("Observations", "Datastream/id eq 1 and result gt 20", [2]),
    ("Things", "Datastreams/Observations/result gt 50", [2]),
    ("Things", "Locations/name eq 'Station Wanne location'", [2]),
    # geo
    ("Locations", f"geo.intersects(location, geography'{HERNE}')", [1]),
    ("Locations", f"st_within(location, geography'{BOTH}')", [1, 2]),
    ("Locations", f"st_within(location, geography'{FAR}')", []),
    ("Locations", f"st_disjoint(location, geography'{HERNE}')", [2]),
    ("Locations", "st_equals(location, geography'POINT(7.16 51.53)')", [2]),
    ("Locations", "geo.distance(location, geography'POINT(7.16 51.53)') lt 0.01", [2]),
    ("Locations", "geo.distance(location, geography'POINT(7.16 51.53)') gt 0.01", [1]),
    ("Things", f"geo.intersects(Locations/location, geography'{HERNE}')", [1]),
    ("Things", f"st_within(Locations/location, geography'SRID=4326;{BOTH}')", [1, 2]),
    ("FeaturesOfInterest", f"st_intersects(feature, geography'{HERNE}')", [1]),
    ("Observations", f"st_within(FeatureOfInterest/feature, geography'{HERNE}')", [1, 2, 3]),
    ("Datastreams", f"st_contains(geography'{HERNE}', observedArea)", []),
    ("Datastreams", "geo.intersects(observedArea, geography'POINT(7.16 51.53)')", [2]),
]


@pytest.mark.parametrize(("entity_set", "expression", "expected"), CASES)
def test_filter(client: TestClient, entity_set: str, expression: str, expected: list[int]) -> None:
    response = client.get(
        f"/sta/v1.1/{entity_set}", params={"$filter": expression, "$select": "id"}
    )
    assert response.status_code == 200, response.text
    assert [e["@iot.id"] for e in response.json()["value"]] == expected


def test_orderby_is_case_insensitive_and_takes_several_keys(client: TestClient) -> None:
    response = client.get(
        "/sta/v1.1/Observations", params={"$orderby": "Datastream/id DESC, result asc"}
    )
    assert [o["@iot.id"] for o in response.json()["value"]] == [4, 1, 2, 3]
    response = client.get("/sta/v1.1/Things", params={"$orderby": "name Desc"})
    assert [t["name"] for t in response.json()["value"]] == ["Station Wanne", "Station Herne Mitte"]


def test_top_skip_and_count(client: TestClient) -> None:
    body = client.get(
        "/sta/v1.1/Observations", params={"$top": "1", "$skip": "1", "$count": "true"}
    ).json()
    assert body["@iot.count"] == 4
    assert [o["@iot.id"] for o in body["value"]] == [2]
    assert "$skip=2" in body["@iot.nextLink"]
    assert client.get("/sta/v1.1/Things", params={"$top": "0"}).json()["value"] == []


def test_the_same_point_in_another_crs_literal_is_refused(client: TestClient) -> None:
    response = client.get(
        "/sta/v1.1/Locations", params={"$filter": "geo.intersects(location, geography'CIRCLE(1)')"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == "$filter"
    assert point(0, 0)["type"] == "Point"
