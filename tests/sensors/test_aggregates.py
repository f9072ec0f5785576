"""Hourly and daily aggregates, PM10 exceedance days, the native API, and a datastream
published as an ordinary dataset version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from datenschatz.access.policy import ANONYMOUS
from datenschatz.api.app import create_app
from datenschatz.cli import app as cli_app
from datenschatz.db.models import Dataset, Version
from datenschatz.db.sensor_models import StaDatastream
from datenschatz.errors import InputError, NotFound
from datenschatz.hub import Hub
from datenschatz.sensors import aggregates, service
from datenschatz.sensors.export import publish_datastream
from tests.helpers import add_version
from tests.sensors.test_mqtt_bridge import make_datastream

DAY1 = datetime(2024, 3, 1, tzinfo=UTC)


def _rows(
    start: datetime, hours: int, value: float, every_minutes: int = 10
) -> list[dict[str, Any]]:
    rows = []
    for step in range(hours * 60 // every_minutes):
        moment = start + timedelta(minutes=every_minutes * step)
        rows.append({"phenomenonTime": moment, "result": value + (step % 2), "dedup_key": None})
    return rows


@pytest.fixture
def pm10(hub: Hub) -> int:
    """Three days: 1 March over the limit all day, 2 March over it but only 10 hours measured,
    3 March below it. Values alternate between v and v + 1."""
    ds = make_datastream(hub)
    rows = (
        _rows(DAY1, 24, 60.0)
        + _rows(DAY1 + timedelta(days=1, hours=6), 10, 80.0)
        + _rows(DAY1 + timedelta(days=2), 24, 30.0)
    )
    with hub.session() as session:
        service.insert_observations_bulk(session, ds, rows)
    return ds


def test_hourly_buckets(hub: Hub, pm10: int) -> None:
    with hub.session() as session:
        buckets = aggregates.aggregate(
            session, ANONYMOUS, pm10, "hour", start=DAY1, end=DAY1 + timedelta(hours=3)
        )
    assert [b.start for b in buckets] == [DAY1 + timedelta(hours=h) for h in range(3)]
    assert [(b.count, b.mean, b.min, b.max) for b in buckets] == [(6, 60.5, 60.0, 61.0)] * 3
    assert buckets[0].to_dict()["start"] == "2024-03-01T00:00:00Z"


def test_daily_buckets_over_the_whole_range(hub: Hub, pm10: int) -> None:
    with hub.session() as session:
        days = aggregates.aggregate(session, ANONYMOUS, pm10, "day")
    assert [(b.start.date().isoformat(), b.count, b.mean) for b in days] == [
        ("2024-03-01", 144, 60.5),
        ("2024-03-02", 60, 80.5),
        ("2024-03-03", 144, 30.5),
    ]


def test_exceedances_count_only_days_with_enough_hours(hub: Hub, pm10: int) -> None:
    with hub.session() as session:
        result = aggregates.exceedances(session, ANONYMOUS, pm10).to_dict()
    assert result["days_over_limit"] == 1
    assert result["days_over_limit_by_year"] == {"2024": 1}
    assert result["valid_days"] == 2
    assert [(d["day"], d["valid"], d["exceeds"], d["hours"]) for d in result["days"]] == [
        ("2024-03-01", True, True, 24),
        ("2024-03-02", False, True, 10),
        ("2024-03-03", True, False, 24),
    ]
    with hub.session() as session:
        stricter = aggregates.exceedances(session, ANONYMOUS, pm10, limit=25.0)
    assert stricter.days_over_limit == 2


def test_bad_interval_range_and_unit(hub: Hub, pm10: int) -> None:
    with hub.session() as session, pytest.raises(InputError) as caught:
        aggregates.aggregate(session, ANONYMOUS, pm10, "week")
    assert caught.value.details["parameter"] == "interval"
    with hub.session() as session, pytest.raises(InputError, match="before"):
        aggregates.aggregate(session, ANONYMOUS, pm10, "day", start=DAY1, end=DAY1)
    with hub.session() as session:
        session.execute(
            update(StaDatastream)
            .where(StaDatastream.id == pm10)
            .values(unit_of_measurement={"name": "degree Celsius", "symbol": "°C"})
        )
    with hub.session() as session, pytest.raises(InputError, match="µg/m³"):
        aggregates.exceedances(session, ANONYMOUS, pm10)


def test_a_datastream_of_an_unpublished_dataset_looks_absent(hub: Hub, pm10: int) -> None:
    add_version(hub, "luft-intern", "SELECT 1 AS id")
    with hub.session() as session:
        dataset_id = session.scalars(select(Dataset.id).where(Dataset.slug == "luft-intern")).one()
        session.execute(
            update(StaDatastream).where(StaDatastream.id == pm10).values(dataset_id=dataset_id)
        )
    with hub.session() as session, pytest.raises(NotFound):
        aggregates.aggregate(session, ANONYMOUS, pm10, "day")


def test_native_api(hub: Hub, pm10: int) -> None:
    client = TestClient(create_app(hub))
    base = f"/api/v1/sensors/datastreams/{pm10}"
    hourly = client.get(
        f"{base}/aggregate",
        params={"interval": "hour", "from": "2024-03-02T06:00:00Z", "to": "2024-03-02T08:00"},
    )
    assert hourly.status_code == 200, hourly.text
    body = hourly.json()
    assert [b["start"] for b in body["buckets"]] == ["2024-03-02T06:00:00Z", "2024-03-02T07:00:00Z"]
    assert body["buckets"][0]["mean"] == 80.5
    over = client.get(f"{base}/exceedances", params={"from": "2024-03-01", "to": "2024-04-01"})
    assert over.status_code == 200
    assert over.json()["days_over_limit"] == 1

    for params, parameter in (
        ({"interval": "minute"}, "interval"),
        ({"from": "gestern"}, "from"),
        ({"to": "2024-13-01"}, "to"),
    ):
        bad = client.get(f"{base}/aggregate", params=params)
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"]["details"]["parameter"] == parameter
    assert client.get("/api/v1/sensors/datastreams/999999/aggregate").status_code == 404
    assert client.get("/api/v1/sensors/datastreams/abc/exceedances").status_code == 400


def test_publish_a_datastream_as_a_dataset_version(hub: Hub, pm10: int) -> None:
    info = publish_datastream(hub, pm10, "pm10-herne", actor="test")
    assert info.rows == 144 + 60 + 144
    assert info.dataset == "pm10-herne"
    names = [f["name"] for f in info.table_schema["fields"]]
    assert names == [
        "observation_id",
        "phenomenon_time",
        "phenomenon_time_end",
        "result_time",
        "result",
    ]
    with hub.session() as session:
        relpath = session.scalars(
            select(Version.path)
            .join(Dataset, Dataset.id == Version.dataset_id)
            .where(Dataset.slug == "pm10-herne", Version.number == info.number)
        ).one()
    con = hub.duckdb(spatial=False)
    try:
        path = hub.store.path(relpath)
        first, mean = con.execute(
            f"SELECT epoch(min(phenomenon_time)), avg(result) FROM read_parquet('{path}')"
        ).fetchone() or (None, None)
    finally:
        con.close()
    assert first == DAY1.timestamp()
    assert mean == pytest.approx((144 * 60.5 + 60 * 80.5 + 144 * 30.5) / 348)
    again = publish_datastream(hub, pm10, "pm10-herne", actor="test")
    assert again.number == info.number + 1
    with pytest.raises(NotFound):
        publish_datastream(hub, 999999, "pm10-herne", actor="test")


def test_cli_publish(hub: Hub, pm10: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(hub.settings.resolved_data_dir))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", hub.settings.resolved_database_url)
    result = CliRunner().invoke(
        cli_app, ["sensors", "publish", str(pm10), "--slug", "pm10-cli", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 348
