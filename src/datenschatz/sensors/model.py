"""The SensorThings entity sets: their properties, navigation properties and tables.

Everything that is the same for every entity set (reading, writing, filtering, expanding)
works from these descriptions; what differs (HistoricalLocations, generated features of
interest, observation results) is handled by name in the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from datenschatz.db.sensor_models import (
    StaDatastream,
    StaFeatureOfInterest,
    StaHistoricalLocation,
    StaLocation,
    StaObservation,
    StaObservedProperty,
    StaSensor,
    StaThing,
    historical_location_location,
    thing_location,
)
from datenschatz.errors import InputError

# Property kinds: str, text (long string), json (any JSON), time (instant), interval (start and
# end columns), geo (GeoJSON column), result (an observation's result columns).


@dataclass(frozen=True)
class Prop:
    name: str
    column: str
    kind: str
    required: bool = False
    read_only: bool = False
    default: Any = None


@dataclass(frozen=True)
class Nav:
    name: str
    target: str
    many: bool
    fk: str | None = None  # a column of this table pointing at the target (to-one)
    back_fk: str | None = None  # a column of the target table pointing here (to-many)
    link: Table | None = None  # a link table (to-many both ways)
    link_here: str = ""
    link_there: str = ""
    required: bool = False


@dataclass(frozen=True)
class EntitySet:
    name: str
    singular: str
    table: Table
    props: dict[str, Prop]
    navs: dict[str, Nav] = field(default_factory=dict)


def _props(*props: Prop) -> dict[str, Prop]:
    return {p.name: p for p in props}


def _navs(*navs: Nav) -> dict[str, Nav]:
    return {n.name: n for n in navs}


NAME = Prop("name", "name", "str", required=True)
DESCRIPTION = Prop("description", "description", "text", default="")
PROPERTIES = Prop("properties", "properties", "json")
ENCODING = Prop("encodingType", "encoding_type", "str", required=True)

ENTITY_SETS: dict[str, EntitySet] = {
    "Things": EntitySet(
        "Things",
        "Thing",
        StaThing.__table__,  # type: ignore[arg-type]
        _props(NAME, DESCRIPTION, PROPERTIES),
        _navs(
            Nav(
                "Locations",
                "Locations",
                True,
                link=thing_location,
                link_here="thing_id",
                link_there="location_id",
            ),
            Nav("HistoricalLocations", "HistoricalLocations", True, back_fk="thing_id"),
            Nav("Datastreams", "Datastreams", True, back_fk="thing_id"),
        ),
    ),
    "Locations": EntitySet(
        "Locations",
        "Location",
        StaLocation.__table__,  # type: ignore[arg-type]
        _props(
            NAME,
            DESCRIPTION,
            ENCODING,
            Prop("location", "location", "geo", required=True),
            PROPERTIES,
        ),
        _navs(
            Nav(
                "Things",
                "Things",
                True,
                link=thing_location,
                link_here="location_id",
                link_there="thing_id",
            ),
            Nav(
                "HistoricalLocations",
                "HistoricalLocations",
                True,
                link=historical_location_location,
                link_here="location_id",
                link_there="historical_location_id",
            ),
        ),
    ),
    "HistoricalLocations": EntitySet(
        "HistoricalLocations",
        "HistoricalLocation",
        StaHistoricalLocation.__table__,  # type: ignore[arg-type]
        _props(Prop("time", "time", "time", required=True)),
        _navs(
            Nav("Thing", "Things", False, fk="thing_id", required=True),
            Nav(
                "Locations",
                "Locations",
                True,
                link=historical_location_location,
                link_here="historical_location_id",
                link_there="location_id",
            ),
        ),
    ),
    "Datastreams": EntitySet(
        "Datastreams",
        "Datastream",
        StaDatastream.__table__,  # type: ignore[arg-type]
        _props(
            NAME,
            DESCRIPTION,
            Prop("unitOfMeasurement", "unit_of_measurement", "json", required=True),
            Prop("observationType", "observation_type", "str", required=True),
            Prop("observedArea", "observed_area", "geo", read_only=True),
            Prop("phenomenonTime", "phenomenon_time", "interval", read_only=True),
            Prop("resultTime", "result_time", "interval", read_only=True),
            PROPERTIES,
        ),
        _navs(
            Nav("Thing", "Things", False, fk="thing_id", required=True),
            Nav("Sensor", "Sensors", False, fk="sensor_id", required=True),
            Nav(
                "ObservedProperty",
                "ObservedProperties",
                False,
                fk="observed_property_id",
                required=True,
            ),
            Nav("Observations", "Observations", True, back_fk="datastream_id"),
        ),
    ),
    "Sensors": EntitySet(
        "Sensors",
        "Sensor",
        StaSensor.__table__,  # type: ignore[arg-type]
        _props(
            NAME,
            DESCRIPTION,
            ENCODING,
            Prop("metadata", "metadata", "str", required=True),
            PROPERTIES,
        ),
        _navs(Nav("Datastreams", "Datastreams", True, back_fk="sensor_id")),
    ),
    "ObservedProperties": EntitySet(
        "ObservedProperties",
        "ObservedProperty",
        StaObservedProperty.__table__,  # type: ignore[arg-type]
        _props(
            NAME,
            Prop("definition", "definition", "str", required=True),
            DESCRIPTION,
            PROPERTIES,
        ),
        _navs(Nav("Datastreams", "Datastreams", True, back_fk="observed_property_id")),
    ),
    "Observations": EntitySet(
        "Observations",
        "Observation",
        StaObservation.__table__,  # type: ignore[arg-type]
        _props(
            Prop("phenomenonTime", "phenomenon_time", "interval"),
            Prop("resultTime", "result_time", "time"),
            Prop("result", "result", "result", required=True),
            Prop("resultQuality", "result_quality", "json"),
            Prop("validTime", "valid_time", "interval"),
            Prop("parameters", "parameters", "json"),
        ),
        _navs(
            Nav("Datastream", "Datastreams", False, fk="datastream_id", required=True),
            Nav("FeatureOfInterest", "FeaturesOfInterest", False, fk="feature_of_interest_id"),
        ),
    ),
    "FeaturesOfInterest": EntitySet(
        "FeaturesOfInterest",
        "FeatureOfInterest",
        StaFeatureOfInterest.__table__,  # type: ignore[arg-type]
        _props(
            NAME,
            DESCRIPTION,
            ENCODING,
            Prop("feature", "feature", "geo", required=True),
            PROPERTIES,
        ),
        _navs(Nav("Observations", "Observations", True, back_fk="feature_of_interest_id")),
    ),
}

SINGULAR = {es.singular: es for es in ENTITY_SETS.values()}


def entity_set(name: str) -> EntitySet:
    try:
        return ENTITY_SETS[name]
    except KeyError:
        raise InputError(f"Unknown entity set {name!r}.", parameter="path") from None


# --- time values -----------------------------------------------------------------------------


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 instant as an aware UTC datetime (no offset means UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                f"{field} must be an ISO 8601 time, e.g. 2024-05-01T12:00:00Z.", field=field
            ) from None
    else:
        raise InputError(f"{field} must be an ISO 8601 time string.", field=field)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_interval(value: Any, field: str) -> tuple[datetime, datetime | None]:
    """An instant or an ISO 8601 interval ``start/end``."""
    if isinstance(value, str) and "/" in value:
        start, _, end = value.partition("/")
        first, last = parse_time(start, field), parse_time(end, field)
        if last < first:
            raise InputError(f"{field}: the interval ends before it starts.", field=field)
        return first, last
    return parse_time(value, field), None


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_time(value: datetime | None) -> str | None:
    moment = as_utc(value)
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def format_interval(start: datetime | None, end: datetime | None) -> str | None:
    if start is None:
        return None
    if end is None or end == start:
        return format_time(start)
    return f"{format_time(start)}/{format_time(end)}"
