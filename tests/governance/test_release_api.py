"""The release workflow and withdrawal over the native REST API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape
from tests.governance.release_builders import CHECKLIST, bearer, board, draft, user


def test_request_decide_and_publish_over_http(hub: Hub) -> None:
    draft(hub, "solar")
    user(hub, "stella", "steward", org="stadt")
    board(hub)
    client = TestClient(create_app(hub))
    steward = bearer(hub, "stella")
    assert client.get("/api/v1/datasets/solar").status_code == 404

    response = client.post(
        "/api/v1/releases",
        json={"dataset": "solar", "purpose": "Solar start-ups", "level": "public"},
        headers=steward,
    )
    assert response.status_code == 201, response.text
    release = response.json()
    assert release["status"] == "pending"
    assert release["checks_passed"] is True
    rid = release["id"]

    # The board sees the draft under review.
    assert client.get("/api/v1/datasets/solar", headers=bearer(hub, "dpo")).status_code == 200
    for name, question in (("dpo", "technical"), ("owner", "political")):
        answer = client.post(
            f"/api/v1/releases/{rid}/decisions",
            json={"question": question, "approve": True},
            headers=bearer(hub, name),
        )
        assert answer.status_code == 200, answer.text
    missing = client.post(
        f"/api/v1/releases/{rid}/decisions",
        json={"question": "ethical", "approve": True},
        headers=bearer(hub, "ethics"),
    )
    assert missing.status_code == 400
    assert_error_shape(missing.json(), "invalid_input")
    done = client.post(
        f"/api/v1/releases/{rid}/decisions",
        json={"question": "ethical", "approve": True, "checklist": CHECKLIST},
        headers=bearer(hub, "ethics"),
    )
    assert done.json()["status"] == "approved"
    assert client.get("/api/v1/datasets/solar").json()["published_version"] == 1
    status = client.get(f"/api/v1/releases/{rid}", headers=steward).json()
    assert [d["decided_by"] for d in status["decisions"]] == ["dpo", "owner", "ethics"]
    listed = client.get("/api/v1/releases", params={"dataset": "solar"}, headers=steward)
    assert [r["id"] for r in listed.json()["releases"]] == [rid]


def test_release_routes_refuse_in_the_one_error_shape(sqlite_hub: Hub) -> None:
    draft(sqlite_hub, "solar")
    user(sqlite_hub, "stella", "steward", org="stadt")
    user(sqlite_hub, "pia")
    client = TestClient(create_app(sqlite_hub))
    body = {"dataset": "solar", "purpose": "p", "level": "public"}
    anonymous = client.post("/api/v1/releases", json=body)
    assert anonymous.status_code == 404  # a draft does not reveal that it exists
    assert_error_shape(anonymous.json(), "not_found")
    hidden = client.post("/api/v1/releases", json=body, headers=bearer(sqlite_hub, "pia"))
    assert hidden.status_code == 404
    read_only = client.post(
        "/api/v1/releases", json=body, headers=bearer(sqlite_hub, "stella", "read")
    )
    assert read_only.status_code == 403
    steward = bearer(sqlite_hub, "stella")
    rid = client.post("/api/v1/releases", json=body, headers=steward).json()["id"]
    own = client.post(
        f"/api/v1/releases/{rid}/decisions",
        json={"question": "technical", "approve": True},
        headers=steward,
    )
    assert own.status_code == 403
    assert client.get(f"/api/v1/releases/{rid}", headers=bearer(sqlite_hub, "pia")).status_code == (
        404
    )
    cancelled = client.post(f"/api/v1/releases/{rid}/cancel", json={"reason": "x"}, headers=steward)
    assert cancelled.json()["status"] == "cancelled"


def test_withdraw_over_http_answers_410_afterwards(sqlite_hub: Hub) -> None:
    from tests.governance.release_builders import published

    published(sqlite_hub, "luft")
    user(sqlite_hub, "stella", "steward", org="stadt")
    client = TestClient(create_app(sqlite_hub))
    response = client.post(
        "/api/v1/datasets/luft/withdraw",
        json={"reason": "Sensor drift."},
        headers=bearer(sqlite_hub, "stella"),
    )
    assert response.status_code == 200, response.text
    gone = client.get("/api/v1/datasets/luft/download.csv")
    assert gone.status_code == 410
    assert gone.json()["error"]["details"]["reason"] == "Sensor drift."
    again = client.post(
        "/api/v1/datasets/luft/withdraw",
        json={"reason": "twice"},
        headers=bearer(sqlite_hub, "stella"),
    )
    assert again.status_code == 409
