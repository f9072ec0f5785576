"""The SensorThings service without HTTP: deep insert, links, CreateObservations, bulk, cascades."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from datenschatz.access.policy import ANONYMOUS, Principal, Role
from datenschatz.db.sensor_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaObservation,
)
from datenschatz.errors import CheckFailed, Forbidden, InputError, NotFound, Unauthorized
from datenschatz.hub import Hub
from datenschatz.sensors import events, service
from datenschatz.sensors.odata import parse_options, parse_path
from datenschatz.sensors.read import read
from tests.helpers import add_version
from tests.sensors.builders import BASE, READER_TOKEN, WRITER, point, station


def get(hub: Hub, path: str, **params: str) -> Any:
    with hub.session() as session:
        return read(session, ANONYMOUS, parse_path(path), parse_options(params), base_url=BASE)


def count(hub: Hub, model: Any) -> int:
    with hub.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_deep_insert_creates_the_graph_with_links(hub: Hub) -> None:
    with hub.session() as session:
        thing = service.create_entity(session, "Things", station(), base_url=BASE)
    assert thing["@iot.id"] == 1
    assert thing["@iot.selfLink"] == f"{BASE}/Things(1)"
    assert thing["Datastreams@iot.navigationLink"] == f"{BASE}/Things(1)/Datastreams"
    assert get(hub, "Things(1)/Locations")["value"][0]["location"] == point(7.22, 51.54)
    datastream = get(hub, "Things(1)/Datastreams")["value"][0]
    assert datastream["unitOfMeasurement"]["symbol"] == "µg/m³"
    assert get(hub, "Datastreams(1)/Sensor")["name"] == "SDS011"
    history = get(hub, "Things(1)/HistoricalLocations", **{"$expand": "Locations"})["value"]
    assert len(history) == 1
    assert history[0]["Locations"][0]["@iot.id"] == 1


def test_inline_entity_with_id_links_to_the_existing_one(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        second = station("Station Wanne")
        second["Locations"] = [{"@iot.id": 1, "name": "ignored"}]
        second["Datastreams"][0]["Sensor"] = {"@iot.id": 1, "name": "not a new sensor"}
        service.create_entity(session, "Things", second, base_url=BASE)
    assert get(hub, "Sensors", **{"$count": "true"})["@iot.count"] == 1
    assert get(hub, "Sensors(1)")["name"] == "SDS011"
    assert get(hub, "Locations(1)/Things", **{"$count": "true"})["@iot.count"] == 2
    with hub.session() as session:
        broken = station("x")
        broken["Datastreams"][0]["Sensor"] = {"@iot.id": 99}
        with pytest.raises(InputError, match=r"No Sensor with @iot\.id 99"):
            service.create_entity(session, "Things", broken, base_url=BASE)


def test_missing_and_unknown_properties_are_named(hub: Hub) -> None:
    with hub.session() as session:
        with pytest.raises(InputError, match=r"Thing.name is required"):
            service.create_entity(session, "Things", {"description": "x"}, base_url=BASE)
        with pytest.raises(InputError, match="no property 'colour'"):
            service.create_entity(session, "Things", {"name": "x", "colour": 1}, base_url=BASE)
        payload = station()
        del payload["Datastreams"][0]["Sensor"]
        with pytest.raises(InputError, match="needs its Sensor"):
            service.create_entity(session, "Things", payload, base_url=BASE)


def test_observation_gets_a_feature_generated_from_the_things_location(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        for value in (10, 12.5):
            service.create_entity(
                session,
                "Observations",
                {"phenomenonTime": "2024-01-01T10:00:00+01:00", "result": value},
                base_url=BASE,
                parent=("Datastreams", 1, "Observations"),
            )
    assert count(hub, StaFeatureOfInterest) == 1
    feature = get(hub, "Observations(1)/FeatureOfInterest")
    assert feature["feature"] == point(7.22, 51.54)
    observation = get(hub, "Observations(1)")
    assert observation["phenomenonTime"] == "2024-01-01T09:00:00Z"
    assert observation["result"] == 10
    assert isinstance(observation["result"], int)
    assert get(hub, "Observations(2)")["result"] == 12.5


def test_observation_without_feature_and_location_is_refused(hub: Hub) -> None:
    payload = station()
    del payload["Locations"]
    with hub.session() as session:
        service.create_entity(session, "Things", payload, base_url=BASE)
        with pytest.raises(InputError, match="has no Location"):
            service.create_entity(
                session, "Observations", {"result": 1, "Datastream": {"@iot.id": 1}}, base_url=BASE
            )


def test_create_observations_answers_a_self_link_or_an_error_per_row(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        answers = service.create_observations(
            session,
            [
                {
                    "Datastream": {"@iot.id": 1},
                    "components": ["phenomenonTime", "result", "resultTime"],
                    "dataArray@iot.count": 3,
                    "dataArray": [
                        ["2024-01-01T00:00:00Z", 20, "2024-01-01T00:01:00Z"],
                        ["yesterday", 21, None],
                        ["2024-01-01T02:00:00Z", 22.5, None],
                    ],
                }
            ],
            base_url=BASE,
        )
    assert answers[0] == f"{BASE}/Observations(1)"
    assert answers[1].startswith("error: phenomenonTime must be an ISO 8601 time")
    assert answers[2] == f"{BASE}/Observations(2)"
    assert get(hub, "Observations(2)")["result"] == 22.5
    datastream = get(hub, "Datastreams(1)")
    assert datastream["phenomenonTime"] == "2024-01-01T00:00:00Z/2024-01-01T02:00:00Z"
    assert datastream["resultTime"] == "2024-01-01T00:01:00Z/2024-01-01T00:01:00Z"
    assert datastream["observedArea"] == point(7.22, 51.54)


def test_create_observations_with_feature_ids_and_a_missing_feature(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        service.create_entity(
            session,
            "FeaturesOfInterest",
            {
                "name": "Kreuzung",
                "encodingType": "application/geo+json",
                "feature": point(7.3, 51.6),
            },
            base_url=BASE,
        )
        answers = service.create_observations(
            session,
            [
                {
                    "Datastream": {"@iot.id": 1},
                    "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
                    "dataArray": [["2024-01-01T00:00:00Z", 1, 1], ["2024-01-01T01:00:00Z", 2, 7]],
                }
            ],
            base_url=BASE,
        )
    assert answers == [f"{BASE}/Observations(1)", "error: no such FeatureOfInterest"]


def test_observed_area_is_a_polygon_hull_never_a_multipolygon(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        for x, y in ((7.0, 51.0), (8.0, 51.0), (8.0, 52.0), (7.5, 51.5), (7.0, 52.0)):
            service.create_entity(
                session,
                "Observations",
                {
                    "result": 1,
                    "Datastream": {"@iot.id": 1},
                    "FeatureOfInterest": {
                        "name": f"{x},{y}",
                        "encodingType": "application/geo+json",
                        "feature": point(x, y),
                    },
                },
                base_url=BASE,
            )
    area = get(hub, "Datastreams(1)")["observedArea"]
    assert area["type"] == "Polygon"
    ring = area["coordinates"][0]
    assert ring[0] == ring[-1]
    assert sorted(map(tuple, ring[:-1])) == [(7.0, 51.0), (7.0, 52.0), (8.0, 51.0), (8.0, 52.0)]


def test_bulk_insert_skips_repeated_dedup_keys(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
    rows = [
        {"phenomenonTime": f"2024-01-01T{h:02d}:00:00Z", "result": h, "dedup_key": f"m-{h}"}
        for h in range(10)
    ]
    with hub.session() as session:
        assert service.insert_observations_bulk(session, 1, rows) == 10
    with hub.session() as session:
        assert service.insert_observations_bulk(session, 1, [*rows[5:], {"result": 1}]) == 1
    assert count(hub, StaObservation) == 11
    page = get(hub, "Datastreams(1)/Observations", **{"$orderby": "result desc", "$top": "2"})
    assert [o["result"] for o in page["value"]] == [9, 8]


def test_update_merge_put_and_json_patch(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        service.update_entity(session, "Things", 1, {"description": "neu"}, base_url=BASE)
    thing = get(hub, "Things(1)")
    assert (thing["name"], thing["description"]) == ("Station Herne Mitte", "neu")
    with hub.session() as session:
        service.update_entity(
            session, "Things", 1, {"name": "Ersetzt"}, base_url=BASE, replace=True
        )
    thing = get(hub, "Things(1)")
    assert (thing["name"], thing["description"], thing["properties"]) == ("Ersetzt", "", None)
    with hub.session() as session:
        service.patch_entity_json(
            session,
            "Things",
            1,
            [
                {"op": "add", "path": "/properties", "value": {"owner": "Stadtwerke"}},
                {"op": "add", "path": "/properties/since", "value": 2020},
                {"op": "replace", "path": "/name", "value": "Gepatcht"},
                {"op": "test", "path": "/properties/owner", "value": "Stadtwerke"},
            ],
            base_url=BASE,
        )
    thing = get(hub, "Things(1)")
    assert thing["name"] == "Gepatcht"
    assert thing["properties"] == {"owner": "Stadtwerke", "since": 2020}
    with hub.session() as session, pytest.raises(CheckFailed, match="test failed"):
        service.patch_entity_json(
            session, "Things", 1, [{"op": "test", "path": "/name", "value": "x"}], base_url=BASE
        )


def test_changing_a_things_location_records_a_historical_location(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        service.create_entity(
            session,
            "Locations",
            {"name": "Neu", "encodingType": "application/geo+json", "location": point(7.3, 51.5)},
            base_url=BASE,
        )
        service.update_entity(session, "Things", 1, {"Locations": [{"@iot.id": 2}]}, base_url=BASE)
    assert [loc["@iot.id"] for loc in get(hub, "Things(1)/Locations")["value"]] == [2]
    assert count(hub, StaHistoricalLocation) == 2


def test_delete_cascades_as_the_standard_says(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        service.insert_observations_bulk(session, 1, [{"result": 1}, {"result": 2}])
        service.delete_entity(session, "Observations", 1)
    assert count(hub, StaObservation) == 1
    with hub.session() as session:
        service.delete_entity(session, "Sensors", 1)
    assert count(hub, StaDatastream) == 0
    assert count(hub, StaObservation) == 0
    with hub.session() as session:
        service.delete_entity(session, "Locations", 1)
    assert count(hub, StaHistoricalLocation) == 0
    with hub.session() as session:
        service.delete_entity(session, "Things", 1)
        with pytest.raises(NotFound):
            service.delete_entity(session, "Things", 1)


def test_writes_need_the_sensors_write_scope(hub: Hub) -> None:
    with hub.session() as session:
        with pytest.raises(Unauthorized):
            service.create_entity(session, "Things", station(), base_url=BASE, principal=ANONYMOUS)
        with pytest.raises(Forbidden):
            service.create_entity(
                session, "Things", station(), base_url=BASE, principal=READER_TOKEN
            )
        service.create_entity(session, "Things", station(), base_url=BASE, principal=WRITER)


def test_subscribers_hear_of_new_observations_after_commit(hub: Hub) -> None:
    heard: list[tuple[Sequence[str], dict[str, Any]]] = []
    unsubscribe = events.subscribe(lambda topics, body: heard.append((topics, body)))
    try:
        with hub.session() as session:
            service.create_entity(session, "Things", station(), base_url=BASE)
            service.create_observations(
                session,
                [
                    {
                        "Datastream": {"@iot.id": 1},
                        "components": ["phenomenonTime", "result"],
                        "dataArray": [["2024-01-01T00:00:00Z", 5]],
                    }
                ],
                base_url=BASE,
            )
            assert heard == []  # not before the commit
    finally:
        unsubscribe()
    assert ["Things", "Things(1)"] in [list(t) for t, _ in heard]
    topics, body = next((t, b) for t, b in heard if "Observations" in t)
    assert "Datastreams(1)/Observations" in topics
    assert "FeaturesOfInterest(1)/Observations" in topics
    assert "Observations" in topics
    assert body["result"] == 5
    assert body["@iot.selfLink"] == f"{BASE}/Observations(1)"


def test_a_datastream_tied_to_a_hidden_dataset_looks_absent(hub: Hub) -> None:
    add_version(hub, "luftmessung", "SELECT 1 AS id")  # a draft: hidden from the public
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        service.insert_observations_bulk(session, 1, [{"result": 1}])
        service.assign_dataset(session, 1, "luftmessung")
    assert get(hub, "Datastreams")["value"] == []
    assert get(hub, "Observations")["value"] == []
    assert get(hub, "Things(1)/Datastreams")["value"] == []
    with pytest.raises(NotFound):
        get(hub, "Datastreams(1)")
    with pytest.raises(NotFound):
        get(hub, "Observations(1)")
    admin = Principal(name="admin", user_id=9, roles=frozenset({Role.ADMIN}))
    with hub.session() as session:
        page = read(session, admin, parse_path("Datastreams"), parse_options({}), base_url=BASE)
    assert [d["@iot.id"] for d in page["value"]] == [1]
    with hub.session() as session, pytest.raises(Forbidden):
        service.assign_dataset(session, 1, None, principal=READER_TOKEN)
    with hub.session() as session:
        service.assign_dataset(session, 1, None, principal=admin)
    assert get(hub, "Datastreams(1)/Observations")["value"][0]["result"] == 1


def test_observation_properties_and_result_kinds_round_trip(hub: Hub) -> None:
    with hub.session() as session:
        service.create_entity(session, "Things", station(), base_url=BASE)
        for result in (True, {"pm10": 3}, [1, 2], None, "ok", 2.0):
            service.create_entity(
                session,
                "Observations",
                {
                    "phenomenonTime": "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z",
                    "resultTime": "2024-01-01T01:00:05Z",
                    "validTime": "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z",
                    "result": result,
                    "resultQuality": {"flag": "ok"},
                    "parameters": {"sensor_id": "abc"},
                    "Datastream": {"@iot.id": 1},
                },
                base_url=BASE,
            )
    first = get(hub, "Observations(1)")
    assert first["phenomenonTime"] == "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z"
    assert first["resultTime"] == "2024-01-01T01:00:05Z"
    assert first["validTime"] == "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"
    assert first["resultQuality"] == {"flag": "ok"}
    assert first["parameters"] == {"sensor_id": "abc"}
    results = [o["result"] for o in get(hub, "Observations")["value"]]
    assert results == [True, {"pm10": 3}, [1, 2], None, "ok", 2.0]
    assert [
        o["@iot.id"] for o in get(hub, "Observations", **{"$filter": "result eq true"})["value"]
    ] == [1]
    assert [
        o["@iot.id"] for o in get(hub, "Observations", **{"$filter": "result eq null"})["value"]
    ] == [4]
    assert [
        o["@iot.id"]
        for o in get(hub, "Observations", **{"$filter": "parameters/sensor_id eq 'abc'"})["value"]
    ] == [1, 2, 3, 4, 5, 6]
    assert [
        o["@iot.id"]
        for o in get(hub, "Observations", **{"$filter": "phenomenonTime lt 2024-01-01T00:30:00Z"})[
            "value"
        ]
    ] == []


def test_linking_a_location_from_either_side_records_history(hub: Hub) -> None:
    thing = station()
    del thing["Locations"]
    location = {"name": "Mast", "encodingType": "application/geo+json", "location": point(7, 51)}
    with hub.session() as session:
        service.create_entity(session, "Things", thing, base_url=BASE)
        service.create_entity(
            session, "Locations", location, base_url=BASE, parent=("Things", 1, "Locations")
        )
        service.create_entity(
            session, "Locations", {**location, "Things": [{"@iot.id": 1}]}, base_url=BASE
        )
    assert [loc["@iot.id"] for loc in get(hub, "Things(1)/Locations")["value"]] == [1, 2]
    history = get(
        hub, "HistoricalLocations", **{"$expand": "Locations($select=id),Thing($select=id)"}
    )
    assert [[loc["@iot.id"] for loc in h["Locations"]] for h in history["value"]] == [[1], [2]]
    assert all(h["Thing"] == {"@iot.id": 1} for h in history["value"])
