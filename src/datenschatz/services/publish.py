"""Publishing a version: every automatic check must pass; nothing bypasses them.

The checks are a list of plain functions. Later capabilities (privacy gate, release
workflow) add theirs to :data:`CHECKS`; the CLI, API and web all publish through
:func:`publish`, so a new check holds on every path at once.

A failed check's reason is English, made with :func:`datenschatz.coded.coded`: it carries a
stable code per sentence, which the release workflow stores beside it (``reason_codes``) and
the web UI shows in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from datenschatz.catalog.datasets import VersionInfo, get_dataset, get_version
from datenschatz.coded import coded, joined
from datenschatz.db.models import Dataset, Version
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.store.versions import sha256_file

# What an admin's direct publish records as the request's purpose and as each decision's reason
# (pages recognise these texts and show them in their language).
ADMIN_PURPOSE = "Published by an admin (datenschatz publish)."
ADMIN_DECISION = "Decided by the admin who published."


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool
    reason: str = ""  # English; coded (datenschatz.coded) where the check failed


Check = Callable[[Hub, Dataset, Version], CheckResult]


def check_file_intact(hub: Hub, _dataset: Dataset, version: Version) -> CheckResult:
    path = hub.store.path(version.path)
    if not path.is_file():
        return CheckResult(
            "store", False, coded("The version file is missing from the store.", "store_missing")
        )
    if sha256_file(path) != version.sha256:
        return CheckResult(
            "store",
            False,
            coded("The version file does not match its SHA-256.", "store_hash_mismatch"),
        )
    return CheckResult("store", True)


def check_quality(_hub: Hub, _dataset: Dataset, version: Version) -> CheckResult:
    errors = version.quality.get("errors") or []
    if version.row_count <= 0:
        return CheckResult("quality", False, coded("The version has no rows.", "no_rows"))
    if errors:
        text = "The quality report has errors: " + "; ".join(errors)
        return CheckResult(
            "quality", False, coded(text, "quality_errors", errors="; ".join(errors))
        )
    return CheckResult("quality", True)


def check_metadata(_hub: Hub, dataset: Dataset, _version: Version) -> CheckResult:
    missing = [name for name in ("title",) if not getattr(dataset, name).strip()]
    if missing:
        text = "Missing metadata: " + ", ".join(missing)
        return CheckResult("metadata", False, coded(text, "metadata_missing", fields=missing))
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
        return CheckResult(
            "privacy",
            False,
            coded("Privacy gate: the version file cannot be scanned.", "privacy_unscannable"),
        )
    if not verdict.passed:
        lead = coded("Privacy gate:", "privacy_refused", count=len(verdict.reasons))
        return CheckResult("privacy", False, joined(" ", [lead, *verdict.reasons]))
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
            coded(
                "The version is derived from data that is not released (internal or "
                "unpublished); it cannot be released either.",
                "lineage_internal",
            ),
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
            purpose=ADMIN_PURPOSE,
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
                    reason=ADMIN_DECISION,
                    checklist={},
                )
            failure = releases.complete(hub, session, admin, request)
        if failure is None:
            session.flush()
            session.refresh(dataset)
            return VersionInfo.of(target)
    raise failure
