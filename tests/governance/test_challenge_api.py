"""Data challenges over the native REST API, with partner reads counted against the grant."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape
from tests.governance.release_builders import bearer, days, partner_dataset, published, user

CHALLENGE = {
    "slug": "klima",
    "title": "Klimadaten-Challenge",
    "question": "Where do solar roofs relieve the grid most?",
    "datasets": ["netz", "luft"],
    "criteria": [{"name": "impact", "weight": 2}, {"name": "feasibility", "weight": 1}],
    "terms": "Challenge use only.",
}


def test_the_programme_from_challenge_to_demo_day_over_http(hub: Hub) -> None:
    partner_dataset(hub, "netz", "SELECT range AS id, range * 2 AS kw FROM range(30)")
    partner_dataset(hub, "waerme")
    published(hub, "luft")
    for name, role, kw in (
        ("anna", "admin", {}),
        ("rita", "reviewer", {"reviewer_kind": "data_owner"}),
        ("tom", None, {}),
        ("tina", None, {}),
    ):
        user(hub, name, role, **kw)
    client = TestClient(create_app(hub))
    anna = bearer(hub, "anna", "read", "write", "admin")
    rita, tom = bearer(hub, "rita"), bearer(hub, "tom")

    body = {
        **CHALLENGE,
        "applications_close_at": days(10).isoformat(),
        "access_ends_at": days(60).isoformat(),
    }
    created = client.post("/api/v1/challenges", json=body, headers=anna)
    assert created.status_code == 201, created.text
    assert client.get("/api/v1/challenges/klima").status_code == 404  # a draft
    assert client.post("/api/v1/challenges/klima/publish", headers=anna).status_code == 200
    shown = client.get("/api/v1/challenges/klima").json()
    assert [d["slug"] for d in shown["datasets"]] == ["luft", "netz"]

    team = client.post(
        "/api/v1/teams", json={"name": "Sonnenkinder", "members": ["tina"]}, headers=tom
    )
    assert team.json()["members"] == ["tina", "tom"]
    applied = client.post(
        "/api/v1/challenges/klima/applications",
        json={
            "team": "Sonnenkinder",
            "proposal": "Roof planner",
            "data_needs": [{"dataset": "netz", "why": "capacity"}],
        },
        headers=tom,
    )
    assert applied.status_code == 201, applied.text
    app_id = applied.json()["id"]
    scored = client.post(
        f"/api/v1/applications/{app_id}/scores",
        json={"scores": {"impact": 9, "feasibility": 6}},
        headers=rita,
    )
    assert scored.json()["mean_score"] == 8.0
    qualified = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"qualify": True, "reason": "Clear plan."},
        headers=rita,
    ).json()
    grant_id = qualified["grant_id"]
    seen_by_team = client.get(f"/api/v1/applications/{app_id}", headers=tom).json()
    assert seen_by_team["decision_reason"] == "Clear plan."
    assert "scores" not in seen_by_team

    # Partner data only after the terms are accepted.
    assert client.get("/api/v1/datasets/netz/rows", headers=tom).status_code == 404
    accepted = client.post(f"/api/v1/grants/{grant_id}/accept", headers=bearer(hub, "tina"))
    assert accepted.json()["active"] is True
    tom = bearer(hub, "tom")
    page = client.get("/api/v1/datasets/netz/rows", params={"_limit": 10}, headers=tom)
    assert page.status_code == 200, page.text
    assert client.get("/api/v1/datasets/netz/download.csv", headers=tom).status_code == 200
    assert client.get("/api/v1/datasets/netz/rows").status_code == 404

    usage = client.get(f"/api/v1/grants/{grant_id}/usage", headers=rita).json()
    assert (usage["requests"], usage["downloads"], usage["rows"]) == (2, 1, 10)
    assert client.get(f"/api/v1/grants/{grant_id}/usage").status_code == 404

    extra = client.post(
        f"/api/v1/grants/{grant_id}/extra-datasets",
        json={"dataset": "waerme", "why": "heat demand"},
        headers=tom,
    )
    assert extra.status_code == 201, extra.text
    decided = client.post(
        f"/api/v1/extra-dataset-requests/{extra.json()['id']}/decision",
        json={"approve": False, "reason": "Not needed for the question."},
        headers=rita,
    )
    assert decided.json()["status"] == "rejected"

    submitted = client.post(
        "/api/v1/challenges/klima/submissions",
        json={
            "team": "Sonnenkinder",
            "title": "Dachplaner",
            "links": ["https://example.org/dachplaner"],
        },
        headers=tom,
    )
    assert submitted.status_code == 201, submitted.text
    assert (
        len(client.get("/api/v1/challenges/klima/submissions", headers=rita).json()["submissions"])
        == 1
    )

    revoked = client.post(
        f"/api/v1/grants/{grant_id}/revoke", json={"reason": "Programme ended."}, headers=anna
    )
    assert revoked.json()["active"] is False
    assert client.get("/api/v1/datasets/netz/rows", headers=bearer(hub, "tom")).status_code == 404


def test_challenge_routes_refuse_in_the_one_error_shape(sqlite_hub: Hub) -> None:
    partner_dataset(sqlite_hub, "netz")
    user(sqlite_hub, "tom")
    client = TestClient(create_app(sqlite_hub))
    body = {
        **CHALLENGE,
        "datasets": ["netz"],
        "applications_close_at": days(1).isoformat(),
        "access_ends_at": days(2).isoformat(),
    }
    anonymous = client.post("/api/v1/challenges", json=body)
    assert anonymous.status_code == 401
    assert_error_shape(anonymous.json(), "unauthorized")
    not_admin = client.post("/api/v1/challenges", json=body, headers=bearer(sqlite_hub, "tom"))
    assert not_admin.status_code == 403
    assert_error_shape(not_admin.json(), "forbidden")
    bad = client.post("/api/v1/teams", json={"name": ""}, headers=bearer(sqlite_hub, "tom"))
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["parameter"] == "name"
