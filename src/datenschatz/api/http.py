"""HTTP helpers: ETags for responses derived from immutable versions."""

from __future__ import annotations

import hashlib

from fastapi import Request


def etag_for(*parts: object) -> str:
    """A strong ETag from the parts that fully determine a response."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f'"{digest[:32]}"'


def matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates
