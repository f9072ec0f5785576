"""Fixtures of the web UI tests: the catalog of builders.py on SQLite (and PostgreSQL), the
app, the app served by uvicorn on 127.0.0.1, and Debian's Chromium driven by Playwright for
the browser tests (skipped with the reason when /usr/bin/chromium is missing; under CI=true
that is a failure)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from tests.conftest import IN_CI, REPO, make_hub
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


CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing("Chromium is not installed at /usr/bin/chromium (make browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        _missing("the playwright package is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_url: str) -> Iterator[Any]:
    """A fresh page; afterwards, every request it made must have gone to the test server."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    requested: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    server = urlsplit(live_url).netloc
    outside = [
        u
        for u in requested
        if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != server
    ]
    assert requested, "the page made no request at all"
    assert outside == [], f"requests left {server}: {outside}"
    assert errors == [], f"script errors: {errors}"


def shot(tab: Any, name: str) -> None:
    """Save a full-page screenshot of ``tab`` as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
