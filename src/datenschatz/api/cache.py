"""A small response cache for hot read endpoints (dataset metadata).

Entries live at most ``ttl`` seconds and are dropped as soon as the catalog generation of this
process moves (:mod:`datenschatz.events`). Keys must include everything the response depends
on, the principal's visibility first: the cache never decides access, it only remembers
answers the access policy already gave.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from datenschatz import events


@dataclass(frozen=True)
class Entry:
    etag: str
    body: bytes
    generation: int
    expires: float


class ResponseCache:
    def __init__(self, ttl: float, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Entry | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.generation != events.generation() or entry.expires < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, ...], etag: str, body: bytes, generation: int) -> None:
        """Remember ``body``; ``generation`` is the one read *before* the answer was built."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = Entry(etag, body, generation, time.monotonic() + self.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
