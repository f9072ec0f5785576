"""Measures: record a decision of the city, link its indicator, and evaluate its effect.

A measure names its indicator either as a dataset column (time, value and station columns of
the dataset's published version) or as a SensorThings datastream per station. Evaluating reads
the indicator's daily means per station, runs :func:`datenschatz.analysis.effects.evaluate`
and stores the result together with the exact inputs (dataset version and hash), so that any
evaluation can be re-run and compared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, ensure_can_manage_measures, ensure_version
from datenschatz.analysis.effects import daily, evaluate
from datenschatz.db.analysis_models import Measure, MeasureEvaluation
from datenschatz.errors import Conflict, InputError, NotFound
from datenschatz.hub import Hub
from datenschatz.store.duck import sql_ident, sql_string

NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,98}[a-z0-9]")


class DatasetIndicator(BaseModel):
    """A column of a dataset: one row per station and time."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    time: str
    value: str
    group: str
    version: int | None = None  # pinned version; default: the published one


class DatastreamIndicator(BaseModel):
    """SensorThings datastreams, one per station (``{station: datastream id}``)."""

    model_config = ConfigDict(extra="forbid")

    datastreams: dict[str, int]


class WeatherSeries(BaseModel):
    """Weather to normalize with: columns of a dataset (daily means over its rows), or streams."""

    model_config = ConfigDict(extra="forbid")

    dataset: str | None = None
    time: str | None = None
    columns: list[str] = Field(default_factory=list)
    datastreams: dict[str, int] = Field(default_factory=dict)  # variable name: datastream id

    @model_validator(mode="after")
    def _one_source(self) -> WeatherSeries:
        if self.dataset is not None:
            if not self.time or not self.columns:
                raise ValueError("a weather dataset needs time and columns")
            if self.datastreams:
                raise ValueError("give a weather dataset or datastreams, not both")
        elif not self.datastreams:
            raise ValueError("give a weather dataset (with time and columns) or datastreams")
        return self


class MeasureSpec(BaseModel):
    """The measure file (``measure.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str = ""
    description: str = ""
    decided: date | None = None
    start: date
    end: date | None = None
    indicator: DatasetIndicator | DatastreamIndicator
    treated: list[str] = Field(min_length=1)
    control: list[str] = Field(min_length=1)
    expected: Literal["decrease", "increase", "either"] = "decrease"
    unit: str | None = None
    informed_by: list[str] = Field(default_factory=list)  # dataset slugs behind the decision
    area: dict[str, Any] | None = None  # GeoJSON geometry of the treated area
    weather: WeatherSeries | None = None  # optional: also evaluate weather-normalized series

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError("use 3-100 lowercase letters, digits and hyphens")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MeasureSpec:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        both = set(self.treated) & set(self.control)
        if both:
            raise ValueError("a station cannot be treated and control: " + ", ".join(sorted(both)))
        if isinstance(self.indicator, DatastreamIndicator):
            missing = sorted(set(self.treated + self.control) - set(self.indicator.datastreams))
            if missing:
                raise ValueError("no datastream given for stations: " + ", ".join(missing))
        return self


def parse_spec(data: Mapping[str, Any], *, source: str = "measure") -> MeasureSpec:
    """Validate a measure file; InputError names the first bad field."""
    try:
        return MeasureSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "measure"
        raise InputError(f"{source}: {where}: {first['msg']}", parameter=where) from None


def create_measure(
    session: Session, principal: Principal, spec: MeasureSpec, *, replace: bool = False
) -> Measure:
    """Store a measure (or replace the one of that name, when ``replace``)."""
    ensure_can_manage_measures(principal)
    measure = session.scalar(select(Measure).where(Measure.name == spec.name))
    if measure is not None and not replace:
        raise Conflict("A measure of this name exists.", parameter="name", measure=spec.name)
    if measure is None:
        measure = Measure(name=spec.name, created_by=principal.name)
        session.add(measure)
    measure.title = spec.title or spec.name
    measure.description = spec.description
    measure.decided_on = spec.decided
    measure.start = spec.start
    measure.end = spec.end
    measure.spec = spec.model_dump(mode="json")
    session.flush()
    from datenschatz.governance import audit

    audit.record(
        session,
        actor=principal.name,
        action="measure.replace" if replace else "measure.create",
        object_type="measure",
        object_id=spec.name,
    )
    return measure


def get_measure(session: Session, name: str) -> Measure:
    measure = session.scalar(select(Measure).where(Measure.name == name))
    if measure is None:
        raise NotFound("No such measure.", measure=name)
    return measure


def list_measures(session: Session) -> list[dict[str, Any]]:
    return [
        measure_dict(m) for m in session.scalars(select(Measure).order_by(Measure.start.desc()))
    ]


def measure_dict(measure: Measure) -> dict[str, Any]:
    return {
        "name": measure.name,
        "title": measure.title,
        "description": measure.description,
        "decided": measure.decided_on.isoformat() if measure.decided_on else None,
        "start": measure.start.isoformat(),
        "end": measure.end.isoformat() if measure.end else None,
        "spec": measure.spec,
    }


Daily = dict[str, dict[date, float]]


def _dataset_series(
    hub: Hub, session: Session, principal: Principal, spec: MeasureSpec
) -> tuple[Daily, dict[str, Any], str | None]:
    indicator = spec.indicator
    assert isinstance(indicator, DatasetIndicator)
    version = ensure_version(session, principal, indicator.dataset, indicator.version)
    fields = {f["name"]: f for f in version.table_schema.get("fields", [])}
    for param in ("time", "value", "group"):
        column = getattr(indicator, param)
        if column not in fields:
            raise InputError(
                f"indicator.{param}: the dataset has no column named {column!r}.",
                parameter=f"indicator.{param}",
            )
    if fields[indicator.value]["type"] not in ("number", "integer"):
        raise InputError("indicator.value: the column is not numeric.", parameter="indicator.value")
    if fields[indicator.time]["type"] not in ("date", "datetime"):
        raise InputError(
            "indicator.time: the column is not a date or time.", parameter="indicator.time"
        )
    stations = spec.treated + spec.control
    path = hub.store.path(version.path)
    t, v, g = (sql_ident(c) for c in (indicator.time, indicator.value, indicator.group))
    wanted = ", ".join(sql_string(s) for s in stations)
    con = hub.query_duckdb()
    try:
        rows = con.execute(
            f"SELECT CAST({g} AS VARCHAR) AS station, CAST({t} AS DATE) AS day, "
            f"avg({v}) AS value FROM read_parquet({sql_string(str(path))}) "
            f"WHERE CAST({g} AS VARCHAR) IN ({wanted}) AND {v} IS NOT NULL "
            "GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()
    series: Daily = {s: {} for s in stations}
    for station, day, value in rows:
        series[station][day] = float(value)
    inputs = {
        "dataset": indicator.dataset,
        "version": version.number,
        "sha256": version.sha256,
        "columns": {"time": indicator.time, "value": indicator.value, "group": indicator.group},
    }
    return series, inputs, fields[indicator.value].get("unit")


def _stream_daily(session: Session, stream_id: int) -> tuple[dict[date, float], int]:
    """Daily means of a datastream's numeric results, and how many observations fed them."""
    from datenschatz.db.sensor_models import StaObservation

    rows = session.execute(
        select(StaObservation.phenomenon_time_start, StaObservation.result_number).where(
            StaObservation.datastream_id == stream_id,
            StaObservation.result_number.is_not(None),
        )
    ).all()
    return daily([(t.date(), float(v)) for t, v in rows if v is not None]), len(rows)


def _datastream_series(
    session: Session, spec: MeasureSpec
) -> tuple[Daily, dict[str, Any], str | None]:
    from datenschatz.db.sensor_models import StaDatastream

    indicator = spec.indicator
    assert isinstance(indicator, DatastreamIndicator)
    series: Daily = {}
    counts: dict[str, int] = {}
    unit = None
    for station in spec.treated + spec.control:
        stream_id = indicator.datastreams[station]
        stream = session.get(StaDatastream, stream_id)
        if stream is None:
            raise InputError(
                "indicator.datastreams: no such datastream.",
                parameter="indicator.datastreams",
                station=station,
            )
        unit = (stream.unit_of_measurement or {}).get("symbol") or unit
        series[station], counts[station] = _stream_daily(session, stream_id)
    inputs = {"datastreams": dict(indicator.datastreams), "observations": counts}
    return series, inputs, unit


def _weather_series(
    hub: Hub, session: Session, principal: Principal, weather: WeatherSeries
) -> tuple[dict[str, dict[date, float]], dict[str, Any]]:
    if weather.dataset is None:
        found = {
            name: _stream_daily(session, stream_id)[0]
            for name, stream_id in weather.datastreams.items()
        }
        return found, {"datastreams": dict(weather.datastreams)}
    version = ensure_version(session, principal, weather.dataset)
    fields = {f["name"] for f in version.table_schema.get("fields", [])}
    for column in [weather.time or "", *weather.columns]:
        if column not in fields:
            raise InputError(
                f"weather: the dataset has no column named {column!r}.", parameter="weather"
            )
    t = sql_ident(weather.time or "")
    averages = ", ".join(f"avg({sql_ident(c)})" for c in weather.columns)
    con = hub.query_duckdb()
    try:
        table = con.execute(
            f"SELECT CAST({t} AS DATE), {averages} "
            f"FROM read_parquet({sql_string(str(hub.store.path(version.path)))}) "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    series: dict[str, dict[date, float]] = {c: {} for c in weather.columns}
    for day, *values in table:
        for column, value in zip(weather.columns, values, strict=True):
            if value is not None:
                series[column][day] = float(value)
    inputs = {"dataset": weather.dataset, "version": version.number, "sha256": version.sha256}
    return series, inputs


def _group_daily(series: Daily, stations: list[str]) -> dict[date, float]:
    days: dict[date, list[float]] = {}
    for station in stations:
        for day, value in series[station].items():
            days.setdefault(day, []).append(value)
    return {d: sum(v) / len(v) for d, v in days.items()}


def evaluate_measure(
    hub: Hub, principal: Principal, name: str, *, store: bool = True
) -> dict[str, Any]:
    """Evaluate the measure from its indicator's current data; store and return the result.

    Storing an evaluation is the steward's act; anyone may read the stored ones.
    """
    if store:
        ensure_can_manage_measures(principal)
    with hub.session() as session:
        measure = get_measure(session, name)
        spec = parse_spec(measure.spec)
        if isinstance(spec.indicator, DatasetIndicator):
            series, inputs, unit = _dataset_series(hub, session, principal, spec)
        else:
            series, inputs, unit = _datastream_series(session, spec)
        for station, values in series.items():
            if not values:
                raise InputError(
                    "The indicator has no values for a station of the measure.",
                    parameter="treated" if station in spec.treated else "control",
                    station=station,
                )
        result = evaluate(
            {s: series[s] for s in spec.treated},
            {s: series[s] for s in spec.control},
            spec.start,
            unit=spec.unit or unit or "",
            end=spec.end,
        )
        data = result.to_dict()
        if spec.weather is not None:
            from datenschatz.analysis.weather import normalize

            weather, weather_inputs = _weather_series(hub, session, principal, spec.weather)
            normalized = evaluate(
                {"treated": normalize(_group_daily(series, spec.treated), weather)},
                {"control": normalize(_group_daily(series, spec.control), weather)},
                spec.start,
                unit=spec.unit or unit or "",
                end=spec.end,
            )
            data["weather_normalized"] = {**normalized.to_dict(), "variables": sorted(weather)}
            inputs = {**inputs, "weather": weather_inputs}
        data["expected"] = spec.expected
        data["direction_as_expected"] = _as_expected(spec.expected, data["did"])
        data["inputs"] = inputs
        if store:
            row = MeasureEvaluation(
                measure_id=measure.id, inputs=inputs, result=data, created_by=principal.name
            )
            session.add(row)
            session.flush()
            data["evaluation_id"] = row.id
            data["evaluated_at"] = row.created_at.isoformat()
        return data


def _as_expected(expected: str, did: Mapping[str, float]) -> bool | None:
    """True when the whole interval lies on the expected side of zero, None if it spans zero."""
    if did["ci_low"] <= 0.0 <= did["ci_high"]:
        return None
    if expected == "either":
        return True
    return (did["estimate"] < 0) == (expected == "decrease")


def evaluations(session: Session, name: str) -> list[dict[str, Any]]:
    """Stored evaluations of a measure, newest first."""
    measure = get_measure(session, name)
    rows = session.scalars(
        select(MeasureEvaluation)
        .where(MeasureEvaluation.measure_id == measure.id)
        .order_by(MeasureEvaluation.id.desc())
    )
    return [
        {**r.result, "evaluation_id": r.id, "evaluated_at": r.created_at.isoformat()} for r in rows
    ]
