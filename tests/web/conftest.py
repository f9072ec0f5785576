"""Fixtures of the web UI tests: the catalog of builders.py on SQLite (and PostgreSQL), the
app, and the app served by uvicorn on 127.0.0.1 for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from tests.conftest import make_hub
from tests.query.builders import BACKENDS, clean_postgres
from tests.web.builders import build


@pytest.fixture(scope="module", params=BACKENDS)
def web_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    directory = tmp_path_factory.mktemp("web")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        clean_postgres(url)
    return build(make_hub(directory / "data", url))


@pytest.fixture(scope="module")
def client(web_hub: Hub) -> TestClient:
    return TestClient(create_app(web_hub), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def sqlite_web_hub(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    directory = tmp_path_factory.mktemp("web-browser")
    return build(make_hub(directory / "data", f"sqlite:///{directory / 'datenschatz.sqlite3'}"))


def _serve(hub: Hub) -> Iterator[str]:
    """The app on ``hub`` served by uvicorn on a free port of 127.0.0.1 (background thread)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(hub), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def live_url(sqlite_web_hub: Hub) -> Iterator[str]:
    yield from _serve(sqlite_web_hub)
