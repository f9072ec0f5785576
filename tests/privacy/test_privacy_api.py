"""REST: roles and reports for stewards only; a plain summary of published reports for all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from datenschatz.privacy import report as report_model
from datenschatz.privacy.gate import evaluate_version
from datenschatz.services.publish import publish
from tests.api.test_app import assert_error_shape
from tests.governance.release_builders import bearer, user
from tests.helpers import add_version

SQL = "SELECT range AS n, 'Wanne' AS bezirk, range * 1.5 AS kwh FROM range(10)"
BASE = "/api/v1/datasets/{}/privacy"


@pytest.fixture
def client(hub: Hub) -> TestClient:
    user(hub, "admin-anna", "admin")
    return TestClient(create_app(hub), raise_server_exceptions=False)


def test_steward_reads_proposals_and_confirms_them(hub: Hub, client: TestClient) -> None:
    add_version(hub, "bezirke", SQL, accept_proposed=False)
    auth = bearer(hub, "admin-anna")
    got = client.get(BASE.format("bezirke") + "/proposals", headers=auth)
    assert got.status_code == 200, got.text
    assert got.json()["proposals"] == {"n": "measure", "bezirk": "public_key", "kwh": "measure"}
    roles = client.get(BASE.format("bezirke") + "/roles", headers=auth).json()["columns"]
    assert {c["column"]: c["confirmed"] for c in roles} == {
        "n": False,
        "bezirk": False,
        "kwh": False,
    }
    put = client.put(
        BASE.format("bezirke") + "/roles",
        headers=auth,
        json={"accept_proposed": True, "roles": {"n": "public_key"}},
    )
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["passed"] is True
    assert {c["column"]: c["role"] for c in body["columns"]}["n"] == "public_key"

    report = client.get(BASE.format("bezirke") + "/report", headers=auth)
    assert report.status_code == 200
    report_model.validate(report.json())


def test_bad_roles_answer_400_in_the_one_error_shape(hub: Hub, client: TestClient) -> None:
    add_version(hub, "bezirke", SQL)
    auth = bearer(hub, "admin-anna")
    bodies: list[dict[str, Any]] = [
        {"roles": {"kwh": "geheim"}},
        {"roles": ["kwh"]},
        {},
        {"accept_proposed": "ja"},
        {"rollen": {}},
    ]
    for body in bodies:
        response = client.put(BASE.format("bezirke") + "/roles", headers=auth, json=body)
        assert response.status_code == 400, (body, response.text)
        assert_error_shape(response.json(), "invalid_input")


def test_roles_and_reports_are_not_for_anonymous_callers(hub: Hub, client: TestClient) -> None:
    add_version(hub, "bezirke", SQL)
    publish(hub, "bezirke", actor="test")
    for path in ("/roles", "/proposals", "/report"):
        response = client.get(BASE.format("bezirke") + path)
        assert response.status_code == 401, (path, response.text)
    put = client.put(BASE.format("bezirke") + "/roles", json={"accept_proposed": True})
    assert put.status_code == 401
    # A draft stays invisible: 404, not 401.
    add_version(hub, "entwurf", SQL)
    assert client.get(BASE.format("entwurf") + "/roles").status_code == 404


def test_published_summary_is_public_and_holds_no_row_numbers(hub: Hub, client: TestClient) -> None:
    add_version(hub, "bezirke", SQL)
    publish(hub, "bezirke", actor="test")
    response = client.get(BASE.format("bezirke") + "/summary")
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["passed"] is True
    assert summary["columns"] == [
        {"name": "n", "role": "measure"},
        {"name": "bezirk", "role": "public_key"},
        {"name": "kwh", "role": "measure"},
    ]
    assert "rows" not in json.dumps(summary)
    add_version(hub, "entwurf", SQL)
    assert client.get(BASE.format("entwurf") + "/summary").status_code == 404


def test_full_report_validates_against_the_shipped_schema_file(hub: Hub) -> None:
    shipped = json.loads(report_model.SCHEMA_FILE.read_text(encoding="utf-8"))
    assert shipped == report_model.json_schema(), "regenerate report.schema.json"
    add_version(hub, "kontakte", "SELECT 'a@example.org' AS mail, 1 AS n")
    report = evaluate_version(hub, "kontakte").report
    report_model.validate(report)
    assert report["columns"][0]["hits"][0]["rows"] == [1]
    assert "rows" not in json.dumps(report_model.without_rows(report)["columns"])
