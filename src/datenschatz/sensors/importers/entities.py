"""Find-or-create of SensorThings entities for importers, so that a second import adds nothing.

Each imported Thing, Sensor and Datastream carries ``properties.sourceKey`` (for example
``sensor.community/location/1846``); an ObservedProperty is found by name and definition.
Everything is created through the SensorThings service (the same path as HTTP), observations
through its bulk path with a ``dedup_key`` per observation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.config import Settings
from datenschatz.db.sensor_models import StaDatastream, StaObservedProperty, StaSensor, StaThing
from datenschatz.sensors import service
from datenschatz.sensors.importers.quantities import OM_MEASUREMENT, Quantity

KEY = "sourceKey"
CHUNK = 5000


def base_url_from_settings(settings: Settings) -> str:
    """The absolute SensorThings base URL for self links made outside an HTTP request."""
    if settings.sta_base_url:
        return settings.sta_base_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}/sta/v1.1"


@dataclass
class ImportReport:
    """What an import did; ``skipped`` lists examples of lines that could not be read."""

    files: int = 0
    readings: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped_lines: int = 0
    skipped: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    datastreams: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def count_created(self, entity_set: str) -> None:
        self.created[entity_set] = self.created.get(entity_set, 0) + 1


class Registry:
    """Entities by source key within one session, created on first use."""

    def __init__(self, session: Session, base_url: str, report: ImportReport) -> None:
        self.session = session
        self.base_url = base_url
        self.report = report
        self._things = self._keys(StaThing)
        self._sensors = self._keys(StaSensor)
        self._datastreams = self._keys(StaDatastream)
        self._properties: dict[tuple[str, str], int] = {
            (name, definition): ident
            for ident, name, definition in session.execute(
                select(
                    StaObservedProperty.id,
                    StaObservedProperty.name,
                    StaObservedProperty.definition,
                )
            )
        }

    def _keys(
        self, model: type[StaThing] | type[StaSensor] | type[StaDatastream]
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        for ident, properties in self.session.execute(select(model.id, model.properties)):
            if isinstance(properties, Mapping) and isinstance(properties.get(KEY), str):
                found.setdefault(properties[KEY], int(ident))
        return found

    def _create(self, entity_set: str, payload: dict[str, Any]) -> int:
        entity = service.create_entity(self.session, entity_set, payload, base_url=self.base_url)
        self.report.count_created(entity_set)
        return int(entity["@iot.id"])

    def thing(
        self,
        key: str,
        *,
        name: str,
        description: str,
        properties: dict[str, Any],
        point: tuple[float, float] | None,
        location_name: str,
    ) -> int:
        if key in self._things:
            return self._things[key]
        payload: dict[str, Any] = {
            "name": name,
            "description": description,
            "properties": {**properties, KEY: key},
        }
        if point is not None:
            payload["Locations"] = [
                {
                    "name": location_name,
                    "description": f"Location of {name}",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [point[0], point[1]]},
                }
            ]
        self._things[key] = ident = self._create("Things", payload)
        return ident

    def sensor(
        self, key: str, *, name: str, description: str, metadata: str, properties: dict[str, Any]
    ) -> int:
        if key in self._sensors:
            return self._sensors[key]
        self._sensors[key] = ident = self._create(
            "Sensors",
            {
                "name": name,
                "description": description,
                "encodingType": "text/html",
                "metadata": metadata,
                "properties": {**properties, KEY: key},
            },
        )
        return ident

    def observed_property(self, quantity: Quantity) -> int:
        wanted = (quantity.name, quantity.definition)
        if wanted not in self._properties:
            self._properties[wanted] = self._create(
                "ObservedProperties", quantity.observed_property()
            )
        return self._properties[wanted]

    def datastream(
        self,
        key: str,
        *,
        name: str,
        description: str,
        quantity: Quantity,
        thing_id: int,
        sensor_id: int,
        properties: dict[str, Any],
    ) -> int:
        if key not in self._datastreams:
            self._datastreams[key] = self._create(
                "Datastreams",
                {
                    "name": name,
                    "description": description,
                    "observationType": OM_MEASUREMENT,
                    "unitOfMeasurement": quantity.unit(),
                    "properties": {**properties, KEY: key},
                    "Thing": {"@iot.id": thing_id},
                    "Sensor": {"@iot.id": sensor_id},
                    "ObservedProperty": {"@iot.id": self.observed_property(quantity)},
                },
            )
        ident = self._datastreams[key]
        if ident not in self.report.datastreams:
            self.report.datastreams.append(ident)
        return ident

    def observations(self, datastream_id: int, rows: Iterable[dict[str, Any]]) -> None:
        """Insert rows (STA keys plus ``dedup_key``); repeated keys are counted, not stored."""
        given = list(rows)
        unique = list({row["dedup_key"]: row for row in given}.values())
        self.report.duplicates += len(given) - len(unique)
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start : start + CHUNK]
            stored = service.insert_observations_bulk(self.session, datastream_id, chunk)
            self.report.stored += stored
            self.report.duplicates += len(chunk) - stored
