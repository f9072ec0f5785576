"""Parameters of ``/collections/{id}/items`` and ``/items/{featureId}`` to typed requests.

Framework-free; every mistake is an InputError naming the parameter. The selection becomes a
:class:`~datenschatz.store.query.Where` of the shared query layer wherever it can:

- property filters ``name=value`` are equality filters, the value read as the column's type;
- ``datetime`` (an instant, ``start/end``, ``../end`` or ``start/..``) becomes range filters on
  the collection's time column; a date alone covers its whole day (UTC);
- ``bbox`` in WGS 84 degrees (``bbox-crs`` CRS84 or EPSG:4326, the latter latitude first)
  becomes the query layer's bbox. A ``bbox`` in a projected CRS (UTM, Web Mercator) stays an
  :class:`Area`, tested exactly in that CRS by :mod:`datenschatz.ogc.query`.

``limit`` over the maximum is lowered to the maximum, as OGC API - Features Part 1 asks
(a larger limit "shall not result in an error"); below 1 it is a 400.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from datenschatz.errors import InputError
from datenschatz.ogc.crs import CRS84, Crs, parse_crs
from datenschatz.store import params as query_params
from datenschatz.store.query import BBox, Column, Filter, Kind, Op, Table, Where

Pairs = Sequence[tuple[str, str]]

DEFAULT_LIMIT = 10
ITEMS_PARAMETERS = frozenset({"limit", "offset", "cursor", "bbox", "bbox-crs", "crs", "datetime"})
ITEM_PARAMETERS = frozenset({"crs"})
TIME_KINDS = (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMPTZ)


def _bad(parameter: str, message: str) -> InputError:
    return InputError(message, parameter=parameter)


@dataclass(frozen=True)
class Area:
    """A bbox in a CRS other than WGS 84 degrees, x/y in easting/northing order."""

    crs: Crs
    minx: float
    miny: float
    maxx: float
    maxy: float


@dataclass(frozen=True)
class ItemsRequest:
    where: Where  # property filters, datetime, bbox in WGS 84 degrees
    area: Area | None  # bbox in another CRS
    crs: Crs  # of the output geometry
    limit: int
    offset: int = 0
    cursor: str | None = None

    @property
    def selection(self) -> str:
        """A stable text of what selects features (not order, page or output CRS)."""
        area = None
        if self.area is not None:
            a = self.area
            area = [a.crs.uri, a.minx, a.miny, a.maxx, a.maxy]
        return json.dumps([self.where.canonical, area])

    @property
    def canonical(self) -> str:
        """A stable text of the whole request, for ETags."""
        return json.dumps(
            [self.selection, self.crs.uri, self.limit, self.offset, self.cursor or ""]
        )


def time_column(table: Table, declared: str | None = None) -> Column | None:
    """The column ``datetime`` selects on: ``declared`` if it is a date or timestamp column
    of the version, else the first such column, else None."""
    if declared:
        column = table.column(declared)
        if column is not None and column.kind in TIME_KINDS:
            return column
    return next((c for c in table.columns if c.kind in TIME_KINDS), None)


# --- values ---------------------------------------------------------------------------------


def _single(pairs: Pairs, allowed: frozenset[str], table: Table | None) -> dict[str, str]:
    """Parameters by name; refuses repeated and unknown ones (property names are known)."""
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            raise _bad(key, f"The parameter {key} is given more than once.")
        if key not in allowed and (table is None or table.column(key) is None):
            raise _bad(key, f"Unknown parameter {key!r}.")
        seen[key] = value
    return seen


def _int(text: str, parameter: str, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise _bad(parameter, f"{parameter} must be a whole number.") from None
    if value < minimum:
        raise _bad(parameter, f"{parameter} must be at least {minimum}.")
    return value


def _numbers(text: str, parameter: str) -> list[float]:
    try:
        values = [float(p) for p in text.split(",")]
    except ValueError:
        values = [math.nan]
    if not all(math.isfinite(v) for v in values):
        raise _bad(parameter, f"{parameter} must be comma-separated numbers.")
    return values


# --- bbox -----------------------------------------------------------------------------------


def parse_bbox(text: str, crs_text: str | None) -> tuple[BBox | None, Area | None]:
    """(bbox in WGS 84 degrees, area in another CRS): one of them is set."""
    crs = parse_crs(crs_text, "bbox-crs") if crs_text is not None else CRS84
    values = _numbers(text, "bbox")
    if len(values) == 6:  # with heights: the version files are two-dimensional
        values = [values[0], values[1], values[3], values[4]]
    elif len(values) != 4:
        raise _bad("bbox", "bbox must be four numbers (or six, with heights).")
    if crs.lat_first:
        miny, minx, maxy, maxx = values
    else:
        minx, miny, maxx, maxy = values
    if crs.geographic and minx > maxx:
        raise _bad("bbox", "A bbox that crosses the antimeridian is not supported.")
    if minx > maxx or miny > maxy:
        raise _bad("bbox", "bbox must give the lower corner first: min <= max on each axis.")
    if crs.geographic and not (minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90):
        raise _bad("bbox", "bbox is outside the range of longitude and latitude.")
    if crs.lonlat:
        return BBox(minx, miny, maxx, maxy), None
    return None, Area(crs, minx, miny, maxx, maxy)


# --- datetime -------------------------------------------------------------------------------

_DATETIME_HELP = (
    "datetime must be an RFC 3339 date-time (2024-05-01T10:00:00Z) or date (2024-05-01), "
    "or an interval start/end where .. (or nothing) leaves an end open."
)


def _moment(text: str) -> date | datetime | None:
    """A date, an aware UTC datetime, or None for an open end."""
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise _bad("datetime", _DATETIME_HELP) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _day_start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _after(value: date | datetime) -> datetime:
    """The first instant after ``value`` (a date lasts its whole day)."""
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    return _day_start(value) + timedelta(days=1)


def _for_column(column: Column, moment: datetime) -> datetime:
    return moment if column.kind is Kind.TIMESTAMPTZ else moment.replace(tzinfo=None)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def datetime_filters(column: Column, text: str) -> tuple[Filter, ...]:
    """Filters selecting rows whose ``column`` lies in the instant or interval ``text``."""
    interval = "/" in text
    if interval:
        start_text, _, end_text = text.partition("/")
        start, end = _moment(start_text), _moment(end_text)
        if start is None and end is None:
            raise _bad("datetime", "datetime needs at least one bounded end.")
        if start is not None and end is not None and _day_start(start) >= _after(end):
            raise _bad("datetime", "datetime must not end before it starts.")
    else:
        start = end = _moment(text)
        if start is None:
            raise _bad("datetime", _DATETIME_HELP)
    name = column.name
    filters: list[Filter] = []
    if column.kind is Kind.DATE:
        if not interval:
            assert start is not None
            return (Filter(name, Op.EQ, _as_date(start)),)
        if start is not None:
            filters.append(Filter(name, Op.GTE, _as_date(start)))
        if end is not None:
            filters.append(Filter(name, Op.LTE, _as_date(end)))
        return tuple(filters)
    if start is not None:
        whole_day = not isinstance(start, datetime)
        op = Op.GTE if interval or whole_day else Op.EQ
        filters.append(Filter(name, op, _for_column(column, _day_start(start))))
    if end is not None and (interval or not isinstance(end, datetime)):
        if isinstance(end, datetime):
            filters.append(Filter(name, Op.LTE, _for_column(column, end)))
        else:  # a date ends with its day
            filters.append(Filter(name, Op.LT, _for_column(column, _after(end))))
    return tuple(filters)


# --- requests -------------------------------------------------------------------------------


def _property_filter(table: Table, geometry: str | None, key: str, value: str) -> Filter:
    column = table.column(key)
    assert column is not None  # checked by _single
    if column.name == geometry or not column.kind.orderable:
        raise _bad(key, f"The property {key} cannot be filtered by value.")
    return Filter(column.name, Op.EQ, query_params.convert(column, value, key))


def parse_items(
    pairs: Pairs,
    table: Table,
    *,
    time_column_name: str | None = None,
    max_limit: int,
    default_limit: int = DEFAULT_LIMIT,
) -> ItemsRequest:
    """The items request of ``pairs`` (without ``f``) against the version ``table``."""
    given = _single(pairs, ITEMS_PARAMETERS, table)
    limit = min(_int(given["limit"], "limit", 1), max_limit) if "limit" in given else None
    offset = _int(given["offset"], "offset", 0) if "offset" in given else 0
    cursor = given.get("cursor")
    if cursor is not None and "offset" in given:
        raise _bad("offset", "Use either offset or cursor (from a next link), not both.")
    if cursor is not None and not cursor:
        raise _bad("cursor", "cursor must not be empty; follow the next link as it is.")
    bbox: BBox | None = None
    area: Area | None = None
    if "bbox" in given:
        bbox, area = parse_bbox(given["bbox"], given.get("bbox-crs"))
    elif "bbox-crs" in given:
        raise _bad("bbox-crs", "bbox-crs names the CRS of bbox; give bbox as well.")
    filters: list[Filter] = []
    for key, value in pairs:
        if key not in ITEMS_PARAMETERS:
            filters.append(_property_filter(table, table.geometry, key, value))
    if "datetime" in given:
        column = time_column(table, time_column_name)
        if column is not None:  # without temporal data every feature matches (Part 1)
            filters.extend(datetime_filters(column, given["datetime"]))
    crs = parse_crs(given["crs"], "crs") if "crs" in given else CRS84
    return ItemsRequest(
        where=Where(filters=tuple(filters), bbox=bbox),
        area=area,
        crs=crs,
        limit=limit if limit is not None else min(default_limit, max_limit),
        offset=offset,
        cursor=cursor,
    )


def parse_item(pairs: Pairs) -> Crs:
    """The output CRS of a single-feature request (its only parameter besides ``f``)."""
    given = _single(pairs, ITEM_PARAMETERS, None)
    return parse_crs(given["crs"], "crs") if "crs" in given else CRS84
