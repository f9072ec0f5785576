"""Group-by aggregates over one version file, with time buckets and a cap on the groups."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from datenschatz.store.duck import sql_ident, sql_string
from datenschatz.store.query.filters import Where, where_sql
from datenschatz.store.query.limits import fetch_all
from datenschatz.store.query.render import json_object
from datenschatz.store.query.table import Column, Kind, Table


class Bucket(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO weeks, starting on Monday
    MONTH = "month"
    YEAR = "year"


class Fn(enum.StrEnum):
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    MEDIAN = "median"
    QUANTILE = "p"  # p90 -> QUANTILE with fraction 0.9


NUMERIC_FNS = frozenset({Fn.SUM, Fn.AVG, Fn.MEDIAN, Fn.QUANTILE})


@dataclass(frozen=True)
class GroupKey:
    column: str
    bucket: Bucket | None = None

    @property
    def name(self) -> str:
        return f"{self.column}:{self.bucket.value}" if self.bucket else self.column


@dataclass(frozen=True)
class Metric:
    fn: Fn
    column: str | None = None  # None only for count: all rows
    percent: int | None = None  # for QUANTILE: 1..99

    @property
    def name(self) -> str:
        label = f"p{self.percent}" if self.fn is Fn.QUANTILE else self.fn.value
        return f"{label}:{self.column}" if self.column else label


@dataclass(frozen=True)
class OutputSort:
    name: str  # a group key or metric name
    descending: bool = False


@dataclass(frozen=True)
class AggregateQuery:
    where: Where = field(default_factory=Where)
    group_by: tuple[GroupKey, ...] = ()
    metrics: tuple[Metric, ...] = (Metric(Fn.COUNT),)
    sort: tuple[OutputSort, ...] = ()
    limit: int = 10_000

    def fingerprint(self, table: Table) -> str:
        text = json.dumps(
            [
                table.sha256,
                self.where.canonical,
                [g.name for g in self.group_by],
                [m.name for m in self.metrics],
                [[s.name, s.descending] for s in self.sort],
                self.limit,
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class AggregateResult:
    columns: tuple[Column, ...]  # group keys, then metrics, with their result types
    rows: list[str]  # one JSON object per group, as text
    truncated: bool


def _group_expr(column: Column, bucket: Bucket | None) -> tuple[str, str]:
    """(SQL expression, result type) of one group key."""
    col = column.sql
    if bucket is None:
        return col, column.duckdb_type
    part = sql_string(bucket.value)
    if column.kind is Kind.DATE:
        return f"CAST(date_trunc({part}, {col}) AS DATE)", "DATE"
    if column.kind is Kind.TIMESTAMPTZ:
        # Buckets of UTC time, so that results do not depend on a session time zone.
        utc = f"timezone('UTC', {col})"
        return f"timezone('UTC', date_trunc({part}, {utc}))", "TIMESTAMP WITH TIME ZONE"
    return f"date_trunc({part}, CAST({col} AS TIMESTAMP))", "TIMESTAMP"


def _metric_expr(table: Table, metric: Metric) -> tuple[str, str]:
    """(SQL expression, result type) of one metric."""
    if metric.column is None:
        return "count(*)", "BIGINT"
    column = table.column(metric.column)
    assert column is not None, "metrics are checked against the schema when parsed"
    col = column.sql
    if metric.fn is Fn.COUNT:
        return f"count({col})", "BIGINT"
    if metric.fn is Fn.COUNT_DISTINCT:
        return f"count(DISTINCT {col})", "BIGINT"
    if metric.fn in (Fn.MIN, Fn.MAX):
        return f"{metric.fn.value}({col})", column.duckdb_type
    if metric.fn is Fn.SUM and column.kind is Kind.INTEGER:
        return f"sum({col})", "HUGEINT"
    if metric.fn is Fn.QUANTILE:
        fraction = (metric.percent or 50) / 100
        return f"CAST(quantile_cont({col}, {fraction!r}) AS DOUBLE)", "DOUBLE"
    return f"CAST({metric.fn.value}({col}) AS DOUBLE)", "DOUBLE"


def aggregate(
    con: duckdb.DuckDBPyConnection, table: Table, query: AggregateQuery, *, time_limit: float
) -> AggregateResult:
    """The groups of ``query`` (at most ``query.limit``; ``truncated`` when there were more)."""
    selects: list[str] = []
    outputs: list[Column] = []
    for key in query.group_by:
        column = table.column(key.column)
        assert column is not None
        expr, dtype = _group_expr(column, key.bucket)
        selects.append(f"{expr} AS {sql_ident(key.name)}")
        outputs.append(Column(key.name, dtype))
    for metric in query.metrics:
        expr, dtype = _metric_expr(table, metric)
        selects.append(f"{expr} AS {sql_ident(metric.name)}")
        outputs.append(Column(metric.name, dtype))
    clause, params = where_sql(table, query.where)
    group = ""
    if query.group_by:
        group = "GROUP BY " + ", ".join(str(i + 1) for i in range(len(query.group_by)))
    order = _order(query.sort, [k.name for k in query.group_by])
    inner = f"SELECT {', '.join(selects)} FROM {table.source} {clause} {group} {order} LIMIT ?"
    sql = f"SELECT {json_object(outputs)} FROM ({inner})"
    found = fetch_all(
        con, sql, [*params, query.limit + 1], seconds=time_limit, what="The aggregate"
    )
    rows = [str(r[0]) for r in found[: query.limit]]
    return AggregateResult(tuple(outputs), rows, truncated=len(found) > query.limit)


def _order(sort: Sequence[OutputSort], group_names: Sequence[str]) -> str:
    items = [f"{sql_ident(s.name)} {'DESC' if s.descending else 'ASC'} NULLS LAST" for s in sort]
    items.extend(f"{sql_ident(name)} ASC NULLS LAST" for name in group_names)
    return ("ORDER BY " + ", ".join(items)) if items else ""
