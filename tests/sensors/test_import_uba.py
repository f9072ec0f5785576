"""Umweltbundesamt exports (synthetic fixtures in the UBA layouts) → SensorThings entities."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from datenschatz.db.sensor_models import StaDatastream, StaLocation, StaObservation, StaThing
from datenschatz.errors import IngestError
from datenschatz.hub import Hub
from datenschatz.sensors.importers import uba

BASE = "http://test/sta/v1.1"
FIXTURES = Path(__file__).parent / "fixtures"
META = FIXTURES / "uba_meta.json"
MEASURES = FIXTURES / "uba_measures.json"
STATIONS_CSV = FIXTURES / "uba_stations.csv"
HOURLY_CSV = FIXTURES / "uba_pm10_hourly.csv"


def observations(hub: Hub, code: str) -> list[tuple[datetime, datetime | None, float | None]]:
    with hub.session() as session:
        rows = session.execute(
            select(
                StaObservation.phenomenon_time_start,
                StaObservation.phenomenon_time_end,
                StaObservation.result_number,
            )
            .join(StaDatastream, StaDatastream.id == StaObservation.datastream_id)
            .join(StaThing, StaThing.id == StaDatastream.thing_id)
            .where(StaThing.name.startswith(code))
            .order_by(StaObservation.phenomenon_time_start)
        ).all()
    return [
        (
            start.replace(tzinfo=UTC) if start.tzinfo is None else start,
            None if end is None else (end.replace(tzinfo=UTC) if end.tzinfo is None else end),
            value,
        )
        for start, end, value in rows
    ]


def test_component_names_codes_and_symbols() -> None:
    assert uba.component_quantity("PM10") is uba.PM10
    assert uba.component_quantity("Feinstaub (PM₁₀)") is uba.PM10
    assert uba.component_quantity("PM₂,₅") is uba.PM25
    assert uba.component_quantity("PM2") is uba.PM25
    assert uba.component_quantity("Stickstoffdioxid (NO₂)") is uba.NO2
    assert uba.component_quantity("Benzol") is None


def test_meta_and_measures_json_give_hourly_observations_in_utc(hub: Hub) -> None:
    with hub.session() as session:
        report = uba.import_files(session, [MEASURES, META], base_url=BASE)  # any order
    assert report.created["Things"] == 2
    assert report.stored == 48
    values = observations(hub, "DENW038")
    assert len(values) == 24
    # 2024-01-15 00:00-01:00 MEZ is 2024-01-14 23:00-00:00 UTC.
    assert values[0] == (
        datetime(2024, 1, 14, 23, tzinfo=UTC),
        datetime(2024, 1, 15, 0, tzinfo=UTC),
        18.0,
    )
    # The last hour ends at "24:00" MEZ, midnight after the day.
    assert values[-1][1] == datetime(2024, 1, 15, 23, tzinfo=UTC)
    with hub.session() as session:
        thing = session.scalars(select(StaThing).where(StaThing.name.startswith("DENW038"))).one()
        location = session.scalars(select(StaLocation)).first()
        datastream = session.scalars(
            select(StaDatastream).where(StaDatastream.thing_id == thing.id)
        ).one()
    assert thing.properties is not None
    assert thing.properties["station_code"] == "DENW038"
    assert location is not None
    assert location.location["type"] == "Point"
    assert datastream.unit_of_measurement["symbol"] == "µg/m³"
    assert datastream.name == "PM10 hourly mean · DENW038"

    with hub.session() as session:
        again = uba.import_files(session, [META, MEASURES], base_url=BASE)
    assert (again.stored, again.duplicates, again.created) == (0, 48, {})


def test_csv_station_list_then_hourly_csv(hub: Hub) -> None:
    with hub.session() as session:
        stations = uba.import_files(session, [STATIONS_CSV], base_url=BASE)
    assert stations.created["Things"] == 2
    with hub.session() as session:
        report = uba.import_files(session, [HOURLY_CSV], base_url=BASE)
    assert report.stored == 47  # 48 hours, one without a value ("-")
    values = observations(hub, "DENW134")
    # "16.01.2024 01:00" names the end of the hour 00:00-01:00 MEZ.
    assert values[0] == (
        datetime(2024, 1, 15, 23, tzinfo=UTC),
        datetime(2024, 1, 16, 0, tzinfo=UTC),
        56.0,
    )
    assert values[-1][1] == datetime(2024, 1, 17, 23, tzinfo=UTC)  # "24:00" MEZ


def test_values_of_an_unknown_station_are_skipped_with_a_reason(hub: Hub) -> None:
    with hub.session() as session:
        report = uba.import_files(session, [HOURLY_CSV], base_url=BASE)
    assert report.stored == 0
    assert report.skipped_lines == 47
    assert "import the station list first" in report.skipped[0]


def test_measures_json_needs_the_api_metadata(hub: Hub) -> None:
    with hub.session() as session:
        uba.import_files(session, [STATIONS_CSV], base_url=BASE)
    with hub.session() as session:
        report = uba.import_files(session, [MEASURES], base_url=BASE)
    assert report.stored == 0
    assert report.skipped_lines == 2  # the station ids are unknown to a CSV station list


def test_not_a_uba_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="Stationscode"):
        uba.parse_file(path)
    other = tmp_path / "x.json"
    other.write_text('{"foo": 1}', encoding="utf-8")
    with pytest.raises(IngestError, match="Not a UBA export"):
        uba.parse_file(other)
