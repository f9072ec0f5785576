"""Query parameters of rows, aggregates and downloads: (key, value) pairs to typed queries.

Framework-free and shared by every interface (REST, web pages, CLI). Every mistake is an
InputError naming the parameter. Values are converted to the column's type here, so that the
query layer binds typed values only.

Parameters (all optional):

- ``col=value`` and ``col__op=value`` filter on a column; ``op`` is one of ``eq`` (for columns
  whose name is a reserved parameter, e.g. ``q__eq=``), ``ne``, ``lt``, ``lte``, ``gt``,
  ``gte``, ``in`` (comma-separated values), ``contains`` and ``startswith`` (text columns,
  case-insensitive), ``isnull`` (``true``/``false``). Several filters all apply.
- ``q=words``: every word must occur (case-insensitive) in some text column.
- ``bbox=minx,miny,maxx,maxy`` (WGS 84 degrees): rows whose geometry intersects the box.
- ``_sort=a,b`` and ``_sort_desc=c``: sort keys in the order given (nulls last).
- ``_fields=a,b``: the columns to return. ``_limit``: rows per page (or groups, or rows of a
  download). ``_next``: the cursor of the next page (from the ``next`` link).
- Aggregates: ``group_by=col,time:day`` (buckets ``hour``, ``day``, ``week``, ``month``,
  ``year`` on date and timestamp columns) and ``metrics=count,avg:pm10,p90:pm10``
  (``count``, ``count:col``, ``count_distinct:col``, ``sum``, ``avg``, ``median``, ``pNN``
  on numeric columns; ``min``, ``max`` on numbers, text, dates and times).
- Downloads: ``dialect=excel-de`` for CSV with ``;``, decimal comma and BOM.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from datenschatz.errors import InputError
from datenschatz.store.query.aggregates import (
    NUMERIC_FNS,
    AggregateQuery,
    Bucket,
    Fn,
    GroupKey,
    Metric,
    OutputSort,
)
from datenschatz.store.query.exports import ExportQuery, Format
from datenschatz.store.query.filters import BBox, Filter, Op, Where
from datenschatz.store.query.paging import CURSOR_PARAMETER, RowsQuery, SortKey
from datenschatz.store.query.render import Dialect
from datenschatz.store.query.table import Column, Kind, Table

Pairs = Sequence[tuple[str, str]]

MAX_IN_VALUES = 1000
MAX_TERMS = 10
MAX_METRICS = 50

_SELECTION = ("q", "bbox")
ROWS_PARAMETERS = frozenset({*_SELECTION, "_sort", "_sort_desc", "_fields", "_limit", "_next"})
AGGREGATE_PARAMETERS = frozenset(
    {*_SELECTION, "group_by", "metrics", "_sort", "_sort_desc", "_limit"}
)
DOWNLOAD_PARAMETERS = frozenset(
    {*_SELECTION, "_sort", "_sort_desc", "_fields", "_limit", "dialect"}
)
_REPEATABLE = frozenset({"q", "_sort", "_sort_desc", "_fields", "group_by", "metrics"})
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_PERCENTILE = re.compile(r"p([1-9][0-9]?)")


def _bad(parameter: str, message: str) -> InputError:
    return InputError(message, parameter=parameter)


# --- values ---------------------------------------------------------------------------------


def parse_bool(text: str, parameter: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad(parameter, f"The parameter {parameter} must be true or false.")


def _parse_int(text: str, parameter: str, what: str = "an integer") -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _bad(parameter, f"The parameter {parameter} must be {what}.") from None


def _parse_float(text: str, parameter: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _bad(parameter, f"The parameter {parameter} must be a number.")
    return value


def convert(column: Column, text: str, parameter: str) -> Any:
    """``text`` as a value of ``column``'s type, for comparing with the column."""
    kind = column.kind
    if kind is Kind.TEXT:
        return text
    if kind is Kind.INTEGER:
        return _parse_int(text, parameter, f"an integer (column {column.name} holds integers)")
    if kind is Kind.NUMBER:
        if column.duckdb_type.upper().startswith("DECIMAL"):
            try:
                value = Decimal(text.strip())
            except InvalidOperation:
                value = Decimal("NaN")
            if not value.is_finite():
                raise _bad(parameter, f"The parameter {parameter} must be a number.")
            return value
        return _parse_float(text, parameter)
    if kind is Kind.BOOLEAN:
        return parse_bool(text, parameter)
    try:
        if kind is Kind.DATE:
            return date.fromisoformat(text.strip())
        if kind is Kind.TIME:
            return time.fromisoformat(text.strip())
        if kind in (Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
            moment = datetime.fromisoformat(text.strip())
            if kind is Kind.TIMESTAMPTZ:
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            if moment.tzinfo:
                return moment.astimezone(UTC).replace(tzinfo=None)
            return moment
    except ValueError:
        what = {
            Kind.DATE: "a date (YYYY-MM-DD)",
            Kind.TIME: "a time (HH:MM[:SS])",
        }.get(kind, "a date and time in ISO 8601 (YYYY-MM-DDTHH:MM:SS)")
        raise _bad(parameter, f"The parameter {parameter} must be {what}.") from None
    raise _bad(parameter, f"The column {column.name} can only be filtered with __isnull.")


# --- selection ------------------------------------------------------------------------------


def _column(table: Table, name: str, parameter: str) -> Column:
    column = table.column(name)
    if column is None:
        raise _bad(parameter, f"The dataset has no column named {name!r}.")
    return column


def _filter(table: Table, key: str, value: str) -> Filter:
    column = table.column(key)
    op = Op.EQ
    if column is None:
        name, sep, suffix = key.rpartition("__")
        column = table.column(name) if sep else None
        if column is None:
            raise _bad(key, f"Unknown parameter or column {key!r}.")
        try:
            op = Op(suffix)
        except ValueError:
            known = ", ".join(f"__{o.value}" for o in Op)
            raise _bad(key, f"Unknown operator __{suffix}; use one of {known}.") from None
    if op is Op.ISNULL:
        return Filter(column.name, op, parse_bool(value, key))
    if op in (Op.CONTAINS, Op.STARTSWITH):
        if column.kind is not Kind.TEXT:
            raise _bad(key, f"__{op.value} works on text columns only.")
        return Filter(column.name, op, value)
    if not column.kind.orderable:
        raise _bad(key, f"The column {column.name} can only be filtered with __isnull.")
    if op is Op.IN:
        items = value.split(",")
        if len(items) > MAX_IN_VALUES:
            raise _bad(key, f"__in takes at most {MAX_IN_VALUES} values.")
        return Filter(column.name, op, tuple(convert(column, item, key) for item in items))
    return Filter(column.name, op, convert(column, value, key))


def _bbox(table: Table, text: str) -> BBox:
    parts = text.split(",")
    if len(parts) != 4:
        raise _bad("bbox", "bbox must be four numbers: minx,miny,maxx,maxy.")
    minx, miny, maxx, maxy = (_parse_float(p, "bbox") for p in parts)
    if minx > maxx or miny > maxy:
        raise _bad("bbox", "bbox must be minx,miny,maxx,maxy with min <= max.")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise _bad("bbox", "bbox must be in WGS 84 degrees (longitude, latitude).")
    if table.geometry is None:
        raise _bad("bbox", "This dataset has no geometry to filter by bbox.")
    return BBox(minx, miny, maxx, maxy)


def _terms(table: Table, texts: list[str]) -> tuple[str, ...]:
    terms = tuple(t for text in texts for t in text.split())
    if not terms:
        return ()
    if len(terms) > MAX_TERMS:
        raise _bad("q", f"q takes at most {MAX_TERMS} words.")
    if not table.text_columns:
        raise _bad("q", "This dataset has no text columns to search.")
    return terms


def _group(
    pairs: Pairs, allowed: frozenset[str]
) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """(reserved parameters by name, column filters) — refusing unknown or repeated ones."""
    reserved: dict[str, list[str]] = {}
    filters: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in allowed:
            seen = reserved.setdefault(key, [])
            if seen and key not in _REPEATABLE:
                raise _bad(key, f"The parameter {key} is given more than once.")
            seen.append(value)
        elif key.startswith("_"):
            raise _bad(key, f"Unknown parameter {key!r}.")
        else:
            filters.append((key, value))
    return reserved, filters


def _where(table: Table, reserved: dict[str, list[str]], filters: list[tuple[str, str]]) -> Where:
    bbox = _bbox(table, reserved["bbox"][0]) if "bbox" in reserved else None
    return Where(
        filters=tuple(_filter(table, key, value) for key, value in filters),
        terms=_terms(table, reserved.get("q", [])),
        bbox=bbox,
    )


def _names(values: list[str], parameter: str) -> list[str]:
    names = [n.strip() for v in values for n in v.split(",")]
    if not names or any(not n for n in names):
        raise _bad(parameter, f"{parameter} must be a comma-separated list of names.")
    if len(set(names)) != len(names):
        raise _bad(parameter, f"{parameter} names a column twice.")
    return names


def _sort(table: Table, pairs: Pairs) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for key, value in pairs:
        if key not in ("_sort", "_sort_desc"):
            continue
        for name in _names([value], key):
            column = _column(table, name, key)
            if not column.kind.orderable:
                raise _bad(key, f"The column {name} cannot be sorted.")
            keys.append(SortKey(column.name, descending=key == "_sort_desc"))
    if len({k.column for k in keys}) != len(keys):
        raise _bad("_sort", "A column is named twice in _sort and _sort_desc.")
    return tuple(keys)


def _fields(table: Table, values: list[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    names = _names(values, "_fields")
    for name in names:
        _column(table, name, "_fields")
    return tuple(names)


def _limit(values: list[str] | None, default: int | None, maximum: int | None) -> int | None:
    if values is None:
        return default
    limit = _parse_int(values[0], "_limit", "a whole number")
    if limit < 1:
        raise _bad("_limit", "_limit must be at least 1.")
    if maximum is not None and limit > maximum:
        raise _bad("_limit", f"_limit must be at most {maximum}.")
    return limit


# --- queries --------------------------------------------------------------------------------


def parse_rows(pairs: Pairs, table: Table, *, default_limit: int, max_limit: int) -> RowsQuery:
    reserved, filters = _group(pairs, ROWS_PARAMETERS)
    limit = _limit(reserved.get("_limit"), default_limit, max_limit)
    assert limit is not None
    cursor = reserved.get(CURSOR_PARAMETER, [None])[0]
    return RowsQuery(
        where=_where(table, reserved, filters),
        sort=_sort(table, pairs),
        fields=_fields(table, reserved.get("_fields")),
        limit=limit,
        cursor=cursor or None,
    )


def parse_export(pairs: Pairs, table: Table, fmt: Format) -> ExportQuery:
    reserved, filters = _group(pairs, DOWNLOAD_PARAMETERS)
    dialect = Dialect.DEFAULT
    if "dialect" in reserved:
        if fmt is not Format.CSV:
            raise _bad("dialect", "dialect applies to CSV downloads only.")
        try:
            dialect = Dialect(reserved["dialect"][0])
        except ValueError:
            known = ", ".join(d.value for d in Dialect)
            raise _bad("dialect", f"dialect must be one of {known}.") from None
    return ExportQuery(
        where=_where(table, reserved, filters),
        sort=_sort(table, pairs),
        fields=_fields(table, reserved.get("_fields")),
        limit=_limit(reserved.get("_limit"), None, None),
        dialect=dialect,
    )


def _group_key(table: Table, item: str) -> GroupKey:
    name, sep, bucket_text = item.rpartition(":")
    if not sep or table.column(item) is not None:
        name, bucket_text = item, ""
    column = _column(table, name, "group_by")
    if not bucket_text:
        if column.kind is Kind.GEOMETRY:
            raise _bad("group_by", f"The column {name} cannot be grouped by.")
        return GroupKey(column.name)
    try:
        bucket = Bucket(bucket_text)
    except ValueError:
        known = ", ".join(b.value for b in Bucket)
        raise _bad(
            "group_by", f"Unknown time bucket {bucket_text!r}; use one of {known}."
        ) from None
    if column.kind not in (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
        raise _bad("group_by", f"Time buckets need a date or timestamp column; {name} is not.")
    if column.kind is Kind.DATE and bucket is Bucket.HOUR:
        raise _bad("group_by", f"The column {name} holds dates; hours need a timestamp.")
    return GroupKey(column.name, bucket)


def _metric(table: Table, item: str) -> Metric:
    label, sep, name = item.partition(":")
    percent = None
    match = _PERCENTILE.fullmatch(label)
    if match:
        fn, percent = Fn.QUANTILE, int(match.group(1))
    else:
        try:
            fn = Fn(label)
        except ValueError:
            known = "count, count_distinct, sum, avg, min, max, median, p1..p99"
            raise _bad("metrics", f"Unknown metric {label!r}; use one of {known}.") from None
    if not sep:
        if fn is not Fn.COUNT:
            raise _bad("metrics", f"The metric {label} needs a column: {label}:column.")
        return Metric(Fn.COUNT)
    column = _column(table, name, "metrics")
    if fn in NUMERIC_FNS and not column.kind.numeric:
        raise _bad("metrics", f"{label} needs a numeric column; {name} is not numeric.")
    if fn in (Fn.MIN, Fn.MAX) and not column.kind.orderable:
        raise _bad("metrics", f"{label} cannot be computed on {name}.")
    if fn is Fn.COUNT_DISTINCT and column.kind is Kind.GEOMETRY:
        raise _bad("metrics", f"count_distinct cannot be computed on {name}.")
    return Metric(fn, column.name, percent)


def parse_aggregate(pairs: Pairs, table: Table, *, max_groups: int) -> AggregateQuery:
    reserved, filters = _group(pairs, AGGREGATE_PARAMETERS)
    group_by: tuple[GroupKey, ...] = ()
    if "group_by" in reserved:
        group_by = tuple(_group_key(table, n) for n in _names(reserved["group_by"], "group_by"))
    metrics: tuple[Metric, ...] = (Metric(Fn.COUNT),)
    if "metrics" in reserved:
        items = _names(reserved["metrics"], "metrics")
        if len(items) > MAX_METRICS:
            raise _bad("metrics", f"At most {MAX_METRICS} metrics.")
        metrics = tuple(_metric(table, item) for item in items)
    outputs = [g.name for g in group_by] + [m.name for m in metrics]
    if len({name.lower() for name in outputs}) != len(outputs):  # DuckDB names ignore case
        raise _bad("metrics", "Two results of group_by and metrics have the same name.")
    sort: list[OutputSort] = []
    for key, value in pairs:
        if key in ("_sort", "_sort_desc"):
            for name in _names([value], key):
                if name not in outputs:
                    raise _bad(key, f"Sort by a group_by column or a metric, not {name!r}.")
                sort.append(OutputSort(name, descending=key == "_sort_desc"))
    limit = _limit(reserved.get("_limit"), max_groups, max_groups)
    assert limit is not None
    return AggregateQuery(
        where=_where(table, reserved, filters),
        group_by=group_by,
        metrics=metrics,
        sort=tuple(sort),
        limit=limit,
    )
