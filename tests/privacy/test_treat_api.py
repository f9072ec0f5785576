"""POST /api/v1/datasets/{slug}/treatments: stewards only, errors in the one JSON shape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from tests.governance.release_builders import bearer, user
from tests.helpers import add_version

RAW = (
    "SELECT 'H' || i AS haushalt, CASE WHEN i % 2 = 0 THEN 'Wanne' ELSE 'Eickel' END AS bezirk, "
    "100.0 + i AS kwh FROM range(40) t(i)"
)
SPEC = {
    "treatments": [
        {"aggregate": {"group_by": ["bezirk"], "contributor": "haushalt", "sum": ["kwh"]}}
    ]
}


def test_a_steward_applies_treatments_over_the_api(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    add_version(hub, "verbrauch", RAW)
    user(hub, "anna", "steward", org="stadt")
    client = TestClient(create_app(hub), raise_server_exceptions=False)
    url = "/api/v1/datasets/verbrauch/treatments"

    anonymous = client.post(url, json=SPEC)
    assert anonymous.status_code == 404  # a draft is invisible to the anonymous caller
    assert anonymous.json()["error"]["code"] == "not_found"

    headers = bearer(hub, "anna")
    bad = client.post(url, json={"treatments": [{"drop": ["nope"]}]}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["column"] == "nope"
    assert "Treatment 1 (drop)" in bad.json()["error"]["message"]

    done = client.post(url, params={"version": 1}, json=SPEC, headers=headers)
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["version"] == 2
    assert body["treatment"]["raw_version"] == 1
    assert body["treatment"]["smallest_group"] == 20
    assert body["columns"] == [
        "bezirk",
        "contributor_count",
        "kwh_sum",
    ]
