"""GET /api/v1/datasets/{slug}/aggregate through HTTP, on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

from collections import Counter
from statistics import mean

import pytest
from fastapi.testclient import TestClient

from datenschatz.hub import Hub
from tests.api.test_app import assert_error_shape
from tests.query.builders import BACKENDS, client_for, luft_rows, module_hub

AGGREGATE = "/api/v1/datasets/luft/aggregate"


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    return module_hub(request, tmp_path_factory)


@pytest.fixture
def client(hub: Hub) -> TestClient:
    return client_for(hub)


def test_groups_with_metrics_and_filters(client: TestClient) -> None:
    response = client.get(
        AGGREGATE,
        params={
            "group_by": "ort",
            "metrics": "count,count:pm10,avg:pm10,max:pm10",
            "gerade": "true",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "dataset",
        "version",
        "group_by",
        "metrics",
        "columns",
        "truncated",
        "rows",
    ]
    assert body["group_by"] == ["ort"]
    assert body["metrics"] == ["count", "count:pm10", "avg:pm10", "max:pm10"]
    assert body["columns"][3] == {"name": "avg:pm10", "type": "number"}
    assert body["truncated"] is False
    data = [r for r in luft_rows() if r["gerade"]]
    expected = []
    for ort in sorted({str(r["ort"]) for r in data}):
        values = [float(r["pm10"]) for r in data if r["ort"] == ort and r["pm10"] is not None]
        expected.append(
            {
                "ort": ort,
                "count": sum(1 for r in data if r["ort"] == ort),
                "count:pm10": len(values),
                "avg:pm10": pytest.approx(mean(values)),
                "max:pm10": max(values),
            }
        )
    assert body["rows"] == expected


def test_time_buckets_sorted_by_a_metric(client: TestClient) -> None:
    body = client.get(
        AGGREGATE,
        params={"group_by": "zeit:week", "metrics": "count", "_sort_desc": "count", "_limit": "2"},
    ).json()
    assert body["truncated"] is True
    assert body["rows"] == [
        {"zeit:week": "2024-01-01T00:00:00", "count": 168},
        {"zeit:week": "2024-01-08T00:00:00", "count": 168},
    ]
    days = client.get(AGGREGATE, params={"group_by": "tag:month,station"}).json()
    counts = Counter(
        (r["tag:month"], r["station"]) for r in days["rows"] for _ in range(r["count"])
    )
    assert sum(counts.values()) == 1000
    assert days["rows"][0] == {"tag:month": "2024-01-01", "station": 0, "count": 107}


def test_percentiles_and_distinct_counts(client: TestClient) -> None:
    body = client.get(
        AGGREGATE, params={"metrics": "p90:pm10,median:station,count_distinct:ort"}
    ).json()
    [row] = body["rows"]
    assert row["count_distinct:ort"] == 3
    assert row["median:station"] == 3.0
    values = sorted(float(r["pm10"]) for r in luft_rows() if r["pm10"] is not None)
    position = 0.9 * (len(values) - 1)
    low = values[int(position)]
    high = values[int(position) + 1]
    assert row["p90:pm10"] == pytest.approx(low + (high - low) * (position - int(position)))


def test_aggregates_have_etags_and_answer_304(client: TestClient) -> None:
    first = client.get(AGGREGATE, params={"group_by": "ort"})
    etag = first.headers["etag"]
    again = client.get(AGGREGATE, params={"group_by": "ort"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get(AGGREGATE, params={"group_by": "station"})
    assert other.headers["etag"] != etag


def test_aggregate_mistakes_are_400s_naming_the_parameter(client: TestClient) -> None:
    cases = [
        ({"metrics": "avg:ort"}, "metrics"),
        ({"metrics": "sum:zeit"}, "metrics"),
        ({"metrics": "mittel:pm10"}, "metrics"),
        ({"group_by": "ort:day"}, "group_by"),
        ({"group_by": "zeit:quartal"}, "group_by"),
        ({"group_by": "gibtsnicht"}, "group_by"),
        ({"_sort": "pm10"}, "_sort"),
        ({"_limit": "10001"}, "_limit"),
        ({"pm10__gt": "x"}, "pm10__gt"),
        ({"bbox": "1,2"}, "bbox"),
    ]
    for params, parameter in cases:
        response = client.get(AGGREGATE, params=params)
        assert response.status_code == 400, (params, response.text)
        assert_error_shape(response.json(), "invalid_input")
        assert response.json()["error"]["details"]["parameter"] == parameter
    assert client.get("/api/v1/datasets/entwurf/aggregate").status_code == 404


def test_openapi_documents_the_aggregate(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/datasets/{slug}/aggregate"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"group_by", "metrics", "version", "_sort", "_sort_desc", "_limit"} <= names
    assert "p90" in operation["description"]
