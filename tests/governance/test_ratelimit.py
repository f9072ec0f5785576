"""Rate limits per token and per client address (429 + Retry-After), and the request log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.api.ratelimit import RateLimiter
from datenschatz.config import Settings
from datenschatz.db.migrate import upgrade
from datenschatz.governance import accounts, tokens
from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _hub(tmp_path: Path, **limits: object) -> Hub:
    hub = Hub(
        Settings(
            data_dir=tmp_path / "data",
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **limits,  # type: ignore[arg-type]
        )
    )
    hub.store.ensure()
    upgrade(hub.engine)
    return hub


def _secret(hub: Hub, name: str) -> str:
    with hub.session() as session:
        accounts.create_user(session, name, role="partner", actor="t")
        return tokens.create_token(session, accounts.get_user(session, name), actor="t").secret


def test_a_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)  # one a second
    assert all(limiter.hit("k") == 0.0 for _ in range(60))
    wait = limiter.hit("k")
    assert wait == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.hit("k") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.hit("k") == 0.0
    assert limiter.hit("other") == 0.0  # keys are independent
    assert RateLimiter(0, clock).hit("k") == 0.0  # 0 switches it off


def test_anonymous_callers_get_429_with_retry_after_per_address(tmp_path: Path) -> None:
    client = TestClient(create_app(_hub(tmp_path, rate_limit_ip_per_minute=3)))
    assert [client.get("/health").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/api/v1/datasets")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert_error_shape(limited.json(), "rate_limited")
    assert limited.json()["error"]["details"]["retry_after"] == int(limited.headers["Retry-After"])


def test_each_token_has_its_own_budget(tmp_path: Path) -> None:
    hub = _hub(tmp_path, rate_limit_ip_per_minute=100, rate_limit_token_per_minute=2)
    first, second = _secret(hub, "anna"), _secret(hub, "bert")
    client = TestClient(create_app(hub))
    one = {"Authorization": f"Bearer {first}"}
    two = {"Authorization": f"Bearer {second}"}
    assert [client.get("/api/v1/me", headers=one).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/me", headers=two).status_code == 200
    assert client.get("/api/v1/me").status_code == 200  # the address budget is separate


def test_guessing_tokens_uses_up_the_address_budget(tmp_path: Path) -> None:
    client = TestClient(
        create_app(_hub(tmp_path, rate_limit_ip_per_minute=3, rate_limit_token_per_minute=100))
    )
    statuses = [
        client.get("/api/v1/me", headers={"Authorization": f"Bearer dsz_guess{i}"}).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(tmp_path: Path) -> None:
    trusting = TestClient(
        create_app(
            _hub(tmp_path / "a", rate_limit_ip_per_minute=1, rate_limit_trust_forwarded=True)
        )
    )
    assert trusting.get("/health", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    assert trusting.get("/health", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 200
    assert trusting.get("/health", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    plain = TestClient(create_app(_hub(tmp_path / "b", rate_limit_ip_per_minute=1)))
    assert plain.get("/health", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    assert plain.get("/health", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 429


def test_request_log_has_the_route_template_and_no_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = _hub(tmp_path)
    secret = _secret(hub, "anna")
    client = TestClient(create_app(hub))
    with caplog.at_level(logging.INFO, logger="datenschatz.requests"):
        client.get(
            "/api/v1/datasets/luft-herne/rows",
            params={"name__eq": "Erika Mustermann"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        client.get("/nirgendwo?email=erika@example.org")
    lines = [r.getMessage() for r in caplog.records if r.name == "datenschatz.requests"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /api/v1/datasets/{slug}/rows 404 ")
    assert "user:1" in lines[0]
    assert lines[1].startswith("GET (unmatched) 404 ")
    assert "anonymous" in lines[1]
    text = "\n".join(lines)
    for personal in (
        "Erika",
        "Mustermann",
        "erika@example.org",
        "luft-herne",
        "testclient",
        secret,
    ):
        assert personal not in text
