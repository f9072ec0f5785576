"""Publishing a version: every automatic check must pass; nothing bypasses them.

The checks are a list of plain functions. Later capabilities (privacy gate, release
workflow) add theirs to :data:`CHECKS`; the CLI, API and web all publish through
:func:`publish`, so a new check holds on every path at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from datenschatz.catalog.datasets import VersionInfo, get_dataset, get_version
from datenschatz.db.models import Dataset, Version
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.store.versions import sha256_file


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool
    reason: str = ""


Check = Callable[[Hub, Dataset, Version], CheckResult]


def check_file_intact(hub: Hub, _dataset: Dataset, version: Version) -> CheckResult:
    path = hub.store.path(version.path)
    if not path.is_file():
        return CheckResult("store", False, "The version file is missing from the store.")
    if sha256_file(path) != version.sha256:
        return CheckResult("store", False, "The version file does not match its SHA-256.")
    return CheckResult("store", True)


def check_quality(_hub: Hub, _dataset: Dataset, version: Version) -> CheckResult:
    errors = version.quality.get("errors") or []
    if version.row_count <= 0:
        return CheckResult("quality", False, "The version has no rows.")
    if errors:
        return CheckResult("quality", False, "The quality report has errors: " + "; ".join(errors))
    return CheckResult("quality", True)


def check_metadata(_hub: Hub, dataset: Dataset, _version: Version) -> CheckResult:
    missing = [name for name in ("title",) if not getattr(dataset, name).strip()]
    if missing:
        return CheckResult("metadata", False, "Missing metadata: " + ", ".join(missing))
    return CheckResult("metadata", True)


def check_privacy(hub: Hub, dataset: Dataset, version: Version) -> CheckResult:
    """The privacy gate, evaluated afresh (its report stored) in the publishing session."""
    from sqlalchemy.orm import object_session

    from datenschatz.privacy.gate import evaluate, evaluate_version

    session = object_session(version)
    try:
        if session is None:
            verdict = evaluate_version(hub, dataset.slug, version.number)
        else:
            verdict = evaluate(hub, session, dataset, version)
    except duckdb.Error:
        return CheckResult("privacy", False, "Privacy gate: the version file cannot be scanned.")
    if not verdict.passed:
        return CheckResult("privacy", False, "Privacy gate: " + " ".join(verdict.reasons))
    return CheckResult("privacy", True)


def check_lineage(_hub: Hub, _dataset: Dataset, version: Version) -> CheckResult:
    """A derived version is never released more openly than its inputs allow."""
    from sqlalchemy.orm import object_session

    from datenschatz.analysis.lineage import access_cap
    from datenschatz.db.models import AccessLevel

    session = object_session(version)
    cap = access_cap(session, version) if session is not None else None
    if cap is AccessLevel.INTERNAL:
        return CheckResult(
            "lineage",
            False,
            "The version is derived from data that is not released (internal or unpublished); "
            "it cannot be released either.",
        )
    return CheckResult("lineage", True)


CHECKS: list[Check] = [
    check_file_intact,
    check_quality,
    check_metadata,
    check_privacy,
    check_lineage,
]


def run_checks(hub: Hub, dataset: Dataset, version: Version) -> list[CheckResult]:
    return [check(hub, dataset, version) for check in CHECKS]


def publish(hub: Hub, slug: str, version: int | None = None, *, actor: str) -> VersionInfo:
    """An admin's way through the release workflow: publish ``version`` (default: the newest).

    Creates a release request, runs every automatic check (recorded with the request), records
    ``actor`` as the deciding person for every decision the workflow needs, and moves the
    published pointer atomically. Raises CheckFailed, listing every failed check, and moves
    nothing when one fails (the returned request stays on record).
    """
    from datenschatz.access.policy import system_admin
    from datenschatz.db.governance_release_models import Question, ReleaseLevel
    from datenschatz.governance import releases

    admin = system_admin(actor)
    failure: CheckFailed | None = None
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        target = get_version(session, dataset, version)
        request, failure = releases.open_request(
            hub,
            session,
            admin,
            dataset,
            target,
            purpose="Published by an admin (datenschatz publish).",
            level=ReleaseLevel.PUBLIC,
            advisory=releases.ADMIN_ADVISORY,
        )
        if failure is None:
            for question in request.required:
                releases.record_decision(
                    session,
                    admin,
                    request,
                    Question(question),
                    approve=True,
                    reason="Decided by the admin who published.",
                    checklist={},
                )
            failure = releases.complete(hub, session, admin, request)
        if failure is None:
            session.flush()
            session.refresh(dataset)
            return VersionInfo.of(target)
    raise failure
