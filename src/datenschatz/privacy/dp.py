"""Differentially private counts, sums and means, with the noise from OpenDP.

The privacy unit is one contributor (person or household). DuckDB first sums each
contributor's values per group, keeps at most ``max_groups`` groups per contributor and clamps
each contribution into the declared bounds; the exact per-group figures then get Laplace noise
from an OpenDP measurement whose privacy map is checked against the epsilon share of each
query. Group keys must be declared (``keys``): taking them from the data would reveal which
groups exist. Means are a noisy sum divided by a noisy count (no extra budget beyond both).

The epsilon of a release is spent from the budget of its source population
(:mod:`datenschatz.privacy.ledger`) before any noise is drawn.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import duckdb

from datenschatz.store.duck import sql_ident


@dataclass(frozen=True)
class DPSpec:
    epsilon: float
    contributor: str | None = None
    group_by: tuple[str, ...] = ()
    keys: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    count: bool = False
    sum: dict[str, tuple[float, float]] = field(default_factory=dict)
    mean: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_groups: int = 1


@dataclass
class DPResult:
    table: str
    columns: list[str]
    measure_columns: list[str]
    report: dict[str, Any]


def _opendp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def laplace_vector(
    values: list[float], sensitivity: float, epsilon: float, *, integer: bool
) -> list[Any]:
    """``values`` with Laplace noise calibrated by OpenDP to ``epsilon`` at L1 ``sensitivity``."""
    dp = _opendp()
    if integer:
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
        d_in: Any = int(sensitivity)
        data: list[Any] = [int(v) for v in values]
    else:
        space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
        d_in = float(sensitivity)
        data = [float(v) for v in values]
    scale = sensitivity / epsilon
    measurement = dp.m.make_laplace(*space, scale=scale)
    if measurement.map(d_in) > epsilon * (1 + 1e-9):
        raise AssertionError("OpenDP privacy map exceeds the epsilon share")
    return list(measurement(data)) if data else []


def release(con: duckdb.DuckDBPyConnection, source: str, spec: DPSpec) -> DPResult:
    """Noisy figures per declared group of ``source``; see the module docstring."""
    tag = uuid.uuid4().hex[:10]
    keys = list(spec.group_by)
    kq = [sql_ident(k) for k in keys]
    contributor = (
        f"CAST({sql_ident(spec.contributor)} AS VARCHAR)"
        if spec.contributor
        else "CAST(row_number() OVER () AS VARCHAR)"
    )
    bounded = {**spec.sum, **spec.mean}
    columns = list(bounded)
    key_cols = ", ".join(kq) + ", " if kq else ""
    cast_keys = "".join(f"CAST({k} AS VARCHAR) AS {k}, " for k in kq)
    raw = f"ds_dp_rows_{tag}"
    con.execute(
        f"CREATE TEMP TABLE {raw} AS SELECT {cast_keys}{contributor} AS __c"
        + "".join(f", CAST({sql_ident(c)} AS DOUBLE) AS __v{i}" for i, c in enumerate(columns))
        + f" FROM {source}"
    )
    per = f"ds_dp_pc_{tag}"
    group = ", ".join([*kq, "__c"])
    order = f"hash({', '.join(kq)})" if kq else "1"
    con.execute(
        f"CREATE TEMP TABLE {per} AS SELECT * FROM ("
        f"SELECT {group}"
        + "".join(
            f", least(greatest(coalesce(sum(__v{i}), 0), {lo!r}), {hi!r}) AS __v{i}"
            for i, (lo, hi) in enumerate(bounded.values())
        )
        + f", row_number() OVER (PARTITION BY __c ORDER BY {order}) AS __rank"
        f" FROM {raw} GROUP BY {group}) WHERE __rank <= {spec.max_groups}"
    )
    exact = con.execute(
        f"SELECT {key_cols}count(*)"
        + "".join(f", sum(__v{i})" for i in range(len(columns)))
        + f" FROM {per} GROUP BY ALL"
    ).fetchall()
    figures = {tuple(row[: len(keys)]): row[len(keys) :] for row in exact}
    declared = [tuple(str(v) for v in spec.keys[k]) for k in keys]
    groups = list(itertools.product(*declared)) if keys else [()]
    needs_count = spec.count or bool(spec.mean)
    queries = int(needs_count) + len(columns)
    share = spec.epsilon / queries
    g = spec.max_groups
    noisy_count: list[Any] = []
    if needs_count:
        counts = [float(figures.get(key, (0,))[0]) for key in groups]
        noisy_count = [max(0, int(v)) for v in laplace_vector(counts, g, share, integer=True)]
    noisy_sums: list[list[float]] = []
    scales: dict[str, float] = {"count": g / share} if needs_count else {}
    for i, (column, (lo, hi)) in enumerate(bounded.items()):
        sensitivity = g * max(abs(lo), abs(hi))
        values = [
            float((figures.get(key) or (0,) * (1 + len(columns)))[1 + i] or 0) for key in groups
        ]
        noisy_sums.append(laplace_vector(values, sensitivity, share, integer=False))
        scales[column] = sensitivity / share
    out_rows: list[tuple[Any, ...]] = []
    measure_cols: list[str] = []
    if spec.count:
        measure_cols.append("count")
    for column in columns:
        if column in spec.sum:
            measure_cols.append(f"{column}_sum")
        if column in spec.mean:
            measure_cols.append(f"{column}_mean")
    for j, key in enumerate(groups):
        row: list[Any] = [str(v) if v is not None else None for v in key]
        if spec.count:
            row.append(noisy_count[j])
        for i, column in enumerate(columns):
            if column in spec.sum:
                row.append(float(noisy_sums[i][j]))
            if column in spec.mean:
                lo, hi = bounded[column]
                mean = noisy_sums[i][j] / max(noisy_count[j], 1)
                row.append(min(max(float(mean), lo), hi))
        out_rows.append(tuple(row))
    table = f"ds_dp_out_{tag}"
    types = ["VARCHAR"] * len(keys) + [
        "BIGINT" if name == "count" else "DOUBLE" for name in measure_cols
    ]
    names = [*keys, *measure_cols]
    con.execute(
        f"CREATE TEMP TABLE {table} ("
        + ", ".join(f"{sql_ident(n)} {t}" for n, t in zip(names, types, strict=True))
        + ")"
    )
    if out_rows:
        marks = ", ".join("?" for _ in names)
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", out_rows)
    report = {
        "kind": "dp",
        "mechanism": "laplace (OpenDP)",
        "epsilon": spec.epsilon,
        "epsilon_per_query": share,
        "queries": queries,
        "max_groups_per_contributor": g,
        "bounds": {c: list(b) for c, b in bounded.items()},
        "noise_scale": scales,
        "groups": len(groups),
        "group_by": keys,
    }
    return DPResult(table, names, measure_cols, report)
