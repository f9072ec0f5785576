"""Aggregates of one datastream's observations for charts and measures.

Hourly and daily means (with count, minimum and maximum) of the numeric results, and the days
over a daily limit — by default the EU limit for PM10: a daily mean above 50 µg/m³, allowed on
35 days a calendar year (Directive 2008/50/EC, Annex XI). Buckets are UTC hours and UTC days.

A daily mean counts as valid, as the directive asks, when at least 75 % of the day's hours
(18 of 24) have an observation; only valid days count as exceedances, the others are listed
with ``valid: false``.

The database does the grouping (one query over the (datastream, phenomenon time) index), so
the cost follows the observations in the asked range, not the datastream's whole history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, can_see_dataset
from datenschatz.db.models import Dataset
from datenschatz.db.sensor_models import StaDatastream, StaObservation
from datenschatz.errors import InputError, NotFound

Interval = Literal["hour", "day"]
INTERVALS: tuple[Interval, ...] = ("hour", "day")
PM10_DAILY_LIMIT = 50.0
ALLOWED_DAYS_PER_YEAR = 35
MIN_HOURS_PER_DAY = 18
MAX_BUCKETS = 100_000
NUMERIC_KINDS = (0, 1)  # result_kind: float, integer
_CONCENTRATION_UNITS = {"µg/m³", "μg/m³", "ug/m3", "µg/m3", "μg/m3"}


@dataclass(frozen=True)
class Bucket:
    start: datetime
    count: int
    mean: float | None
    min: float | None
    max: float | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = _iso(self.start)
        return data


@dataclass(frozen=True)
class DayMean:
    day: str  # YYYY-MM-DD (UTC)
    mean: float
    count: int
    hours: int  # hours of the day with at least one observation
    valid: bool
    exceeds: bool


@dataclass(frozen=True)
class Exceedances:
    datastream_id: int
    limit: float
    unit: str
    days: list[DayMean]

    @property
    def days_over_limit(self) -> int:
        return sum(1 for d in self.days if d.valid and d.exceeds)

    def to_dict(self) -> dict[str, Any]:
        by_year: dict[str, int] = {}
        for d in self.days:
            if d.valid and d.exceeds:
                by_year[d.day[:4]] = by_year.get(d.day[:4], 0) + 1
        return {
            "datastream": self.datastream_id,
            "limit": self.limit,
            "unit": self.unit,
            "rule": (
                f"daily mean above {self.limit:g} {self.unit}; a day counts with at least "
                f"{MIN_HOURS_PER_DAY} of 24 hours measured"
            ),
            "days_over_limit": self.days_over_limit,
            "days_over_limit_by_year": by_year,
            "allowed_days_per_year": ALLOWED_DAYS_PER_YEAR,
            "valid_days": sum(1 for d in self.days if d.valid),
            "days": [asdict(d) for d in self.days],
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def ensure_datastream(session: Session, principal: Principal, datastream_id: int) -> StaDatastream:
    """The datastream, if ``principal`` may read it (hidden looks absent).

    Reading follows the access level of the dataset the datastream belongs to; a datastream
    of no dataset is public.
    """
    datastream = session.get(StaDatastream, datastream_id)
    if datastream is not None and datastream.dataset_id is not None:
        dataset = session.get(Dataset, datastream.dataset_id)
        if dataset is None or not can_see_dataset(principal, dataset):
            datastream = None
    if datastream is None:
        raise NotFound("No such datastream.", datastream=datastream_id)
    return datastream


def _bucket(session: Session, interval: Interval) -> ColumnElement[Any]:
    column = StaObservation.phenomenon_time_start
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(interval, func.timezone("UTC", column))
    # SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff': a prefix is the bucket.
    return func.substr(column, 1, 13 if interval == "hour" else 10)


def _parse_bucket(value: Any, interval: Interval) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = str(value)
    if interval == "hour":
        return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


def _range(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and start >= end:
        raise InputError("'from' must be before 'to'.", parameter="from")
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(StaObservation.phenomenon_time_start >= start)
    if end is not None:
        where.append(StaObservation.phenomenon_time_start < end)
    return where


def aggregate(
    session: Session,
    principal: Principal,
    datastream_id: int,
    interval: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Bucket]:
    """Count, mean, min and max of the numeric results per UTC hour or day in [start, end)."""
    if interval not in INTERVALS:
        raise InputError("interval must be 'hour' or 'day'.", parameter="interval")
    ensure_datastream(session, principal, datastream_id)
    step: Interval = "hour" if interval == "hour" else "day"
    bucket = _bucket(session, step).label("bucket")
    value = StaObservation.result_number
    query = (
        select(
            bucket,
            func.count(value),
            func.avg(value),
            func.min(value),
            func.max(value),
        )
        .where(
            StaObservation.datastream_id == datastream_id,
            StaObservation.result_kind.in_(NUMERIC_KINDS),
            *_range(start, end),
        )
        .group_by(bucket)
        .order_by(bucket)
        .limit(MAX_BUCKETS + 1)
    )
    rows = session.execute(query).all()
    if len(rows) > MAX_BUCKETS:
        raise InputError(
            f"More than {MAX_BUCKETS} buckets: narrow 'from' and 'to' or take interval=day.",
            parameter="to",
        )
    return [
        Bucket(
            start=_parse_bucket(row[0], step),
            count=int(row[1]),
            mean=None if row[2] is None else float(row[2]),
            min=None if row[3] is None else float(row[3]),
            max=None if row[4] is None else float(row[4]),
        )
        for row in rows
    ]


def exceedances(
    session: Session,
    principal: Principal,
    datastream_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: float = PM10_DAILY_LIMIT,
) -> Exceedances:
    """Daily means in [start, end) and the valid days whose mean is above ``limit``.

    The datastream must measure a concentration in µg/m³ (PM10, PM2.5, NO2, ...).
    """
    datastream = ensure_datastream(session, principal, datastream_id)
    unit = str((datastream.unit_of_measurement or {}).get("symbol") or "")
    if unit not in _CONCENTRATION_UNITS:
        raise InputError(
            "Exceedances need a datastream measured in µg/m³ (e.g. PM10).",
            parameter="datastream",
        )
    hourly = aggregate(session, principal, datastream_id, "hour", start=start, end=end)
    days: dict[str, list[Bucket]] = {}
    for bucket in hourly:
        days.setdefault(bucket.start.date().isoformat(), []).append(bucket)
    daily: list[DayMean] = []
    for day, hours in days.items():
        count = sum(h.count for h in hours)
        if count == 0:
            continue
        # The mean of all observations of the day (not of hourly means: sensor.community
        # sensors send every 2.5 minutes, official stations once an hour; both come out right).
        total = sum((h.mean or 0.0) * h.count for h in hours)
        mean = total / count
        valid = sum(1 for h in hours if h.count) >= MIN_HOURS_PER_DAY
        daily.append(DayMean(day, round(mean, 3), count, len(hours), valid, mean > limit))
    return Exceedances(datastream_id, limit, unit, daily)


def parse_time_parameter(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 instant (or date) from a query parameter; UTC when it has no offset."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"'{name}' must be an ISO 8601 time such as 2024-05-01T10:00:00Z.", parameter=name
        ) from None
    return _utc(moment)


def last_day(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[now - 24 h, now): the window of the 'last 24 hours' views."""
    end = _utc(now) or datetime.now(UTC)
    return end - timedelta(hours=24), end
