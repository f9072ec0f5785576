"""Relational tables of the OGC SensorThings model (``sta_*``).

Geometries (Location.location, FeatureOfInterest.feature, Datastream.observedArea) are stored
as GeoJSON; Locations and FeaturesOfInterest also keep their bounding box in four float
columns, so that geo filters can narrow the candidates in SQL before the exact test.

An Observation's result is stored by kind: numbers in ``result_number`` (``result_kind`` says
whether it was an integer), strings in ``result_string``, anything else (booleans, objects,
arrays, null) in ``result_json``. Observations are indexed on (datastream, phenomenon time),
and ``dedup_key`` (unique, nullable) lets the MQTT bridge and the importers drop repeated
deliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, JSONType

# 64-bit ids on PostgreSQL; SQLite auto-increments only an INTEGER PRIMARY KEY (64-bit anyway).
BigId = BigInteger().with_variant(Integer(), "sqlite")

TS = DateTime(timezone=True)

# JSON where Python None is SQL NULL (no 'null' text to write and parse per observation).
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class StaThing(Base):
    __tablename__ = "sta_thing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)


class StaLocation(Base):
    __tablename__ = "sta_location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100))
    location: Mapped[dict[str, Any]] = mapped_column(JSONType)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    min_x: Mapped[float | None] = mapped_column(Float, default=None)
    min_y: Mapped[float | None] = mapped_column(Float, default=None)
    max_x: Mapped[float | None] = mapped_column(Float, default=None)
    max_y: Mapped[float | None] = mapped_column(Float, default=None)


thing_location = Table(
    "sta_thing_location",
    Base.metadata,
    Column("thing_id", ForeignKey("sta_thing.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "location_id",
        ForeignKey("sta_location.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class StaHistoricalLocation(Base):
    __tablename__ = "sta_historical_location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(TS)
    thing_id: Mapped[int] = mapped_column(
        ForeignKey("sta_thing.id", ondelete="CASCADE"), index=True
    )


historical_location_location = Table(
    "sta_historical_location_location",
    Base.metadata,
    Column(
        "historical_location_id",
        ForeignKey("sta_historical_location.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "location_id",
        ForeignKey("sta_location.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class StaSensor(Base):
    __tablename__ = "sta_sensor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100))
    # "metadata" is reserved on declarative classes: the attribute is named differently.
    sensor_metadata: Mapped[str] = mapped_column("metadata", Text)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)


class StaObservedProperty(Base):
    __tablename__ = "sta_observed_property"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    definition: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)


class StaDatastream(Base):
    __tablename__ = "sta_datastream"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    observation_type: Mapped[str] = mapped_column(String(300))
    unit_of_measurement: Mapped[dict[str, Any]] = mapped_column(JSONType)
    observed_area: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    phenomenon_time_start: Mapped[datetime | None] = mapped_column(TS, default=None)
    phenomenon_time_end: Mapped[datetime | None] = mapped_column(TS, default=None)
    result_time_start: Mapped[datetime | None] = mapped_column(TS, default=None)
    result_time_end: Mapped[datetime | None] = mapped_column(TS, default=None)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    thing_id: Mapped[int] = mapped_column(
        ForeignKey("sta_thing.id", ondelete="CASCADE"), index=True
    )
    sensor_id: Mapped[int] = mapped_column(
        ForeignKey("sta_sensor.id", ondelete="CASCADE"), index=True
    )
    observed_property_id: Mapped[int] = mapped_column(
        ForeignKey("sta_observed_property.id", ondelete="CASCADE"), index=True
    )
    # The dataset whose access level governs reading this datastream (None: public).
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset.id", ondelete="SET NULL"), default=None, index=True
    )


class StaFeatureOfInterest(Base):
    __tablename__ = "sta_feature_of_interest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100))
    feature: Mapped[dict[str, Any]] = mapped_column(JSONType)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    # The Location this feature was generated from (None: created by a client).
    source_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("sta_location.id", ondelete="SET NULL"), default=None, index=True
    )
    min_x: Mapped[float | None] = mapped_column(Float, default=None)
    min_y: Mapped[float | None] = mapped_column(Float, default=None)
    max_x: Mapped[float | None] = mapped_column(Float, default=None)
    max_y: Mapped[float | None] = mapped_column(Float, default=None)


class StaObservation(Base):
    __tablename__ = "sta_observation"
    __table_args__ = (
        Index("ix_sta_observation_datastream_time", "datastream_id", "phenomenon_time_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phenomenon_time_start: Mapped[datetime] = mapped_column(TS)
    phenomenon_time_end: Mapped[datetime | None] = mapped_column(TS, default=None)
    result_time: Mapped[datetime | None] = mapped_column(TS, default=None)
    # 0 float, 1 integer, 2 string, 3 other JSON (bool, object, array, null).
    result_kind: Mapped[int] = mapped_column(SmallInteger)
    result_number: Mapped[float | None] = mapped_column(Float, default=None)
    result_string: Mapped[str | None] = mapped_column(Text, default=None)
    result_json: Mapped[Any] = mapped_column(NullableJSON, default=None, nullable=True)
    result_quality: Mapped[Any] = mapped_column(NullableJSON, default=None, nullable=True)
    valid_time_start: Mapped[datetime | None] = mapped_column(TS, default=None)
    valid_time_end: Mapped[datetime | None] = mapped_column(TS, default=None)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, default=None)
    datastream_id: Mapped[int] = mapped_column(ForeignKey("sta_datastream.id", ondelete="CASCADE"))
    feature_of_interest_id: Mapped[int] = mapped_column(
        ForeignKey("sta_feature_of_interest.id", ondelete="CASCADE"), index=True
    )
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True, default=None)


# Which features of interest a datastream's observations use: keeps observedArea cheap.
datastream_feature = Table(
    "sta_datastream_feature",
    Base.metadata,
    Column("datastream_id", ForeignKey("sta_datastream.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "feature_of_interest_id",
        ForeignKey("sta_feature_of_interest.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
