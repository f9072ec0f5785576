"""Measures end to end: record one, evaluate it from a published dataset, read it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datenschatz.access.policy import ANONYMOUS, Principal, Role
from datenschatz.analysis.measures import (
    create_measure,
    evaluate_measure,
    evaluations,
    parse_spec,
)
from datenschatz.api.app import create_app
from datenschatz.cli import app as cli_app
from datenschatz.errors import Conflict, InputError, Unauthorized
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.helpers import add_version

STEWARD = Principal(name="steward", user_id=1, roles=frozenset({Role.STEWARD}))
EFFECT = -6.0

# A year of daily PM10 at four stations: a shared seasonal and "weather" signal, station
# offsets, pseudo-random noise, and a drop of 6 µg/m³ at the treated stations from April 2024.
PM10_SQL = f"""
SELECT station, day::DATE AS tag, round(
    30 + 6 * cos(2 * pi() * dayofyear(day) / 365.25)
    + 4 * sin(epoch(day) / 86400 / 3.0)
    + CASE station WHEN 'HER1' THEN 2 WHEN 'HER2' THEN -1 WHEN 'DOR1' THEN 1 ELSE 0 END
    + ((hash(station || day::VARCHAR) % 1000) / 1000.0 - 0.5) * 6
    + CASE WHEN station LIKE 'HER%' AND day >= DATE '2024-04-01' THEN {EFFECT} ELSE 0 END, 2)
    AS pm10
FROM range(DATE '2023-10-01', DATE '2024-10-01', INTERVAL 1 DAY) AS t(day),
     (VALUES ('HER1'), ('HER2'), ('DOR1'), ('DOR2')) AS s(station)
"""

SPEC: dict[str, Any] = {
    "name": "tempo30-bahnhofstrasse",
    "title": "Tempo 30 Bahnhofstraße",
    "indicator": {"dataset": "pm10-stationen", "time": "tag", "value": "pm10", "group": "station"},
    "treated": ["HER1", "HER2"],
    "control": ["DOR1", "DOR2"],
    "start": "2024-04-01",
    "unit": "µg/m³",
}


@pytest.fixture
def measured(hub: Hub) -> Hub:
    add_version(hub, "pm10-stationen", PM10_SQL)
    publish(hub, "pm10-stationen", actor="test")
    with hub.session() as session:
        create_measure(session, STEWARD, parse_spec(SPEC))
    return hub


def test_evaluation_finds_the_injected_effect_and_stores_its_inputs(measured: Hub) -> None:
    result = evaluate_measure(measured, STEWARD, "tempo30-bahnhofstrasse")
    did = result["did"]
    assert did["ci_low"] <= EFFECT <= did["ci_high"]
    assert did["ci_high"] < 0
    assert did["unit"] == "µg/m³"
    assert result["direction_as_expected"] is True
    assert result["placebo"]["ci_low"] <= 0 <= result["placebo"]["ci_high"]
    assert result["inputs"]["dataset"] == "pm10-stationen"
    assert result["inputs"]["version"] == 1
    assert len(result["inputs"]["sha256"]) == 64
    with measured.session() as session:
        stored = evaluations(session, "tempo30-bahnhofstrasse")
    assert [e["evaluation_id"] for e in stored] == [result["evaluation_id"]]
    assert stored[0]["did"] == did


def test_bad_measures_are_refused_with_the_field_named(measured: Hub) -> None:
    with pytest.raises(InputError) as caught:
        parse_spec({**SPEC, "control": ["HER1"]})
    assert "treated and control" in caught.value.message
    with pytest.raises(InputError) as caught:
        parse_spec({**SPEC, "start": "im Frühjahr"})
    assert caught.value.details["parameter"] == "start"
    with pytest.raises(InputError) as caught:
        parse_spec({**SPEC, "name": "Tempo 30"})
    assert caught.value.details["parameter"] == "name"
    with measured.session() as session, pytest.raises(Conflict):
        create_measure(session, STEWARD, parse_spec(SPEC))
    with measured.session() as session:
        create_measure(
            session,
            STEWARD,
            parse_spec(
                {
                    **SPEC,
                    "name": "falsche-spalte",
                    "indicator": {**SPEC["indicator"], "value": "no2"},
                }
            ),
        )
    with pytest.raises(InputError) as caught:
        evaluate_measure(measured, STEWARD, "falsche-spalte")
    assert caught.value.details["parameter"] == "indicator.value"


def test_only_stewards_and_admins_record_and_evaluate(measured: Hub) -> None:
    with measured.session() as session, pytest.raises(Unauthorized):
        create_measure(session, ANONYMOUS, parse_spec({**SPEC, "name": "anonym"}))
    with pytest.raises(Unauthorized):
        evaluate_measure(measured, ANONYMOUS, "tempo30-bahnhofstrasse")


def test_cli_creates_and_evaluates(
    measured: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(measured.data_dir))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", measured.settings.database_url)
    path = tmp_path / "measure.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "name": "cli-massnahme"}), encoding="utf-8")
    runner = CliRunner()
    created = runner.invoke(cli_app, ["measure", "create", "--file", str(path), "--json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["name"] == "cli-massnahme"
    evaluated = runner.invoke(cli_app, ["measure", "evaluate", "cli-massnahme", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    data = json.loads(evaluated.stdout)
    assert set(data) >= {"did", "before_after", "placebo", "warnings"}
    assert set(data["did"]) >= {"estimate", "ci_low", "ci_high", "unit"}
    text = runner.invoke(cli_app, ["measure", "evaluate", "cli-massnahme"])
    assert "difference-in-differences" in text.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    refused = runner.invoke(cli_app, ["measure", "create", "--file", str(bad), "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["details"]["file"] == "bad.yaml"


def test_api_lists_shows_and_guards(measured: Hub) -> None:
    client = TestClient(create_app(measured))
    listed = client.get("/api/v1/measures")
    assert listed.status_code == 200
    assert [m["name"] for m in listed.json()] == ["tempo30-bahnhofstrasse"]
    assert client.get("/api/v1/measures/gibt-es-nicht").status_code == 404
    assert client.post("/api/v1/measures/tempo30-bahnhofstrasse/evaluate").status_code == 401
    refused = client.post("/api/v1/measures", json={**SPEC, "name": "x"})
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["parameter"] == "name"
    evaluate_measure(measured, STEWARD, "tempo30-bahnhofstrasse")
    shown = client.get("/api/v1/measures/tempo30-bahnhofstrasse").json()
    assert len(shown["evaluations"]) == 1
    assert shown["evaluations"][0]["did"]["unit"] == "µg/m³"


def test_an_indicator_of_datastreams_per_station(hub: Hub) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from datenschatz.db.sensor_models import StaDatastream
    from datenschatz.sensors.service import create_entity, insert_observations_bulk

    base = "http://test/sta/v1.1"
    streams: dict[str, int] = {}
    with hub.session() as session:
        for station in ("HER1", "HER2", "DOR1", "DOR2"):
            thing = create_entity(
                session,
                "Things",
                {
                    "name": station,
                    "description": "PM10 station",
                    "Locations": [
                        {
                            "name": station,
                            "description": "site",
                            "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [7.2, 51.5]},
                        }
                    ],
                    "Datastreams": [
                        {
                            "name": f"PM10 {station}",
                            "description": "daily PM10",
                            "observationType": "http://www.opengis.net/def/observationType/"
                            "OGC-OM/2.0/OM_Measurement",
                            "unitOfMeasurement": {
                                "name": "microgram per cubic metre",
                                "symbol": "µg/m³",
                                "definition": "http://unitsofmeasure.org/ucum.html#ug/m3",
                            },
                            "Sensor": {
                                "name": "SDS011",
                                "description": "low-cost sensor",
                                "encodingType": "application/pdf",
                                "metadata": "https://example.org/sds011.pdf",
                            },
                            "ObservedProperty": {
                                "name": "PM10",
                                "definition": "https://example.org/pm10",
                                "description": "particulate matter",
                            },
                        }
                    ],
                },
                base_url=base,
            )
            stream = session.scalar(
                select(StaDatastream.id).where(StaDatastream.thing_id == thing["@iot.id"])
            )
            streams[station] = int(stream)
            first = datetime(2023, 10, 1, 12, tzinfo=UTC)
            rows = []
            for day in range(366):
                when = first + timedelta(days=day)
                value = 30 + 5 * ((day * 37 + sum(map(ord, station)) * day) % 11) / 11
                if station.startswith("HER") and when.date() >= datetime(2024, 4, 1).date():
                    value += EFFECT
                rows.append({"phenomenonTime": when, "result": round(value, 2)})
            insert_observations_bulk(session, streams[station], rows)
        spec = {
            **SPEC,
            "name": "tempo30-sensoren",
            "indicator": {"datastreams": streams},
            "unit": None,
        }
        create_measure(session, STEWARD, parse_spec(spec))
    result = evaluate_measure(hub, STEWARD, "tempo30-sensoren")
    assert result["did"]["ci_low"] <= EFFECT <= result["did"]["ci_high"]
    assert result["did"]["unit"] == "µg/m³"  # from the datastreams' unitOfMeasurement
    assert result["inputs"]["observations"] == {s: 366 for s in streams}
