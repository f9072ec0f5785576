"""Stable fingerprints of requests over immutable versions (for ETags and caches)."""

from __future__ import annotations

import hashlib
import json


def fingerprint(*parts: object) -> str:
    """SHA-256 of the JSON of ``parts``: equal parts, equal fingerprint."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
