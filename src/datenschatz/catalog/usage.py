"""How often each dataset's content is read: the counter behind the "most used" sort.

Reading rows, aggregates or a download calls :func:`record`, which only adds one to an
in-memory count. The counts are written to ``dataset_usage`` in one statement per dataset
when :data:`FLUSH_EVERY` reads have gathered or :data:`FLUSH_SECONDS` have passed, before a
search sorts by use, and at interpreter exit. A crash loses at most those few seconds of
counts, which a popularity order can afford.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections import Counter

from sqlalchemy import Engine, text

from datenschatz.db.models import utcnow

log = logging.getLogger(__name__)

FLUSH_EVERY = 100
FLUSH_SECONDS = 5.0

_UPSERT = text(
    "INSERT INTO dataset_usage (dataset_id, uses, last_used_at) "
    "SELECT id, :uses, :now FROM dataset WHERE slug = :slug "
    "ON CONFLICT (dataset_id) DO UPDATE SET uses = dataset_usage.uses + excluded.uses, "
    "last_used_at = excluded.last_used_at"
)


class _Buffer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[Engine, Counter[str]] = {}
        self.pending = 0
        self.since = time.monotonic()

    def add(self, engine: Engine, slug: str) -> bool:
        """Count one read; True when it is time to write the counts."""
        with self.lock:
            self.counts.setdefault(engine, Counter())[slug] += 1
            self.pending += 1
            return self.pending >= FLUSH_EVERY or time.monotonic() - self.since >= FLUSH_SECONDS

    def take(self, engine: Engine | None) -> dict[Engine, Counter[str]]:
        with self.lock:
            if engine is None:
                taken, self.counts = self.counts, {}
            else:
                found = self.counts.pop(engine, None)
                taken = {engine: found} if found else {}
            self.pending = sum(sum(c.values()) for c in self.counts.values())
            self.since = time.monotonic()
            return taken


_buffer = _Buffer()


def record(engine: Engine, slug: str) -> None:
    """Count one read of ``slug``'s content (cheap; written in batches)."""
    if _buffer.add(engine, slug):
        flush()


def flush(engine: Engine | None = None, *, quiet: bool = False) -> None:
    """Write the gathered counts (of ``engine``, or of every engine) to the database."""
    for target, counts in _buffer.take(engine).items():
        now = utcnow()
        try:
            with target.begin() as conn:
                conn.execute(
                    _UPSERT,
                    [{"slug": slug, "uses": n, "now": now} for slug, n in sorted(counts.items())],
                )
        except Exception:  # counting must never break a read
            if not quiet:
                log.warning("could not write usage counts", exc_info=True)


def _flush_at_exit() -> None:
    with contextlib.suppress(Exception):  # interpreter shutdown: databases may be gone
        flush(quiet=True)


atexit.register(_flush_at_exit)
