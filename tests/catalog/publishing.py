"""Catalog test builders: versions published directly, without the release checks.

The release checks (privacy gate, board) are tested where they live; catalog tests only need
datasets in a given state.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from datenschatz.access.policy import Principal, Role
from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.catalog.metadata import apply_metadata
from datenschatz.db.models import AccessLevel, DatasetStatus, Organization, utcnow
from datenschatz.hub import Hub
from tests.helpers import add_version

ADMIN = Principal(name="admin", user_id=1, roles=frozenset({Role.ADMIN}))

GEO_SQL = (
    "SELECT i AS id, 'Station ' || i AS name, DATE '2024-01-01' + i::INTEGER AS seit, "
    "ST_SetCRS(ST_Point(7.2 + i / 100, 51.5 + i / 100), 'EPSG:4326') AS geometry "
    "FROM range(3) t(i)"
)
TABLE_SQL = "SELECT i AS id, i * 1.5 AS wert FROM range(4) t(i)"


def publish_directly(hub: Hub, slug: str, *, access: AccessLevel = AccessLevel.PUBLIC) -> None:
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        version = get_version(session, dataset)
        version.published_at = utcnow()
        dataset.published_version_id = version.id
        dataset.status = DatasetStatus.PUBLISHED
        dataset.access_level = access


def make_dataset(
    hub: Hub,
    slug: str,
    sql: str = TABLE_SQL,
    *,
    org: str = "stadt-herne",
    meta: dict[str, Any] | None = None,
    access: AccessLevel | None = AccessLevel.PUBLIC,
) -> None:
    """A dataset with one version, its metadata, published at ``access`` (None: draft)."""
    add_version(hub, slug, sql, org=org)
    with hub.session() as session:
        if session.scalar(select(Organization).where(Organization.slug == org)) is None:
            raise AssertionError(org)
        apply_metadata(session, get_dataset(session, slug), meta or {}, actor="test")
    if access is not None:
        publish_directly(hub, slug, access=access)


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 (background thread); its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
