"""Shared SensorThings test data: a station with a location, a PM10 datastream, a writer."""

from __future__ import annotations

from typing import Any

from datenschatz.access.policy import Principal

BASE = "http://test/sta/v1.1"
WRITER = Principal(name="gateway", user_id=1, scopes=frozenset({"sensors:write"}))
READER_TOKEN = Principal(name="reader", user_id=2, scopes=frozenset({"read"}))
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def station(name: str = "Station Herne Mitte", x: float = 7.22, y: float = 51.54) -> dict[str, Any]:
    """A Thing with one Location and one PM10 Datastream (Sensor, ObservedProperty inline)."""
    return {
        "name": name,
        "description": "Feinstaub-Messstation",
        "properties": {"owner": "Stadt Herne", "height": 3},
        "Locations": [
            {
                "name": f"{name} location",
                "description": "Mast",
                "encodingType": "application/geo+json",
                "location": point(x, y),
            }
        ],
        "Datastreams": [
            {
                "name": f"{name} PM10",
                "description": "PM10 hourly",
                "unitOfMeasurement": {
                    "name": "microgram per cubic meter",
                    "symbol": "µg/m³",
                    "definition": "http://unitsofmeasure.org/ucum.html#para-30",
                },
                "observationType": MEASUREMENT,
                "Sensor": {
                    "name": "SDS011",
                    "description": "Nova Fitness SDS011",
                    "encodingType": "application/pdf",
                    "metadata": "https://example.org/sds011.pdf",
                },
                "ObservedProperty": {
                    "name": "PM10",
                    "definition": "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
                    "description": "Particulate matter < 10 µm",
                },
            }
        ],
    }
