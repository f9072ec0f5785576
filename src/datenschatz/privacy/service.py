"""Privacy service functions for the CLI, the API and the web: roles, proposals, reports.

Every function asks ``access.policy`` first: roles, proposals and full reports are for those
who may edit the dataset (stewards, admins); the plain summary of a published version's report
is for anyone who may see the version. Full reports name columns, entity types and example
row numbers, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datenschatz.access.policy import Principal, ensure_can_edit, ensure_version
from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.errors import NotFound
from datenschatz.hub import Hub
from datenschatz.privacy import report as report_model
from datenschatz.privacy.detectors import scan_file
from datenschatz.privacy.gate import Verdict, evaluate, proposals_for, stored_report
from datenschatz.privacy.roles import accept_proposed, set_roles


def column_roles(
    hub: Hub, principal: Principal, slug: str, number: int | None = None
) -> list[dict[str, Any]]:
    """Role, confirmation and proposal of every column of version ``number`` (default newest).

    Evaluates the version first, so proposals exist for every column.
    """
    with hub.session() as session:
        dataset = ensure_can_edit(session, principal, slug)
        version = get_version(session, dataset, number)
        verdict = evaluate(hub, session, dataset, version)
        return [
            {
                "column": c["name"],
                "type": c["type"],
                "role": c["role"],
                "confirmed": c["confirmed"],
                "proposed_role": c["proposed_role"],
                "proposal_reason": c["proposal_reason"],
                "entities": sorted(h["entity"] for h in c["hits"]),
            }
            for c in verdict.report["columns"]
        ]


def update_roles(
    hub: Hub,
    principal: Principal,
    slug: str,
    roles: Mapping[str, str] | None = None,
    *,
    accept: bool = False,
    number: int | None = None,
) -> Verdict:
    """Confirm the proposals (``accept``) and/or set ``roles``; returns the new verdict.

    Roles given explicitly win over proposals. Nothing changes when a role is invalid.
    """
    with hub.session() as session:
        dataset = ensure_can_edit(session, principal, slug)
        version = get_version(session, dataset, number)
        if accept:
            verdict = evaluate(hub, session, dataset, version)
            columns = [c["name"] for c in verdict.report["columns"]]
            accept_proposed(session, dataset, columns, actor=principal.name)
        if roles:
            set_roles(session, dataset, roles, actor=principal.name)
        return evaluate(hub, session, dataset, version)


def privacy_report(
    hub: Hub, principal: Principal, slug: str, number: int | None = None
) -> dict[str, Any]:
    """The full report of a version, evaluated afresh (stewards and admins)."""
    with hub.session() as session:
        dataset = ensure_can_edit(session, principal, slug)
        version = get_version(session, dataset, number)
        return evaluate(hub, session, dataset, version).report


def public_report(
    hub: Hub, principal: Principal, slug: str, number: int | None = None
) -> dict[str, Any]:
    """The plain summary of the report of a version the caller may read (no row numbers)."""
    with hub.session() as session:
        version = ensure_version(session, principal, slug, number)
        stored = stored_report(session, version)
        if stored is None:
            raise NotFound(
                "This version has no privacy report yet.", key="privacy.no_report", dataset=slug
            )
        return report_model.public_summary(stored)


def scan_path(hub: Hub, path: Path) -> dict[str, Any]:
    """Detector findings and proposed roles for a file that is not (yet) a version."""
    table = scan_file(hub, path)
    proposals = proposals_for(table)
    return {
        "file": path.name,
        "rows": table.rows,
        "columns": [
            {
                **c.to_dict(),
                "proposed_role": proposals[c.name].role.value,
                "proposal_reason": proposals[c.name].reason,
            }
            for c in table.columns
        ],
    }


def confirm_roles_as(
    hub: Hub, slug: str, roles: Mapping[str, str], *, actor: str, accept: bool = True
) -> Verdict:
    """Accept proposals and set ``roles`` for a trusted caller (demo loader, recipes)."""
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        version = get_version(session, dataset, None)
        verdict = evaluate(hub, session, dataset, version)
        if accept:
            columns = [c["name"] for c in verdict.report["columns"]]
            accept_proposed(session, dataset, columns, actor=actor)
        if roles:
            set_roles(session, dataset, roles, actor=actor)
        if accept or roles:
            verdict = evaluate(hub, session, dataset, version)
        return verdict


__all__ = [
    "column_roles",
    "confirm_roles_as",
    "privacy_report",
    "public_report",
    "scan_path",
    "update_roles",
]
