"""Aggregation with a minimum group size, the dominance rule and secondary suppression.

The heavy lifting runs in DuckDB: one pass sums every measure per cell *and contributor*
(with GROUPING SETS for the totals), a second pass per cell gives the contributor count, the
sums and the largest single contribution. Cells with fewer than k contributors, or where one
contributor holds more than the dominance share of a sum, are suppressed (primary); then
:func:`datenschatz.privacy.suppress.protect` adds complementary cells (secondary) so that no
suppressed cell can be recovered from published totals. Suppressed cells are left out of the
output; every published row carries its ``contributor_count``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import duckdb

from datenschatz.privacy.suppress import Cell, protect
from datenschatz.store.duck import sql_ident, sql_string

TOTAL = "Insgesamt"


@dataclass(frozen=True)
class AggregateSpec:
    group_by: tuple[str, ...]
    sum: tuple[str, ...] = ()
    mean: tuple[str, ...] = ()
    contributor: str | None = None  # column identifying a person or household
    contributor_count: str | None = None  # pre-aggregated input: people behind each row
    totals: bool = False
    dominance: float = 0.5
    k: int = 5


@dataclass
class AggregateResult:
    table: str  # TEMP table holding the published cells
    columns: list[str]
    measure_columns: list[str]
    key_sql: str  # SQL expression of the cell key over ``table`` (for the ledger)
    members_sql: str | None  # cell key and keyed contributor hash of every published cell
    cells_sql: str  # ledger cells: cell, contributor_count, m0..mn
    report: dict[str, Any] = field(default_factory=dict)


def _q(name: str) -> str:
    return sql_ident(name)


def aggregate(
    con: duckdb.DuckDBPyConnection,
    source: str,
    spec: AggregateSpec,
    *,
    hash_expr: Any = None,
) -> AggregateResult:
    """Aggregate the rows of view ``source`` per ``spec``; see the module docstring.

    ``hash_expr(expr)`` returns the SQL of a keyed hash (for the contributor ledger).
    """
    tag = uuid.uuid4().hex[:10]
    keys = list(spec.group_by)
    if spec.totals and len(keys) not in (1, 2):
        raise ValueError("totals need one or two group-by columns")
    measured = list(dict.fromkeys([*spec.sum, *spec.mean]))
    kq = [_q(k) for k in keys]
    if spec.contributor:
        contrib, weight = f"CAST({_q(spec.contributor)} AS VARCHAR)", "1"
    elif spec.contributor_count:
        contrib = "CAST(row_number() OVER () AS VARCHAR)"
        weight = f"coalesce(CAST({_q(spec.contributor_count)} AS BIGINT), 0)"
    else:
        contrib, weight = "CAST(row_number() OVER () AS VARCHAR)", "1"
    rows = f"ds_rows_{tag}"
    con.execute(
        f"CREATE TEMP TABLE {rows} AS SELECT {', '.join(kq) + ', ' if kq else ''}"
        f"{contrib} AS __c, {weight} AS __w"
        + "".join(f", CAST({_q(m)} AS DOUBLE) AS __m{i}" for i, m in enumerate(measured))
        + f" FROM {source}"
    )
    if spec.totals and len(keys) == 2:
        sets = f"GROUPING SETS (({kq[0]}, {kq[1]}, __c), ({kq[0]}, __c), ({kq[1]}, __c), (__c))"
    elif spec.totals:
        sets = f"GROUPING SETS (({kq[0]}, __c), (__c))"
    else:
        sets = ", ".join([*kq, "__c"])
    grouping = f"GROUPING({', '.join(kq)})" if kq and spec.totals else "0"
    per_contributor = f"ds_pc_{tag}"
    weight_agg = "1" if spec.contributor else "sum(__w)"
    con.execute(
        f"CREATE TEMP TABLE {per_contributor} AS SELECT {', '.join(kq) + ', ' if kq else ''}"
        f"{grouping} AS __g, __c, {weight_agg} AS __w"
        + "".join(f", sum(__m{i}) AS __m{i}, count(__m{i}) AS __n{i}" for i in range(len(measured)))
        + f" FROM {rows} GROUP BY {sets}"
    )
    cells = f"ds_cells_{tag}"
    dominated = (
        " OR ".join(
            f"(sum(abs(__m{i})) > 0 AND max(abs(__m{i})) > {spec.dominance!r} * sum(abs(__m{i})))"
            for i in range(len(measured))
        )
        or "false"
    )
    if spec.contributor_count:
        # Pre-aggregated rows hide the single contributions: dominance cannot be checked here.
        dominated = "false"
    group_cols = ", ".join([*kq, "__g"])
    con.execute(
        f"CREATE TEMP TABLE {cells} AS SELECT row_number() OVER () - 1 AS __idx, * FROM ("
        f"SELECT {group_cols}, CAST(sum(__w) AS BIGINT) AS contributor_count"
        + "".join(f", sum(__m{i}) AS __m{i}, sum(__n{i}) AS __n{i}" for i in range(len(measured)))
        + f", ({dominated}) AS __dominated FROM {per_contributor} GROUP BY {group_cols} "
        f"ORDER BY {group_cols})"
    )
    fetched = con.execute(
        f"SELECT __idx, {', '.join(kq) + ', ' if kq else ''}__g, contributor_count, "
        f"{'__m0' if measured else '0'}, __dominated FROM {cells} ORDER BY __idx"
    ).fetchall()
    table_cells: list[Cell] = []
    primary: set[int] = set()
    dominance_hits = 0
    for row in fetched:
        index, values, g, count, first, dom = row[0], row[1 : 1 + len(keys)], *row[1 + len(keys) :]
        table_cells.append(
            Cell(_lines(values, int(g), spec.totals), (float(count), float(first or 0)))
        )
        small = int(count) < spec.k
        if small or dom:
            primary.add(int(index))
            dominance_hits += int(bool(dom) and not small)
    secondary = protect(table_cells, primary)
    suppressed = sorted(primary | secondary)
    hidden = f"ds_hidden_{tag}"
    con.execute(f"CREATE TEMP TABLE {hidden} AS SELECT unnest($1::BIGINT[]) AS __idx", [suppressed])

    out_keys = []
    for k_name, k_sql in zip(keys, kq, strict=True):
        if spec.totals:
            bit = 1 << (len(keys) - 1 - keys.index(k_name))
            out_keys.append(
                f"CASE WHEN (__g & {bit}) <> 0 THEN {sql_string(TOTAL)} "
                f"ELSE CAST({k_sql} AS VARCHAR) END AS {k_sql}"
            )
        else:
            out_keys.append(k_sql)
    measure_cols: list[str] = []
    selects = [*out_keys, "contributor_count"]
    for i, m in enumerate(measured):
        if m in spec.sum:
            measure_cols.append(f"{m}_sum")
            selects.append(f"__m{i} AS {_q(m + '_sum')}")
        if m in spec.mean:
            measure_cols.append(f"{m}_mean")
            selects.append(f"CASE WHEN __n{i} > 0 THEN __m{i} / __n{i} END AS {_q(m + '_mean')}")
    output = f"ds_out_{tag}"
    con.execute(
        f"CREATE TEMP TABLE {output} AS SELECT __idx, {', '.join(selects)}"
        + "".join(f", __m{i}" for i in range(len(measured)))
        + f" FROM {cells} WHERE __idx NOT IN (SELECT __idx FROM {hidden}) ORDER BY __idx"
    )
    key_sql = _key_sql(keys)
    cells_sql = (
        f"SELECT {key_sql} AS cell, contributor_count"
        + "".join(f", __m{i} AS m{i}" for i in range(len(measured)))
        + f" FROM {output}"
    )
    members_sql = None
    if spec.contributor and hash_expr is not None:
        match = " AND ".join([f"p.{k} IS NOT DISTINCT FROM c.{k}" for k in kq] + ["p.__g = c.__g"])
        members_sql = (
            f"SELECT {_key_sql(keys, 'o.')} AS cell, {hash_expr('p.__c')} AS contributor "
            f"FROM {per_contributor} p JOIN {cells} c ON {match} "
            f"JOIN {output} o ON o.__idx = c.__idx"
        )
    published = con.execute(f"SELECT min(contributor_count), count(*) FROM {output}").fetchone()
    report = {
        "kind": "aggregate",
        "group_by": keys,
        "k": spec.k,
        "dominance": None if spec.contributor_count else spec.dominance,
        "totals": spec.totals,
        "cells": len(table_cells),
        "published_cells": int(published[1]) if published else 0,
        "smallest_group": int(published[0]) if published and published[0] is not None else None,
        "suppressed": {
            "primary": len(primary),
            "primary_dominance": dominance_hits,
            "secondary": len(secondary),
        },
    }
    return AggregateResult(
        table=output,
        columns=[*keys, "contributor_count", *measure_cols],
        measure_columns=measure_cols,
        key_sql=key_sql,
        members_sql=members_sql,
        cells_sql=cells_sql,
        report=report,
    )


def _key_sql(keys: list[str], prefix: str = "") -> str:
    """A readable text key of a published cell: 'district=Wanne | month=2024-03'."""
    parts = [
        f"{sql_string(k + '=')} || coalesce(CAST({prefix}{_q(k)} AS VARCHAR), '(leer)')"
        for k in keys
    ]
    return " || ' | ' || ".join(parts) or "'(alle)'"


def _lines(values: tuple[Any, ...], g: int, totals: bool) -> tuple[Any, ...]:
    """The published relations a cell lies on (see privacy.suppress)."""
    if not totals:
        return ()
    if len(values) == 1:
        return (("all",),)
    row = ("row", "T") if g & 2 else ("row", values[0])
    col = ("col", "T") if g & 1 else ("col", values[1])
    return (row, col)
