"""sensor.community archive CSVs → Things, Locations, Sensors, Datastreams, Observations.

The archive (archive.sensor.community) keeps one file per sensor and day, ``;``-separated,
with the header ``sensor_id;sensor_type;location;lat;lon;timestamp;<values>``; timestamps are
UTC without an offset. The value columns depend on the sensor type: SDS011 and other dust
sensors ``P1`` (PM10) and ``P2`` (PM2.5), some ``P0`` (PM1); DHT22 ``temperature`` (°C) and
``humidity`` (%); BME280 also ``pressure`` and ``pressure_sealevel`` (Pa). Columns the importer
does not know (``durP1``, ``ratioP1``, ``altitude``, ...) are ignored.

The model: one Thing per sensor.community *location* (a station; its sensors share it), with
its Location as a GeoJSON Point; one Sensor per sensor id; one Datastream per sensor and
quantity. Importing the same file again adds nothing: entities are found by their
sensor.community ids, observations carry a ``dedup_key`` made of sensor, quantity and time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from datenschatz.errors import IngestError
from datenschatz.sensors.importers.entities import ImportReport, Registry
from datenschatz.sensors.importers.quantities import (
    HUMIDITY,
    PM1,
    PM10,
    PM25,
    PRESSURE,
    PRESSURE_SEALEVEL,
    TEMPERATURE,
    Quantity,
)

SOURCE = "sensor.community"
REQUIRED = ("sensor_id", "sensor_type", "location", "lat", "lon", "timestamp")
VALUE_COLUMNS: dict[str, Quantity] = {
    "P1": PM10,
    "P2": PM25,
    "P0": PM1,
    "temperature": TEMPERATURE,
    "humidity": HUMIDITY,
    "pressure": PRESSURE,
    "pressure_sealevel": PRESSURE_SEALEVEL,
}
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Station:
    """A sensor.community location with one sensor on it, as a file names them."""

    sensor_id: str
    sensor_type: str
    location_id: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Reading:
    """One value of one quantity measured by one sensor at one time (UTC)."""

    station: Station
    quantity: Quantity
    time: datetime
    value: float


@dataclass
class ParsedFile:
    """What a file held: readings, and the lines that could not be read (with examples)."""

    name: str
    readings: list[Reading] = field(default_factory=list)
    skipped_lines: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    quantities: list[str] = field(default_factory=list)

    def skip(self, line: int, reason: str) -> None:
        self.skipped_lines += 1
        if len(self.skipped_examples) < MAX_EXAMPLES:
            self.skipped_examples.append(f"line {line}: {reason}")


def parse_file(path: Path, *, display_name: str | None = None) -> ParsedFile:
    """Read one archive CSV; a wrong header raises IngestError naming the file."""
    shown = display_name or path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError("The file is not UTF-8 text.", file=shown) from None
    except OSError:
        raise IngestError("The file cannot be read.", file=shown) from None
    return parse_text(text, shown)


def parse_text(text: str, name: str) -> ParsedFile:
    rows = csv.reader(io.StringIO(text), delimiter=";")
    header = next(rows, None)
    if not header:
        raise IngestError("The file is empty.", file=name)
    columns = [c.strip() for c in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise IngestError(
            "Not a sensor.community archive file: the header lacks " + ", ".join(missing) + ".",
            file=name,
            line=1,
        )
    index = {c: i for i, c in enumerate(columns)}
    values = [(index[c], c, q) for c, q in VALUE_COLUMNS.items() if c in index]
    if not values:
        raise IngestError(
            "No known value column (P1, P2, P0, temperature, humidity, pressure, "
            "pressure_sealevel).",
            file=name,
            line=1,
        )
    parsed = ParsedFile(name, quantities=[q.key for _i, _c, q in values])
    stations: dict[tuple[str, ...], Station] = {}
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(columns):
            row = row + [""] * (len(columns) - len(row))
        try:
            time = parse_time(row[index["timestamp"]])
        except ValueError:
            parsed.skip(line, "timestamp is not ISO 8601")
            continue
        ident = tuple(row[index[c]].strip() for c in REQUIRED[:5])
        station = stations.get(ident)
        if station is None:
            station = stations[ident] = Station(
                sensor_id=ident[0],
                sensor_type=ident[1].upper(),
                location_id=ident[2],
                lat=_float_or_none(ident[3]),
                lon=_float_or_none(ident[4]),
            )
        if not station.sensor_id:
            parsed.skip(line, "sensor_id is empty")
            continue
        for i, column, quantity in values:
            cell = row[i].strip()
            if not cell:
                continue
            try:
                value = float(cell)
            except ValueError:
                parsed.skip(line, f"{column} is not a number")
                continue
            if value != value or value in (float("inf"), float("-inf")):
                parsed.skip(line, f"{column} is not a finite number")
                continue
            parsed.readings.append(Reading(station, quantity, time, value))
    return parsed


def parse_time(value: str) -> datetime:
    """An archive timestamp: UTC when it has no offset."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _float_or_none(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None


def stations_of(readings: Sequence[Reading]) -> Iterator[Station]:
    seen: set[Station] = set()
    for reading in readings:
        if reading.station not in seen:
            seen.add(reading.station)
            yield reading.station


# --- into the SensorThings model ----------------------------------------------------------


def import_files(
    session: Session, paths: Sequence[Path], *, base_url: str, report: ImportReport | None = None
) -> ImportReport:
    """Import archive CSVs; the caller's session commits. Idempotent: see the module doc."""
    report = report or ImportReport()
    registry = Registry(session, base_url, report)
    for path in paths:
        parsed = parse_file(path)
        report.files += 1
        report.readings += len(parsed.readings)
        report.skipped_lines += parsed.skipped_lines
        report.skipped.extend(f"{parsed.name} {example}" for example in parsed.skipped_examples)
        by_stream: dict[int, list[dict[str, Any]]] = {}
        for reading in parsed.readings:
            ident = _datastream(registry, reading.station, reading.quantity)
            by_stream.setdefault(ident, []).append(
                {
                    "phenomenonTime": reading.time,
                    "result": reading.value,
                    "dedup_key": (
                        f"sc:{reading.station.sensor_id}:{reading.quantity.key}:"
                        f"{reading.time.isoformat()}"
                    ),
                }
            )
        for ident, rows in by_stream.items():
            registry.observations(ident, rows)
    return report


def _datastream(registry: Registry, station: Station, quantity: Quantity) -> int:
    point = None
    if station.lat is not None and station.lon is not None:
        point = (station.lon, station.lat)
    thing = registry.thing(
        f"{SOURCE}/location/{station.location_id}",
        name=f"sensor.community station {station.location_id}",
        description=(
            f"Citizen-science measuring station (sensor.community location {station.location_id})."
        ),
        properties={"source": SOURCE, "location_id": station.location_id},
        point=point,
        location_name=f"sensor.community location {station.location_id}",
    )
    sensor = registry.sensor(
        f"{SOURCE}/sensor/{station.sensor_id}",
        name=f"{station.sensor_type} {station.sensor_id}",
        description=f"{station.sensor_type} sensor {station.sensor_id} of sensor.community",
        metadata=f"https://sensor.community/en/sensors/{station.sensor_type.lower()}/",
        properties={
            "source": SOURCE,
            "sensor_id": station.sensor_id,
            "sensor_type": station.sensor_type,
        },
    )
    return registry.datastream(
        f"{SOURCE}/sensor/{station.sensor_id}/{quantity.key}",
        name=f"{quantity.name} · {station.sensor_type} {station.sensor_id}",
        description=(
            f"{quantity.description}, measured by {station.sensor_type} sensor "
            f"{station.sensor_id} (sensor.community), in {quantity.unit_symbol}"
        ),
        quantity=quantity,
        thing_id=thing,
        sensor_id=sensor,
        properties={"source": SOURCE, "license": "ODbL-1.0 (database), DbCL-1.0 (contents)"},
    )
