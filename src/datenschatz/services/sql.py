"""Read-only SQL over the published datasets a caller may see.

Each visible dataset is a table named by its slug. Slugs have hyphens, so the table name needs
double quotes: ``SELECT * FROM "luft-bochum"``. Each such table also has an underscore alias
(``luft_bochum``), which never collides with a slug because slugs have no underscores. Which
datasets are tables, and which of their versions, the access policy decides; the sandbox in
:mod:`datenschatz.store.sandbox` runs the statement and knows nothing of access.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from datenschatz.access.policy import Principal, visible_datasets
from datenschatz.db.models import Dataset
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.store.sandbox import SandboxLimits, SqlResult, run_query


def sql_tables(session: Session, hub: Hub, principal: Principal) -> dict[str, Path]:
    """Table name (slug) → file of the version ``principal`` reads by default, per dataset.

    The datasets are those :func:`~datenschatz.access.policy.visible_datasets` selects; the
    version of each is the one ``ensure_version(session, principal, slug)`` returns (the
    published one), loaded in the same query instead of one call per dataset.
    """
    datasets = session.scalars(
        select(Dataset)
        .where(visible_datasets(principal))
        .options(joinedload(Dataset.published_version))
        .order_by(Dataset.slug)
    ).all()
    tables: dict[str, Path] = {}
    for dataset in datasets:
        version = dataset.published_version
        if version is not None:
            tables[dataset.slug] = hub.store.path(version.path)
    return tables


def sql_limits(hub: Hub, limit: int | None = None) -> SandboxLimits:
    """The sandbox limits from the settings; ``limit`` caps the rows (at most the maximum)."""
    settings = hub.settings
    if limit is not None and not 1 <= limit <= settings.max_rows_per_page:
        raise InputError(
            f"_limit must be between 1 and {settings.max_rows_per_page}.", parameter="_limit"
        )
    return SandboxLimits(
        timeout_seconds=settings.query_timeout_seconds,
        memory_limit=settings.query_memory_limit,
        threads=settings.duckdb_threads,
        max_rows=limit or settings.max_rows_per_page,
    )


def run_sql(hub: Hub, principal: Principal, q: str, *, limit: int | None = None) -> SqlResult:
    """Run one read-only SELECT (DuckDB dialect) over the datasets ``principal`` may see.

    Raises :class:`~datenschatz.errors.SqlError` (400) when the statement is refused,
    fails, or passes the time or memory limit; ``InputError`` (400) for a bad ``limit``.
    """
    limits = sql_limits(hub, limit)
    with hub.session() as session:
        tables = sql_tables(session, hub, principal)
    result = run_query(tables, q, limits)
    _count_partner_reads(hub, principal, q, tables, len(result.rows))
    return result


def _count_partner_reads(
    hub: Hub, principal: Principal, q: str, tables: dict[str, Path], rows: int
) -> None:
    """Count the query against the grants of the partner datasets it names (slug or alias)."""
    if not principal.partner_dataset_ids:
        return
    import duckdb

    from datenschatz.governance.grants import count_partner_read

    try:
        names = duckdb.get_table_names(q)
    except duckdb.Error:
        return
    slugs = {n if n in tables else n.replace("_", "-") for n in names}
    for slug in sorted(slugs & set(tables)):
        count_partner_read(hub, principal, slug, rows=rows)
