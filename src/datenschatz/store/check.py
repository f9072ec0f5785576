"""Verify the version store against the catalog: hashes, missing files, orphans."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.db.models import Dataset, Version
from datenschatz.store.versions import VersionStore, sha256_file


@dataclass
class StoreReport:
    checked: int = 0
    ok: int = 0
    corrupt: list[str] = field(default_factory=list)  # "slug vN: path" whose hash differs
    missing: list[str] = field(default_factory=list)  # catalog rows without a file
    orphans: list[str] = field(default_factory=list)  # files no catalog row points at
    partials: list[str] = field(default_factory=list)  # interrupted writes in tmp/

    @property
    def healthy(self) -> bool:
        return not (self.corrupt or self.missing)

    def to_dict(self) -> dict[str, object]:
        return {
            "healthy": self.healthy,
            "checked": self.checked,
            "ok": self.ok,
            "corrupt": self.corrupt,
            "missing": self.missing,
            "orphans": self.orphans,
            "partials": self.partials,
        }


def check_store(session: Session, store: VersionStore) -> StoreReport:
    report = StoreReport()
    known: set[str] = set()
    rows = session.execute(
        select(Version.path, Version.sha256, Version.number, Dataset.slug)
        .join(Dataset, Version.dataset_id == Dataset.id)
        .order_by(Dataset.slug, Version.number)
    )
    for relpath, sha, number, slug in rows:
        known.add(relpath)
        report.checked += 1
        label = f"{slug} v{number}: {relpath}"
        path = store.path(relpath)
        if not path.is_file():
            report.missing.append(label)
        elif sha256_file(path) != sha:
            report.corrupt.append(label)
        else:
            report.ok += 1
    report.orphans = [p for p in store.files() if p not in known]
    report.partials = [p.name for p in store.partials()]
    return report


def clean_store(store: VersionStore, report: StoreReport, min_age_seconds: float) -> list[str]:
    """Delete orphans and interrupted writes older than ``min_age_seconds``.

    The age guard protects a write in flight: its file is renamed into place a moment before
    its catalog row commits, and would look like an orphan in between.
    """
    now = time.time()
    removed = []
    candidates = [store.path(p) for p in report.orphans] + [store.tmp / p for p in report.partials]
    for path in candidates:
        try:
            if now - path.stat().st_mtime >= min_age_seconds:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:
            continue
    return removed
