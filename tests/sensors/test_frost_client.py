"""The real FROST Python client (frost-sta-client) against the app served by uvicorn.

The client speaks HTTP through ``requests`` with HTTP Basic credentials; the token travels as
the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from tests.api.test_ogc_owslib import serving
from tests.conftest import IN_CI, make_hub
from tests.query.builders import BACKENDS, clean_postgres
from tests.sensors.test_sta_http import issue_sensor_token

try:
    import frost_sta_client as fsc
    from frost_sta_client.model.ext.data_array_document import DataArrayDocument
    from frost_sta_client.model.ext.data_array_value import DataArrayValue
    from frost_sta_client.model.ext.unitofmeasurement import UnitOfMeasurement
except ImportError:  # pragma: no cover - a dev dependency
    if IN_CI:
        raise
    pytest.skip("frost-sta-client is not installed", allow_module_level=True)

# The client itself calls a deprecated furl property when it builds query URLs.
pytestmark = pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    directory = tmp_path_factory.mktemp("frost")
    if request.param == "sqlite":
        database = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        database = request.getfixturevalue("postgres_url")
        clean_postgres(database)
    hub: Hub = make_hub(directory / "data", database)
    with serving(create_app(hub)) as root:
        yield root + "/sta/v1.1", issue_sensor_token(hub)


@pytest.fixture(scope="module")
def url(served: tuple[str, str]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def sta(served: tuple[str, str]) -> Any:
    """The client with the token as the password of HTTP Basic (any user name)."""
    root, token = served
    return fsc.SensorThingsService(root, auth_handler=fsc.AuthHandler("gateway", token))


def _thing(name: str, x: float, y: float) -> Any:
    location = fsc.Location(
        name=f"{name} location",
        description="Mast",
        encoding_type="application/geo+json",
        location={"type": "Point", "coordinates": [x, y]},
    )
    sensor = fsc.Sensor(
        name="SDS011",
        description="Feinstaubsensor",
        encoding_type="application/pdf",
        metadata="https://example.org/sds011.pdf",
    )
    observed_property = fsc.ObservedProperty(
        name="PM10",
        definition="http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
        description="Particulate matter < 10 µm",
    )
    datastream = fsc.Datastream(
        name=f"{name} PM10",
        description="PM10",
        observation_type=MEASUREMENT,
        unit_of_measurement=UnitOfMeasurement(
            name="microgram per cubic meter", symbol="µg/m³", definition="ucum:ug/m3"
        ),
        sensor=sensor,
        observed_property=observed_property,
    )
    return fsc.Thing(
        name=name,
        description="Messstation",
        properties={"district": "Mitte"},
        locations=[location],
        datastreams=[datastream],
    )


def test_frost_client_round_trip(sta: Any) -> None:
    # create with deep insert
    thing = _thing("Station Herne Mitte", 7.22, 51.54)
    sta.create(thing)
    assert thing.id == 1
    other = _thing("Station Wanne", 7.16, 51.53)
    sta.create(other)

    # find
    found = sta.things().find(thing.id)
    assert found.name == "Station Herne Mitte"
    assert found.properties == {"district": "Mitte"}

    # query with filter, expand, orderby and top
    things = (
        sta.things()
        .query()
        .filter("startswith(name, 'Station')")
        .expand("Locations,Datastreams")
        .orderby("name", "asc")
        .top(5)
        .list()
    )
    listed = list(things)
    assert [t.name for t in listed] == ["Station Herne Mitte", "Station Wanne"]
    assert listed[0].locations.entities[0].location["coordinates"] == [7.22, 51.54]

    # CreateObservations with a data array
    datastream = sta.datastreams().find(1)
    document = DataArrayValue()
    document.datastream = datastream
    document.components = {
        DataArrayValue.Property.PHENOMENON_TIME,
        DataArrayValue.Property.RESULT,
    }
    for hour in range(25):
        observation = fsc.Observation(
            phenomenon_time=f"2024-01-01T{hour % 24:02d}:00:00Z"
            if hour < 24
            else "2024-01-02T00:00:00Z",
            result=float(hour),
            datastream=datastream,
        )
        document.add_observation(observation)
    array = DataArrayDocument()
    array.add_data_array_value(document)
    created = sta.observations().create(array)
    assert len(created) == 25
    assert created[0].self_link.endswith("/Observations(1)")

    # iterate through next links (the server pages by 10 here)
    observations = sta.datastreams().find(1).get_observations().query().top(10).list()
    results = [o.result for o in observations]
    assert sorted(results) == [float(h) for h in range(25)]

    # update (PUT)
    found.description = "gewartet"
    sta.update(found)
    assert sta.things().find(1).description == "gewartet"

    # JSON Patch
    sta.patch(found, [{"op": "replace", "path": "/name", "value": "Station Herne"}])
    assert sta.things().find(1).name == "Station Herne"

    # delete
    sta.delete(other)
    with pytest.raises(Exception, match=r"404|[Nn]ot [Ff]ound"):
        sta.things().find(2)


def test_frost_client_without_credentials_cannot_write(url: str) -> None:
    anonymous = fsc.SensorThingsService(url)
    with pytest.raises(Exception, match=r"401|[Uu]nauthorized"):
        anonymous.create(_thing("Station X", 7.0, 51.0))
    assert requests.get(url + "/Things", timeout=10).status_code == 200
