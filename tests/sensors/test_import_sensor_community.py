"""sensor.community archive CSVs → SensorThings entities, with the right units, idempotently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datenschatz.cli import app
from datenschatz.db.sensor_models import (
    StaDatastream,
    StaLocation,
    StaObservation,
    StaObservedProperty,
    StaSensor,
    StaThing,
)
from datenschatz.errors import IngestError
from datenschatz.hub import Hub
from datenschatz.sensors.importers import sensor_community
from tests.conftest import shared_file

BASE = "http://test/sta/v1.1"
FOLDER = "data/airquality-sensorcommunity-bochum"
SDS011 = f"{FOLDER}/2021-04-26_sds011_sensor_3659.csv"
DHT22 = f"{FOLDER}/2021-04-26_dht22_sensor_3660.csv"

# A BME280 file in the archive's layout (synthetic values, written for this test).
BME280 = (
    "sensor_id;sensor_type;location;lat;lon;timestamp;pressure;altitude;pressure_sealevel;"
    "temperature;humidity\n"
    "7001;BME280;5001;51.540;7.220;2024-05-01T10:00:03;100512.25;;101650.00;18.20;55.10\n"
    "7001;BME280;5001;51.540;7.220;2024-05-01T10:02:31;100511.75;;101649.50;18.30;\n"
    "7001;BME280;5001;51.540;7.220;kaputt;1;;1;1;1\n"
    "7001;BME280;5001;51.540;7.220;2024-05-01T10:05:01;viel;;101649.00;18.40;55.00\n"
)


def counts(hub: Hub) -> dict[str, int]:
    with hub.session() as session:
        return {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (
                StaThing,
                StaLocation,
                StaSensor,
                StaObservedProperty,
                StaDatastream,
                StaObservation,
            )
        }


def test_parse_reads_the_real_archive_files() -> None:
    dust = sensor_community.parse_file(shared_file(SDS011))
    assert dust.skipped_lines == 0
    assert dust.quantities == ["pm10", "pm2_5"]
    first = dust.readings[0]
    assert (first.station.sensor_id, first.station.sensor_type, first.station.location_id) == (
        "3659",
        "SDS011",
        "1846",
    )
    assert first.time.isoformat() == "2021-04-26T00:01:55+00:00"  # UTC, no offset in the file
    assert (first.quantity.key, first.value) == ("pm10", 11.77)
    assert (dust.readings[1].quantity.key, dust.readings[1].value) == ("pm2_5", 7.10)
    assert len(dust.readings) == 2 * 573
    climate = sensor_community.parse_file(shared_file(DHT22))
    assert {r.quantity.key for r in climate.readings} == {"temperature", "humidity"}
    assert len(climate.readings) == 2 * 579


def test_import_creates_entities_with_units_and_is_idempotent(hub: Hub) -> None:
    files = [shared_file(SDS011), shared_file(DHT22)]
    with hub.session() as session:
        report = sensor_community.import_files(session, files, base_url=BASE)
    assert report.stored == 2 * 573 + 2 * 579
    assert report.created == {
        "Things": 1,  # one station (location 1846) with both sensors
        "Sensors": 2,
        "ObservedProperties": 4,
        "Datastreams": 4,
    }
    before = counts(hub)
    assert before["StaLocation"] == 1
    assert before["StaObservation"] == 2 * 573 + 2 * 579

    with hub.session() as session:
        units = {
            ds.name.split(" · ")[0]: ds.unit_of_measurement["symbol"]
            for ds in session.scalars(select(StaDatastream))
        }
        location = session.scalars(select(StaLocation)).one()
        pm10 = session.scalars(select(StaDatastream).where(StaDatastream.name.startswith("PM10")))
        pm10_ds = pm10.one()
    assert units == {
        "PM10": "µg/m³",
        "PM2.5": "µg/m³",
        "Air temperature": "°C",
        "Relative humidity": "%",
    }
    assert location.location == {"type": "Point", "coordinates": [7.224, 51.482]}
    assert pm10_ds.phenomenon_time_start is not None
    assert pm10_ds.phenomenon_time_start.isoformat().startswith("2021-04-26T00:01:55")

    with hub.session() as session:
        again = sensor_community.import_files(session, files, base_url=BASE)
    assert (again.stored, again.duplicates, again.created) == (0, 2 * 573 + 2 * 579, {})
    assert counts(hub) == before


def test_bme280_pressure_in_pascal_and_bad_lines_skipped(hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "2024-05-01_bme280_sensor_7001.csv"
    path.write_text(BME280, encoding="utf-8")
    with hub.session() as session:
        report = sensor_community.import_files(session, [path], base_url=BASE)
    assert report.skipped_lines == 2
    assert report.skipped == [
        f"{path.name} line 4: timestamp is not ISO 8601",
        f"{path.name} line 5: pressure is not a number",
    ]
    with hub.session() as session:
        streams = {ds.name.split(" · ")[0]: ds.id for ds in session.scalars(select(StaDatastream))}
        assert set(streams) == {
            "Air pressure",
            "Air pressure at sea level",
            "Air temperature",
            "Relative humidity",
        }
        pressure = session.scalars(
            select(StaObservation.result_number)
            .where(StaObservation.datastream_id == streams["Air pressure"])
            .order_by(StaObservation.phenomenon_time_start)
        ).all()
        unit = session.get(StaDatastream, streams["Air pressure"])
        assert unit is not None
        assert unit.unit_of_measurement["symbol"] == "Pa"
    assert pressure == [100512.25, 100511.75]


def test_a_file_that_is_not_from_the_archive_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("id;value\n1;2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="header lacks") as caught:
        sensor_community.parse_file(path)
    assert caught.value.details["file"] == "other.csv"


def test_cli_import_sensor_community(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", database_url)
    runner = CliRunner()
    args = ["sensors", "import", "sensor-community", str(shared_file(SDS011)), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["stored"] == 2 * 573
    second = runner.invoke(app, args)
    assert json.loads(second.stdout)["duplicates"] == 2 * 573
    missing = runner.invoke(app, ["sensors", "import", "sensor-community", "nope.csv"])
    assert missing.exit_code != 0
