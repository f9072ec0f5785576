"""The privacy gate: evaluate a version into a privacy report that passes or says why not.

:func:`evaluate_version` scans the version (once per file; the scan is kept with the report),
refreshes the proposed roles, checks every column's confirmed role against what the
detectors found, the contributor counts against k, quasi-identifiers for k-anonymity, the
treatment run that produced the version and earlier releases of the same population, and
stores the report. ``services.publish.check_privacy`` calls it on every publish; nothing
reaches ``public`` or ``partner`` without a passing report.

Rules (docs/privacy.md explains them for stewards):

- every column needs a confirmed role; a new column in a new version has none;
- ``direct_id`` and ``free_text`` columns are never published raw: drop or treat them;
- a detector hit in any other column blocks, except addresses in a ``public_key`` column
  (addresses of public places, e.g. car parks); keyed hashes block in every column;
- values so unique they look like identifiers block in ``quasi_id`` and ``sensitive`` columns;
- every row of an aggregate needs at least k contributors (``contributor_count``);
- row-level tables with quasi-identifiers need groups of at least k rows on them;
- a version that served as raw input of a treatment is never published; the treated output is;
- subtracting published figures of two releases must not isolate fewer than k contributors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.coded import code_of, coded
from datenschatz.db.models import Dataset, Version, utcnow
from datenschatz.db.privacy_models import ColumnRole, PrivacyReport
from datenschatz.hub import Hub
from datenschatz.privacy import report as report_model
from datenschatz.privacy.detect_values import TableScan, parquet_source
from datenschatz.privacy.detectors import names_for, scan_parquet
from datenschatz.privacy.roles import Proposal, get_roles, propose_role, record_proposals

log = logging.getLogger(__name__)

SCAN_FORMAT = 2  # bump when detectors change in a way that makes stored scans stale
# Entities a public_key column may hold: addresses of public places are no personal data.
PUBLIC_PLACE_ENTITIES = frozenset({"street_address", "postcode_city"})
NEVER_RAW = (ColumnRole.DIRECT_ID, ColumnRole.FREE_TEXT)
EXAMPLES = 5


@dataclass(frozen=True)
class Verdict:
    """The outcome of one evaluation (the full report is in ``report``)."""

    passed: bool
    reasons: list[str]
    report: dict[str, Any]


def min_group_size(hub: Hub, dataset: Dataset) -> int:
    """k: the hub's minimum group size, raised by the dataset's ``min_group_size``."""
    k = hub.settings.privacy_min_group_size
    extra = dataset.extra or {}
    own = extra.get("min_group_size")
    if isinstance(own, int) and not isinstance(own, bool) and own > k:
        k = own
    return k


def _rows(rows: list[int]) -> str:
    return ", ".join(str(r) for r in rows[:EXAMPLES])


def stored_scan(session: Session, version: Version) -> TableScan | None:
    row = session.scalar(select(PrivacyReport).where(PrivacyReport.version_id == version.id))
    if row is None:
        return None
    data = row.scan or {}
    if data.get("sha256") != version.sha256 or data.get("format") != SCAN_FORMAT:
        return None
    return TableScan.from_dict(data)


def scan_version(
    hub: Hub, version: Version, con: duckdb.DuckDBPyConnection | None = None
) -> TableScan:
    """Run the detectors over the version's Parquet file."""
    own = con is None
    cursor = con or hub.duckdb(spatial=False)
    try:
        return scan_parquet(cursor, hub.store.path(version.path), names_for(hub))
    finally:
        if own:
            cursor.close()


def proposals_for(table: TableScan) -> dict[str, Proposal]:
    personal = table.personal
    return {
        c.name: propose_role(
            c.name,
            c.type,
            [e for e in c.hits if e != "unique"],
            unique=c.unique,
            personal_table=personal,
        )
        for c in table.columns
    }


def evaluate_version(
    hub: Hub, slug: str, number: int | None = None, *, con: duckdb.DuckDBPyConnection | None = None
) -> Verdict:
    """Evaluate version ``number`` (default newest) of ``slug`` and store its report."""
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        version = get_version(session, dataset, number)
        return evaluate(hub, session, dataset, version, con=con)


def evaluate(
    hub: Hub,
    session: Session,
    dataset: Dataset,
    version: Version,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Verdict:
    """Evaluate ``version`` in ``session`` and store (replace) its privacy report there."""
    table = stored_scan(session, version)
    if table is None:
        table = scan_version(hub, version, con)
    record_proposals(session, dataset, proposals_for(table))
    roles = get_roles(session, dataset)
    k = min_group_size(hub, dataset)
    reasons: list[str] = []
    notes: list[str] = []
    columns: list[dict[str, Any]] = []
    confirmed: dict[str, ColumnRole] = {}
    for column in table.columns:
        row = roles.get(column.name)
        role = row.role if row is not None and row.confirmed else None
        blocking = _column_reasons(column.name, role, row, column.hits, reasons, notes)
        if role is not None:
            confirmed[column.name] = role
        columns.append(
            {
                "name": column.name,
                "type": column.type,
                "role": role.value if role else None,
                "confirmed": role is not None,
                "proposed_role": row.proposed_role.value if row and row.proposed_role else None,
                "proposal_reason": row.proposal_reason if row else "",
                "hits": [h.to_dict() for h in column.hits.values()],
                "blocking": blocking,
            }
        )
    smallest, basis = _group_sizes(hub, version, confirmed, k, reasons, con)
    treatments, compared = _treatments(hub, session, dataset, version, table, reasons)
    if treatments is not None:
        treated_smallest = treatments.get("smallest_group")
        if isinstance(treated_smallest, int) and (smallest is None or treated_smallest < smallest):
            smallest, basis = treated_smallest, "treatment"
    suppressed = (treatments or {}).get("suppressed") or {}
    report: dict[str, Any] = {
        "$schema": report_model.SCHEMA_ID,
        "dataset": dataset.slug,
        "version": version.number,
        "evaluated_at": utcnow().isoformat(),
        "source": {
            "sha256": version.source_sha256,
            "version_sha256": version.sha256,
            "format": version.source_format,
            "rows": version.row_count,
        },
        "tools": report_model.tool_versions(),
        "k": k,
        "columns": columns,
        "treatments": treatments,
        "smallest_group": smallest,
        "smallest_group_basis": basis,
        "suppressed_cells": {
            "primary": int(suppressed.get("primary", 0) or 0),
            "secondary": int(suppressed.get("secondary", 0) or 0),
        },
        "differential_privacy": _dp_section(treatments),
        "compared_releases": compared,
        "passed": not reasons,
        "reasons": reasons,
        "notes": notes,
        # The code of each reason and note (None where it has none), for pages in any language.
        "reason_codes": [code_of(r) for r in reasons],
        "note_codes": [code_of(n) for n in notes],
    }
    _store(session, version, table, report)
    if reasons:
        # Column, entity type and row numbers only: never a value.
        log.debug(
            "privacy gate: %s v%d refused (%d reasons)", dataset.slug, version.number, len(reasons)
        )
    return Verdict(not reasons, reasons, report)


def _column_reasons(
    name: str,
    role: ColumnRole | None,
    row: Any,
    hits: dict[str, Any],
    reasons: list[str],
    notes: list[str],
) -> bool:
    before = len(reasons)
    if role is None:
        proposed = row.proposed_role.value if row is not None and row.proposed_role else None
        text = (
            f"Column {name!r} has no confirmed role"
            + (f" (proposed: {proposed})" if proposed else "")
            + "; set one with `datenschatz privacy roles`."
        )
        if proposed:
            reasons.append(coded(text, "no_role_proposed", column=name, role=proposed))
        else:
            reasons.append(coded(text, "no_role", column=name))
        return True
    if role in NEVER_RAW:
        reasons.append(
            coded(
                f"Column {name!r} is {role.value}: it is never published raw; drop or treat it.",
                "never_raw",
                column=name,
                role=role.value,
            )
        )
        return True
    for entity, hit in hits.items():
        if entity == "unique":
            if role in (ColumnRole.QUASI_ID, ColumnRole.SENSITIVE):
                reasons.append(
                    coded(
                        f"Column {name!r} ({role.value}) has values so unique they single out "
                        "rows; generalize it or declare it direct_id and drop it.",
                        "too_unique",
                        column=name,
                        role=role.value,
                    )
                )
            continue
        if entity in PUBLIC_PLACE_ENTITIES and role is ColumnRole.PUBLIC_KEY:
            notes.append(
                coded(
                    f"Column {name!r} holds addresses ({entity}); allowed as public_key: "
                    "addresses of public places.",
                    "public_addresses",
                    column=name,
                    entity=entity,
                )
            )
            continue
        reasons.append(
            coded(
                f"Column {name!r} ({role.value}): {entity} found in {hit.count} row(s), "
                f"e.g. rows {_rows(hit.rows)}; declare it direct_id or free_text and treat it.",
                "entity_found",
                column=name,
                role=role.value,
                entity=entity,
                count=hit.count,
                rows=_rows(hit.rows),
            )
        )
    return len(reasons) > before


def _group_sizes(
    hub: Hub,
    version: Version,
    roles: dict[str, ColumnRole],
    k: int,
    reasons: list[str],
    con: duckdb.DuckDBPyConnection | None,
) -> tuple[int | None, str | None]:
    """Check contributor counts (aggregates) or k-anonymity on quasi-identifiers (microdata)."""
    counts = [c for c, r in roles.items() if r is ColumnRole.CONTRIBUTOR_COUNT]
    quasi = [c for c, r in roles.items() if r is ColumnRole.QUASI_ID]
    if not counts and not quasi:
        return None, None
    fields = {f["name"]: f.get("type") for f in version.table_schema.get("fields", [])}
    cursor = con or hub.duckdb(spatial=False)
    source = parquet_source(hub.store.path(version.path), fields)
    try:
        if counts:
            return _contributor_counts(cursor, source, counts, fields, roles, k, reasons)
        group = ", ".join(_q(c) for c in quasi)
        found = cursor.execute(
            f"SELECT min(n) FROM (SELECT count(*) AS n FROM {source} GROUP BY {group})"
        ).fetchone()
        smallest = int(found[0]) if found and found[0] is not None else None
        if smallest is not None and smallest < k:
            small = cursor.execute(
                f"SELECT count(*) FROM (SELECT count(*) AS n FROM {source} GROUP BY {group}) "
                f"WHERE n < {k}"
            ).fetchone()
            groups = small[0] if small else 0
            reasons.append(
                coded(
                    f"The quasi-identifiers ({', '.join(quasi)}) single out {groups}"
                    f" group(s) of fewer than k={k} rows (smallest: {smallest}); generalize them "
                    "or aggregate.",
                    "small_groups",
                    columns=", ".join(quasi),
                    groups=groups,
                    k=k,
                    smallest=smallest,
                )
            )
        return smallest, "quasi_id"
    finally:
        if con is None:
            cursor.close()


def _contributor_counts(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    counts: list[str],
    fields: dict[str, Any],
    roles: dict[str, ColumnRole],
    k: int,
    reasons: list[str],
) -> tuple[int | None, str | None]:
    smallest: int | None = None
    figures = [c for c, r in roles.items() if r in (ColumnRole.MEASURE, ColumnRole.SENSITIVE)]
    for column in counts:
        if fields.get(column) not in ("integer", "number"):
            reasons.append(
                coded(
                    f"Column {column!r} is contributor_count but holds no numbers.",
                    "count_not_numeric",
                    column=column,
                )
            )
            continue
        col = _q(column)
        row = cursor.execute(
            f"SELECT min({col}), count(*) FILTER (WHERE {col} < {k}), "
            f"list(__ds_row ORDER BY __ds_row) FILTER (WHERE {col} < {k}) FROM {source}"
        ).fetchone()
        assert row is not None
        low, small, examples = row
        if low is not None:
            smallest = int(low) if smallest is None else min(smallest, int(low))
        if small:
            reasons.append(
                coded(
                    f"Column {column!r}: {small} row(s) stand for fewer than k={k} contributors, "
                    f"e.g. rows {_rows(list(examples or []))}; aggregate further or suppress them.",
                    "few_contributors",
                    column=column,
                    count=small,
                    k=k,
                    rows=_rows(list(examples or [])),
                )
            )
        if figures:
            shown = " OR ".join(f"{_q(f)} IS NOT NULL" for f in figures)
            leaked = cursor.execute(
                f"SELECT count(*) FROM {source} WHERE {col} IS NULL AND ({shown})"
            ).fetchone()
            if leaked and leaked[0]:
                reasons.append(
                    coded(
                        f"Column {column!r} is empty in {leaked[0]} row(s) whose figures are "
                        "published: the group size of those figures is unknown.",
                        "count_missing",
                        column=column,
                        count=leaked[0],
                    )
                )
    return smallest, "contributor_count"


def _treatments(
    hub: Hub,
    session: Session,
    dataset: Dataset,
    version: Version,
    table: TableScan,
    reasons: list[str],
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The treatment section (P2's ledger) and the differencing check against earlier releases."""
    from datenschatz.privacy import ledger

    if version.id in ledger.raw_version_ids(session, dataset.id):
        reasons.append(
            coded(
                "This version is the raw input of a declared treatment: it stays internal; "
                "publish the treated output instead.",
                "raw_input",
            )
        )
    treatments = ledger.treatment_run_for(session, version.id)
    compared: list[dict[str, Any]] = []
    if treatments is not None:
        compared = list(treatments.get("compared_releases") or [])
        hashed = set(treatments.get("never_publish") or []) & {c.name for c in table.columns}
        for column in sorted(hashed):
            reasons.append(
                coded(
                    f"Column {column!r} holds keyed hashes (pseudonymous personal data): "
                    "allowed for internal joins only, never published.",
                    "keyed_hash",
                    column=column,
                )
            )
    reasons.extend(ledger.differencing_findings(hub, session, dataset, version))
    return treatments, compared


def _dp_section(treatments: dict[str, Any] | None) -> dict[str, Any] | None:
    """DP parameters of the treatment with the population's budget (limit, spent)."""
    dp = (treatments or {}).get("dp")
    if not isinstance(dp, dict):
        return None
    budget = (treatments or {}).get("budget")
    return {**dp, "budget": budget} if budget is not None else dict(dp)


def _store(session: Session, version: Version, table: TableScan, report: dict[str, Any]) -> None:
    scan = {"sha256": version.sha256, "format": SCAN_FORMAT, **table.to_dict()}
    row = session.scalar(select(PrivacyReport).where(PrivacyReport.version_id == version.id))
    if row is None:
        # Two evaluations of one version may race (ingest and publish): first one inserts.
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(PrivacyReport)
            .values(
                version_id=version.id,
                scan=scan,
                report=report,
                passed=bool(report["passed"]),
                evaluated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["version_id"])
        )
        row = session.scalar(select(PrivacyReport).where(PrivacyReport.version_id == version.id))
        assert row is not None
    row.scan = scan
    row.report = report
    row.passed = bool(report["passed"])
    row.evaluated_at = utcnow()
    session.flush()


def stored_report(session: Session, version: Version) -> dict[str, Any] | None:
    """The report last stored for ``version``, or None when it was never evaluated."""
    row = session.scalar(select(PrivacyReport).where(PrivacyReport.version_id == version.id))
    return dict(row.report) if row is not None and row.report else None


def summary_of(hub: Hub, slug: str, number: int) -> dict[str, Any] | None:
    """A short summary of the stored report of a version (for the ingest output)."""
    with hub.session() as session:
        version = get_version(session, get_dataset(session, slug), number)
        report = stored_report(session, version)
    if report is None:
        return None
    unconfirmed = [c["name"] for c in report["columns"] if not c["confirmed"]]
    hits = sorted({(c["name"], h["entity"]) for c in report["columns"] for h in c["hits"]})
    found = [f"{entity} in {column!r}" for column, entity in hits if entity != "unique"]
    if report["passed"]:
        text = "passes the privacy gate."
    else:
        text = f"does not pass yet ({len(report['reasons'])} finding(s))"
        if unconfirmed:
            text += f"; {len(unconfirmed)} column(s) without a confirmed role"
        if found:
            text += "; found " + ", ".join(found[:6]) + (" ..." if len(found) > 6 else "")
        text += f". See `datenschatz privacy report {slug}`."
    return {
        "passed": report["passed"],
        "reasons": len(report["reasons"]),
        "unconfirmed": unconfirmed,
        "found": [{"column": c, "entity": e} for c, e in hits],
        "text": text,
    }


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = [
    "Verdict",
    "evaluate",
    "evaluate_version",
    "min_group_size",
    "scan_version",
    "stored_report",
    "summary_of",
]
