"""Small builders shared by tests (not fixtures)."""

from __future__ import annotations

from collections.abc import Mapping

from datenschatz.catalog.datasets import VersionInfo, get_dataset, get_version
from datenschatz.hub import Hub
from datenschatz.ingest.model import Staged
from datenschatz.ingest.pipeline import Source, commit_version


def confirm_roles(
    hub: Hub,
    slug: str,
    roles: Mapping[str, str] | None = None,
    *,
    number: int | None = None,
    accept_proposed: bool = True,
) -> None:
    """Confirm column roles of ``slug`` like a steward: the gate's proposals, then ``roles``."""
    from datenschatz.privacy.gate import evaluate
    from datenschatz.privacy.roles import accept_proposed as accept
    from datenschatz.privacy.roles import set_roles

    with hub.session() as session:
        dataset = get_dataset(session, slug)
        version = get_version(session, dataset, number)
        verdict = evaluate(hub, session, dataset, version)
        if accept_proposed:
            accept(session, dataset, [c["name"] for c in verdict.report["columns"]], actor="test")
        if roles:
            set_roles(session, dataset, roles, actor="test")


def add_version(
    hub: Hub,
    slug: str,
    select_sql: str,
    *,
    org: str | None = None,
    fmt: str = "sql",
    roles: Mapping[str, str] | None = None,
    accept_proposed: bool = True,
) -> VersionInfo:
    """Store the result of ``select_sql`` as the next version of ``slug``.

    Column roles are confirmed as a steward would (:func:`confirm_roles`): the gate's
    proposals unless ``accept_proposed`` is False, overridden by ``roles``.
    """
    info = _commit(hub, slug, select_sql, org=org, fmt=fmt)
    if accept_proposed or roles:
        confirm_roles(hub, slug, roles, number=info.number, accept_proposed=accept_proposed)
    return info


def _commit(hub: Hub, slug: str, select_sql: str, *, org: str | None, fmt: str) -> VersionInfo:
    con = hub.duckdb()
    try:
        staged = Staged(select_sql=select_sql, format=fmt)
        return commit_version(
            hub,
            con,
            staged,
            dataset=slug,
            source=Source("test.sql", 1, "0" * 64),
            org=org,
            actor="test",
        )
    finally:
        con.close()
