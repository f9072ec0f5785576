"""Treatments: declared transformations that turn a raw version into a publishable one.

A treatment spec (YAML or JSON) lists steps, applied in order to the raw version's Parquet in
DuckDB; the result is written as a NEW version through the one commit path, and the raw version
stays internal (the gate refuses to publish it). Example::

    population: herne-stromkunden   # source population (DP budget, release comparisons)
    k: 5                             # minimum group size; never below the hub's floor
    treatments:
      - drop: [name, iban, bemerkung]
      - generalize: {column: plz, to: district, as: stadtbezirk}
      - generalize: {column: ablesedatum, to: month}
      - aggregate: {group_by: [stadtbezirk, ablesedatum], contributor: kundennummer,
                    sum: [verbrauch_kwh], totals: true}
    roles: {stadtbezirk: quasi_id}   # optional: roles of output columns

Steps: ``drop``; ``hash`` (keyed HMAC, internal joins only: such a column can never be
published); ``generalize`` (``to``: district, street, grid, month, bands); ``aggregate``
(minimum group size k, dominance rule, secondary suppression, ``contributor_count``);
``k_anonymity`` (check and optionally suppress rows of row-level tables); ``dp`` (OpenDP counts,
sums and means, spending the population's epsilon budget).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from datenschatz.catalog.datasets import VersionInfo, get_dataset, get_version
from datenschatz.db.privacy_ledger_models import ContributorLedger, TreatmentRun
from datenschatz.db.privacy_models import ColumnRole
from datenschatz.errors import CheckFailed, InputError
from datenschatz.hub import Hub
from datenschatz.ingest.model import Staged
from datenschatz.ingest.pipeline import Source, commit_version
from datenschatz.privacy import dp as dp_mod
from datenschatz.privacy import generalize as gen
from datenschatz.privacy import kanon, ledger
from datenschatz.privacy.aggregate import AggregateSpec, aggregate
from datenschatz.privacy.spec import (
    DP,
    Aggregate,
    Drop,
    Generalize,
    Hash,
    KAnonymity,
    Step,
    TreatmentSpec,
    Where,
    load_spec,
    load_spec_file,
    parse_spec,
)
from datenschatz.store.duck import sql_ident, sql_string

log = logging.getLogger(__name__)

__all__ = [
    "TreatmentSpec",
    "apply_treatments",
    "load_spec",
    "load_spec_file",
    "parse_spec",
]


# --- applying it --------------------------------------------------------------------------


@dataclass
class _State:
    view: str
    columns: list[str]
    roles: dict[str, ColumnRole] = field(default_factory=dict)  # set on the output
    never_publish: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    aggregate: dict[str, Any] | None = None
    ledger_files: ledger.LedgerFiles | None = None
    k_anonymity: dict[str, Any] | None = None
    dp: dict[str, Any] | None = None
    row_level: bool = True
    confirmed: dict[str, ColumnRole] = field(default_factory=dict)  # the raw's roles


def _key_role(state: _State, column: str) -> ColumnRole:
    """Role of a group-by column in aggregated output: public_key stays, else quasi_id."""
    if state.confirmed.get(column) is ColumnRole.PUBLIC_KEY:
        return ColumnRole.PUBLIC_KEY
    return ColumnRole.QUASI_ID


def _need(state: _State, columns: tuple[str, ...] | list[str], where: Where) -> None:
    for column in columns:
        if column not in state.columns:
            raise where.error(f"no column {column!r} at this point.", column)


def _new_view(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    name = f"ds_treat_{uuid.uuid4().hex[:12]}"
    con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
    return name


def _replace(
    state: _State, con: duckdb.DuckDBPyConnection, column: str, output: str, expr: str
) -> None:
    """Select every column, with ``expr`` as ``output`` in the place of ``column``."""
    parts = []
    for name in state.columns:
        if name == column:
            parts.append(f"{expr} AS {sql_ident(output)}")
        elif name != output:
            parts.append(sql_ident(name))
    state.view = _new_view(con, f"SELECT {', '.join(parts)} FROM {state.view}")
    state.columns = [
        output if c == column else c for c in state.columns if c != output or c == column
    ]


def apply_treatments(
    hub: Hub,
    slug: str,
    *,
    raw_version: int | None,
    spec: TreatmentSpec,
    actor: str,
) -> VersionInfo:
    """Apply ``spec`` to version ``raw_version`` (default newest) and store the result.

    The result is the next version of ``slug``; its column roles are set (confirmed) and a
    treatment run with the report section is recorded. Raises InputError for a spec that does
    not fit the data, CheckFailed when k-anonymity cannot be reached or the epsilon budget
    would be exceeded; nothing is stored then.
    """
    from datenschatz.privacy.gate import min_group_size
    from datenschatz.privacy.roles import get_roles, parse_role, set_roles

    with hub.session() as session:
        dataset = get_dataset(session, slug)
        raw = get_version(session, dataset, raw_version)
        raw_id, raw_number, raw_path = raw.id, raw.number, raw.path
        raw_sha, raw_size, raw_name = raw.sha256, raw.source_size, raw.source_name
        dataset_id = dataset.id
        floor = min_group_size(hub, dataset)
        confirmed = {
            name: row.role
            for name, row in get_roles(session, dataset).items()
            if row.confirmed and row.role is not None
        }
    k = max(spec.k or 0, floor)
    population = spec.population or slug
    con = hub.duckdb(spatial=any(isinstance(s, Generalize) and s.to == "grid" for s in spec.steps))
    spend_id: int | None = None
    state: _State | None = None
    try:
        source = f"read_parquet({sql_string(str(hub.store.path(raw_path)))})"
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        state = _State(_new_view(con, f"SELECT * FROM {source}"), columns, confirmed=confirmed)
        for index, step in enumerate(spec.steps, start=1):
            spend_id = (
                _apply_step(hub, con, state, index, step, k, population, dataset_id, actor)
                or spend_id
            )
        _final_checks(con, state, spec, confirmed, k)
        for column, role in spec.roles.items():
            if column not in state.columns:
                raise InputError(
                    f"roles: no output column {column!r}.", parameter="roles", column=column
                )
            state.roles[column] = parse_role(role, column)
        report = _report(spec, state, k, population, raw_number)
        staged = Staged(select_sql=f"SELECT * FROM {state.view}", format="treatment")
        info = commit_version(
            hub,
            con,
            staged,
            dataset=slug,
            source=Source(f"{raw_name} (treated v{raw_number})", raw_size, raw_sha),
            actor=actor,
        )
    except BaseException:
        if spend_id is not None:
            ledger.release_spend(hub, spend_id)
        if state is not None and state.ledger_files is not None:
            ledger.discard_ledger(hub, state.ledger_files)
        raise
    finally:
        con.close()
    assert state is not None
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        version = get_version(session, dataset, info.number)
        if spend_id is not None:
            ledger.confirm_spend(session, spend_id, version.id)
            report["budget"] = ledger.budget_state(session, population)
        session.add(
            TreatmentRun(
                dataset_id=dataset.id,
                raw_version_id=raw_id,
                output_version_id=version.id,
                population=population,
                spec=json.loads(json.dumps(spec.raw, default=str)),
                report=report,
                actor=actor,
            )
        )
        if state.ledger_files is not None and state.aggregate is not None:
            session.add(
                ContributorLedger(
                    version_id=version.id,
                    dataset_id=dataset.id,
                    population=population,
                    key_columns=state.ledger_files.key_columns,
                    measures=state.ledger_files.measures,
                    k=k,
                    path=state.ledger_files.relpath,
                )
            )
        roles = {c: r for c, r in state.roles.items() if c in state.columns}
        if roles:
            set_roles(session, dataset, roles, actor=actor, confirmed=True)
        session.flush()
        log.info("treated %s v%d into v%d", slug, raw_number, info.number)
        return VersionInfo.of(version)


def _apply_step(
    hub: Hub,
    con: duckdb.DuckDBPyConnection,
    state: _State,
    index: int,
    step: Step,
    k: int,
    population: str,
    dataset_id: int,
    actor: str,
) -> int | None:
    where = Where(index, type(step).__name__.lower())
    if isinstance(step, Drop):
        _need(state, step.columns, where)
        kept = [c for c in state.columns if c not in step.columns]
        if not kept:
            raise where.error("dropping every column leaves nothing to publish.")
        state.view = _new_view(
            con, f"SELECT {', '.join(sql_ident(c) for c in kept)} FROM {state.view}"
        )
        state.columns = kept
        state.steps.append({"kind": "drop", "columns": list(step.columns)})
    elif isinstance(step, Hash):
        _need(state, [step.column], where)
        _replace(
            state,
            con,
            step.column,
            step.output,
            ledger.hmac_sql(ledger.hash_key(hub), sql_ident(step.column)),
        )
        state.roles[step.output] = ColumnRole.DIRECT_ID
        state.never_publish.append(step.output)
        state.steps.append({"kind": "hash", "column": step.column, "as": step.output})
    elif isinstance(step, Generalize):
        _need(state, [step.column], where)
        col = sql_ident(step.column)
        if step.to == "district":
            expr = gen.postcode_to_district(col, step.mapping or {})
        elif step.to == "street":
            expr = gen.address_to_street(col)
        elif step.to == "grid":
            expr = gen.point_to_grid(col, step.size)
        elif step.to == "month":
            expr = gen.date_to_month(col)
        else:
            expr = gen.number_to_bands(col, width=step.width, edges=step.edges)
        try:
            _replace(state, con, step.column, step.output, expr)
            con.execute(f"SELECT count(*) FROM {state.view}").fetchone()
        except duckdb.Error:
            raise where.error(
                f"column {step.column!r} cannot be generalized to {step.to} (wrong type).",
                step.column,
            ) from None
        state.roles[step.output] = ColumnRole.QUASI_ID
        state.steps.append(
            {"kind": "generalize", "column": step.column, "to": step.to, "as": step.output}
        )
    elif isinstance(step, Aggregate):
        a = step.spec
        a = AggregateSpec(**{**asdict(a), "k": max(a.k, k)})
        named = [*a.group_by, *a.sum, *a.mean]
        named += [c for c in (a.contributor, a.contributor_count) if c]
        _need(state, named, where)
        try:
            result = aggregate(
                con, state.view, a, hash_expr=lambda e: ledger.hmac_sql(ledger.hash_key(hub), e)
            )
        except duckdb.Error:
            raise where.error("the sum/mean columns must hold numbers.") from None
        state.view = _new_view(
            con, f"SELECT {', '.join(sql_ident(c) for c in result.columns)} FROM {result.table}"
        )
        state.columns = list(result.columns)
        for column in a.group_by:
            state.roles.setdefault(column, _key_role(state, column))
        for column in result.measure_columns:
            state.roles[column] = ColumnRole.MEASURE
        state.roles["contributor_count"] = ColumnRole.CONTRIBUTOR_COUNT
        state.aggregate = result.report
        state.row_level = False
        measured = list(dict.fromkeys([*a.sum, *a.mean]))
        slug_dir = f"ds{dataset_id}"
        state.ledger_files = ledger.write_ledger(
            hub,
            con,
            slug=slug_dir,
            cells_sql=result.cells_sql,
            members_sql=result.members_sql,
            key_columns=list(a.group_by),
            measures=measured,
        )
        state.steps.append(dict(result.report))
    elif isinstance(step, KAnonymity):
        s = step.spec
        quasi = s.quasi_ids or tuple(
            c for c in state.columns if state.roles.get(c) is ColumnRole.QUASI_ID
        )
        if not quasi:
            raise where.error("name the quasi_ids (no column has the role quasi_id here).")
        s = kanon.KAnonSpec(quasi, max(s.k, k), s.suppress, s.max_suppressed, s.contributor)
        _need(state, [*quasi, *([s.contributor] if s.contributor else [])], where)
        view, found = kanon.enforce(con, state.view, s)
        if not found["reached"]:
            raise CheckFailed(
                f"Treatment {index} (k_anonymity): k={s.k} is not reached on "
                f"{', '.join(quasi)}: {found['classes_below_k']} group(s) smaller than k "
                f"(smallest {found['smallest_class']}). "
                + (found.get("note") or "Generalize further or set suppress: true."),
                parameter="treatments",
                treatment=index,
            )
        state.view = view
        for column in quasi:
            state.roles.setdefault(column, ColumnRole.QUASI_ID)
        state.k_anonymity = found
        state.steps.append({"kind": "k_anonymity", **found})
    elif isinstance(step, DP):
        d = step.spec
        named = [*d.group_by, *d.sum, *d.mean, *([d.contributor] if d.contributor else [])]
        _need(state, named, where)
        spend_id = ledger.reserve_epsilon(
            hub, population, d.epsilon, dataset_id=dataset_id, actor=actor
        )
        try:
            released = dp_mod.release(con, state.view, d)
        except duckdb.Error:
            ledger.release_spend(hub, spend_id)
            raise where.error("the sum/mean columns must hold numbers.") from None
        state.view = _new_view(con, f"SELECT * FROM {released.table}")
        state.columns = list(released.columns)
        for column in d.group_by:
            state.roles[column] = ColumnRole.PUBLIC_KEY  # declared, public group keys
        for column in released.measure_columns:
            state.roles[column] = ColumnRole.MEASURE
        state.dp = released.report
        state.row_level = False
        state.steps.append(dict(released.report))
        return spend_id
    return None


def _final_checks(
    con: duckdb.DuckDBPyConnection,
    state: _State,
    spec: TreatmentSpec,
    confirmed: Mapping[str, ColumnRole],
    k: int,
) -> None:
    """Free text never leaves raw; row-level output with quasi-identifiers is k-anonymous."""
    free = [
        c
        for c in state.columns
        if confirmed.get(c) is ColumnRole.FREE_TEXT and c not in state.roles
    ]
    if free:
        raise InputError(
            f"Column(s) {', '.join(free)} hold free text, which is never published raw: drop them.",
            parameter="treatments",
            column=free[0],
        )
    if not state.row_level or state.k_anonymity is not None:
        return
    quasi = tuple(
        c
        for c in state.columns
        if (state.roles.get(c) or confirmed.get(c)) is ColumnRole.QUASI_ID
        and spec.roles.get(c, "quasi_id") == "quasi_id"
    )
    if quasi:
        found = kanon.check(con, state.view, kanon.KAnonSpec(quasi, k))
        state.k_anonymity = found
        if not found["reached"]:
            raise CheckFailed(
                f"The row-level output is not {k}-anonymous on {', '.join(quasi)}: "
                f"{found['classes_below_k']} group(s) smaller than k (smallest "
                f"{found['smallest_class']}). Add a k_anonymity treatment with suppress: true, "
                "generalize further or aggregate.",
                parameter="treatments",
            )


def _report(
    spec: TreatmentSpec, state: _State, k: int, population: str, raw_number: int
) -> dict[str, Any]:
    aggregated = state.aggregate or {}
    suppressed = aggregated.get("suppressed") or {"primary": 0, "secondary": 0}
    smallest = aggregated.get("smallest_group")
    if smallest is None and state.k_anonymity is not None:
        smallest = state.k_anonymity.get("smallest_class")
    return {
        "raw_version": raw_number,
        "population": population,
        "k": k,
        "treatments": state.steps,
        "smallest_group": smallest,
        "suppressed": {
            "primary": suppressed.get("primary", 0),
            "secondary": suppressed.get("secondary", 0),
        },
        "k_anonymity": state.k_anonymity,
        "dp": {**state.dp, "epsilon_spent": state.dp["epsilon"]} if state.dp else None,
        "budget": None,
        "never_publish": sorted(state.never_publish),
        "output_columns": {
            c: str(state.roles[c]) if c in state.roles else None for c in state.columns
        },
        "notes": [],
    }
