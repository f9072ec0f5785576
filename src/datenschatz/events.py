"""A process-wide catalog generation: bumped whenever catalog content changes here.

Read-side caches remember the generation they were filled at and drop entries when it moved,
so a publish or a new version is visible at once in the process that made it. Other
processes rely on the caches' short time-to-live.
"""

from __future__ import annotations

import itertools
import threading

_counter = itertools.count(1)
_lock = threading.Lock()
_generation = 0


def catalog_changed() -> None:
    """Call after committing any change to datasets, versions or their metadata."""
    global _generation
    with _lock:
        _generation = next(_counter)


def generation() -> int:
    return _generation
