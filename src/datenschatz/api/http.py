"""HTTP helpers: ETags for responses derived from immutable versions, links."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse


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


def cached_json(request: Request, data: Any, etag: str) -> Response:
    """``data`` as JSON with its ETag, or 304 when the client has it already."""
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60"}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(data, headers=headers)


def canonical_query(request: Request) -> str:
    """The query string in a stable order, for ETags."""
    return json.dumps(sorted(request.query_params.multi_items()))
