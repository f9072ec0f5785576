"""The internal privacy ledgers: treatment runs, contributors per cell, the epsilon budget.

Nothing here is ever published. The gate (``privacy.gate``) asks two things of this module:

- :func:`treatment_run_for`: the treatment section of a version's privacy report (which
  treatments made it, the smallest group size reached, suppressed cells, DP parameters and
  budget spent, the earlier releases compared), or None for a version no treatment produced.
- :func:`differencing_findings`: reasons to refuse a version because subtracting one of its
  figures from a figure of an earlier published release of the same population would isolate
  fewer than k contributors. An empty list means no such risk was found.

The contributor ledger of an aggregated version is two Parquet files under
``<data_dir>/privacy-ledger/``: ``cells.parquet`` (cell key, contributor count, sums per
measure, as published) and, when the treatment named a contributor column,
``members.parquet`` (cell key, keyed hash of each contributor). Contributor ids are stored
only as keyed hashes (HMAC-SHA-256 with a key derived from the hub's secret key).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from datenschatz.coded import coded
from datenschatz.db.models import Dataset, Version
from datenschatz.db.privacy_ledger_models import (
    ContributorLedger,
    EpsilonBudget,
    EpsilonSpend,
    TreatmentRun,
)
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.store.duck import sql_string

log = logging.getLogger(__name__)

LEDGER_DIR = "privacy-ledger"
MAX_LISTED = 5


# --- keyed hashes -------------------------------------------------------------------------


def hash_key(hub: Hub) -> bytes:
    """The key of keyed hashes: derived from the hub's secret key, never the key itself."""
    secret = hub.settings.signing_key().encode()
    return hmac.new(secret, b"datenschatz privacy keyed hash v1", hashlib.sha256).digest()


def hmac_sql(key: bytes, expr: str) -> str:
    """A DuckDB expression: hex HMAC-SHA-256 of ``expr`` (cast to text) under ``key``.

    Vectorized in DuckDB (RFC 2104 spelled out with sha256 over blobs); NULL stays NULL.
    """
    block = key.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in block).hex()
    opad = bytes(b ^ 0x5C for b in block).hex()
    inner = f"unhex(sha256(unhex('{ipad}') || encode(CAST({expr} AS VARCHAR))))"
    return f"sha256(unhex('{opad}') || {inner})"


# --- treatment runs -----------------------------------------------------------------------


def treatment_run_for(session: Session, version_id: int) -> dict[str, Any] | None:
    """The treatment section of the privacy report of ``version_id``; None if untreated.

    Keys: ``raw_version`` (number), ``population``, ``treatments`` (the declared spec's
    steps), ``k``, ``smallest_group`` (smallest contributor count of a published cell, or None
    for row-level output), ``suppressed`` ({"primary": n, "secondary": n}), ``k_anonymity``
    (microdata findings or None), ``dp`` (parameters and ``epsilon_spent``, or None),
    ``budget`` ({"population", "limit", "spent"} or None), ``never_publish`` (columns holding
    keyed hashes: the gate must refuse a version that contains them), ``compared_releases``
    (filled in by the gate's differencing check via :func:`compared_releases`), and ``notes``.
    """
    run = session.scalar(select(TreatmentRun).where(TreatmentRun.output_version_id == version_id))
    if run is None:
        return None
    report = dict(run.report)
    report["compared_releases"] = compared_releases(session, version_id)
    return report


def raw_version_ids(session: Session, dataset_id: int) -> set[int]:
    """Versions of a dataset that served as raw input of a treatment (internal only)."""
    return set(
        session.scalars(
            select(TreatmentRun.raw_version_id).where(TreatmentRun.dataset_id == dataset_id)
        )
    )


# --- contributor ledger -------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFiles:
    """Ledger files written beside a treatment, before the version row exists."""

    relpath: str
    key_columns: list[str]
    measures: list[str]
    has_members: bool


def ledger_root(hub: Hub) -> Path:
    return hub.data_dir / LEDGER_DIR


def write_ledger(
    hub: Hub,
    con: duckdb.DuckDBPyConnection,
    *,
    slug: str,
    cells_sql: str,
    members_sql: str | None,
    key_columns: list[str],
    measures: list[str],
) -> LedgerFiles:
    """Write the internal ledger files of one aggregated output.

    ``cells_sql`` selects ``cell`` (text key), ``contributor_count`` and one DOUBLE column per
    measure named ``m0``, ``m1``, ...; ``members_sql`` selects ``cell`` and ``contributor``
    (a keyed hash).
    """
    relpath = f"{slug}/{uuid.uuid4().hex}"
    target = ledger_root(hub) / relpath
    target.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY ({cells_sql}) TO {sql_string(str(target / 'cells.parquet'))} (FORMAT parquet)"
    )
    if members_sql is not None:
        con.execute(
            f"COPY ({members_sql}) TO {sql_string(str(target / 'members.parquet'))} "
            "(FORMAT parquet)"
        )
    return LedgerFiles(relpath, key_columns, measures, members_sql is not None)


def discard_ledger(hub: Hub, files: LedgerFiles) -> None:
    shutil.rmtree(ledger_root(hub) / files.relpath, ignore_errors=True)


def _earlier_published(session: Session, ledger: ContributorLedger) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(ContributorLedger, Version.number, Dataset.slug)
        .join(Version, Version.id == ContributorLedger.version_id)
        .join(Dataset, Dataset.id == ContributorLedger.dataset_id)
        .where(
            ContributorLedger.population == ledger.population,
            ContributorLedger.version_id != ledger.version_id,
            Version.published_at.is_not(None),
        )
        .order_by(ContributorLedger.id)
    )
    return [tuple(r) for r in rows]


def compared_releases(session: Session, version_id: int) -> list[dict[str, Any]]:
    """The earlier published releases of the same population a version is compared with."""
    ledger = session.scalar(
        select(ContributorLedger).where(ContributorLedger.version_id == version_id)
    )
    if ledger is None:
        return []
    return [
        {"dataset": slug, "version": number}
        for other, number, slug in _earlier_published(session, ledger)
        if other.key_columns == ledger.key_columns
    ]


def differencing_findings(
    hub: Hub, session: Session, dataset: Dataset, version: Version
) -> list[str]:
    """Reasons to refuse ``version``: differencing with earlier releases isolates < k people.

    A cell published both in this version and in an earlier published release of the same
    population (same group-by columns, same key) is risky when its figures changed and the
    contributors behind it differ by 1 to k-1: by the keyed contributor sets when both
    releases recorded them (someone moved in or out), otherwise by the change of the
    contributor count.
    """
    ledger = session.scalar(
        select(ContributorLedger).where(ContributorLedger.version_id == version.id)
    )
    if ledger is None:
        return []
    reasons: list[str] = []
    root = ledger_root(hub)
    mine = root / ledger.path
    con = hub.duckdb(spatial=False)
    try:
        for other, number, slug in _earlier_published(session, ledger):
            if other.key_columns != ledger.key_columns:
                continue
            theirs = root / other.path
            if not (mine / "cells.parquet").is_file() or not (theirs / "cells.parquet").is_file():
                reasons.append(
                    coded(
                        f"The contributor ledger of this version or of {slug} v{number} is "
                        "missing from the data directory: the releases cannot be compared.",
                        "ledger_missing",
                        dataset=slug,
                        version=number,
                    )
                )
                continue
            k = max(ledger.k, other.k)
            common = sorted(set(ledger.measures) & set(other.measures))
            changed = " OR ".join(
                f"a.m{ledger.measures.index(m)} IS DISTINCT FROM b.m{other.measures.index(m)}"
                for m in common
            )
            changed = f"({changed} OR a.contributor_count <> b.contributor_count)"
            a = f"read_parquet({sql_string(str(mine / 'cells.parquet'))})"
            b = f"read_parquet({sql_string(str(theirs / 'cells.parquet'))})"
            members = (mine / "members.parquet").is_file() and (
                theirs / "members.parquet"
            ).is_file()
            if members:
                ma = f"read_parquet({sql_string(str(mine / 'members.parquet'))})"
                mb = f"read_parquet({sql_string(str(theirs / 'members.parquet'))})"
                sql = f"""
                    WITH risky AS (
                        SELECT a.cell FROM {a} a JOIN {b} b USING (cell) WHERE {changed}
                    ),
                    x AS (SELECT * FROM {ma} WHERE cell IN (SELECT cell FROM risky)),
                    y AS (SELECT * FROM {mb} WHERE cell IN (SELECT cell FROM risky)),
                    moved AS (
                        SELECT coalesce(x.cell, y.cell) AS cell, count(*) AS n
                        FROM x FULL JOIN y ON x.cell = y.cell AND x.contributor = y.contributor
                        WHERE x.cell IS NULL OR y.cell IS NULL
                        GROUP BY 1
                    )
                    SELECT cell, n FROM moved WHERE n BETWEEN 1 AND {k - 1} ORDER BY cell
                """
            else:
                sql = f"""
                    SELECT a.cell, abs(a.contributor_count - b.contributor_count) AS n
                    FROM {a} a JOIN {b} b USING (cell)
                    WHERE {changed}
                      AND abs(a.contributor_count - b.contributor_count) BETWEEN 1 AND {k - 1}
                    ORDER BY a.cell
                """
            found = con.execute(sql).fetchall()
            if found:
                shown = "; ".join(f"{cell} ({n})" for cell, n in found[:MAX_LISTED])
                more = f" and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
                reasons.append(
                    coded(
                        f"{len(found)} cell(s) differ from the published release {slug} "
                        f"v{number} by fewer than k={k} contributors, so subtracting the two "
                        f"figures would isolate them: {shown}{more}. Publish larger cells, wait "
                        "until the change reaches k, or use differential privacy.",
                        "differencing",
                        count=len(found),
                        dataset=slug,
                        version=number,
                        k=k,
                        cells=shown + (" …" if more else ""),
                    )
                )
    finally:
        con.close()
    return reasons


# --- epsilon budget -----------------------------------------------------------------------


def budget_state(session: Session, population: str) -> dict[str, Any] | None:
    budget = session.scalar(select(EpsilonBudget).where(EpsilonBudget.population == population))
    if budget is None:
        return None
    spent = session.scalar(
        select(func.coalesce(func.sum(EpsilonSpend.epsilon), 0.0)).where(
            EpsilonSpend.budget_id == budget.id
        )
    )
    return {"population": population, "limit": budget.epsilon_limit, "spent": float(spent or 0)}


def reserve_epsilon(
    hub: Hub,
    population: str,
    epsilon: float,
    *,
    dataset_id: int,
    actor: str,
    limit: float | None = None,
) -> int:
    """Reserve ``epsilon`` of the population's budget; CheckFailed if it would be exceeded.

    The budget row is created on first use with ``limit`` (default: the hub setting
    ``privacy_epsilon_budget``). Returns the id of the spend entry (see :func:`confirm_spend`,
    :func:`release_spend`). Reservations are serialised per population by a row lock.
    """
    default = hub.settings.privacy_epsilon_budget
    with hub.session() as session:
        budget = session.scalar(
            select(EpsilonBudget).where(EpsilonBudget.population == population).with_for_update()
        )
        if budget is None:
            budget = EpsilonBudget(population=population, epsilon_limit=limit or default)
            session.add(budget)
            session.flush()
        spent = float(
            session.scalar(
                select(func.coalesce(func.sum(EpsilonSpend.epsilon), 0.0)).where(
                    EpsilonSpend.budget_id == budget.id
                )
            )
            or 0.0
        )
        if spent + epsilon > budget.epsilon_limit + 1e-12:
            raise CheckFailed(
                f"The epsilon budget of population {population!r} would be exceeded: "
                f"{spent:g} of {budget.epsilon_limit:g} spent, this treatment asks {epsilon:g}.",
                parameter="epsilon",
                population=population,
                spent=spent,
                limit=budget.epsilon_limit,
            )
        spend = EpsilonSpend(
            budget_id=budget.id, dataset_id=dataset_id, epsilon=epsilon, actor=actor
        )
        session.add(spend)
        session.flush()
        return spend.id


def confirm_spend(session: Session, spend_id: int, version_id: int) -> None:
    spend = session.get(EpsilonSpend, spend_id)
    if spend is not None:
        spend.version_id = version_id


def release_spend(hub: Hub, spend_id: int) -> None:
    """Give back a reservation whose treatment failed (nothing was released)."""
    with hub.session() as session:
        session.execute(delete(EpsilonSpend).where(EpsilonSpend.id == spend_id))
