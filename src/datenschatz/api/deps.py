"""Request-scoped dependencies shared by every router: the hub and the principal."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from datenschatz.access.policy import ANONYMOUS, Principal
from datenschatz.hub import Hub


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def get_session(request: Request) -> Iterator[Session]:
    with get_hub(request).session() as session:
        yield session


async def get_principal(request: Request) -> Principal:
    """Who is asking. Authentication (tokens, sessions) plugs in here."""
    del request
    return ANONYMOUS
