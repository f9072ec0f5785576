"""Weather normalization: a windier after period no longer passes for the measure's effect."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from datenschatz.access.policy import Principal, Role
from datenschatz.analysis.measures import create_measure, evaluate_measure, parse_spec
from datenschatz.analysis.weather import normalize
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.helpers import add_version

START = date(2024, 4, 1)
STEWARD = Principal(name="steward", user_id=1, roles=frozenset({Role.STEWARD}))


def windy_city(
    seed: int, effect: float = -5.0
) -> tuple[dict[date, float], dict[str, dict[date, float]]]:
    """PM10 that falls with wind; the after period is windier, and the measure lowers it."""
    rng = np.random.default_rng(seed)
    before, after = 365, 180
    n = before + after
    days = [START - timedelta(days=before) + timedelta(days=i) for i in range(n)]
    wind = np.zeros(n)
    for t in range(1, n):
        wind[t] = 0.7 * wind[t - 1] + rng.normal(0, 1)
    wind[before:] += 1.5
    temp = 10 + 8 * np.sin(2 * np.pi * np.arange(n) / 365.25) + rng.normal(0, 2, n)
    pm10 = 25 - 3 * wind + 0.3 * (temp - 10) + rng.normal(0, 2, n)
    pm10[before:] += effect
    weather = {
        "wind": {d: float(v) for d, v in zip(days, wind, strict=True)},
        "temperatur": {d: float(v) for d, v in zip(days, temp, strict=True)},
    }
    return {d: float(v) for d, v in zip(days, pm10, strict=True)}, weather


def change(series: dict[date, float]) -> float:
    after = [v for d, v in series.items() if d >= START]
    before = [v for d, v in series.items() if d < START]
    return float(np.mean(after) - np.mean(before))


def test_normalization_removes_most_of_the_weather_from_a_before_after_comparison() -> None:
    raws, normalized = [], []
    for seed in range(4):
        # No measure at all: the windier after period alone lowers PM10 (by 4.5 µg/m³ on
        # average; season and the wind's own swings add to it or take from it).
        pm10, weather = windy_city(seed, effect=0.0)
        raws.append(change(pm10))
        normalized.append(change(normalize(pm10, weather, seed=seed)))
    assert np.mean(raws) < -2.5
    assert all(abs(n) < 1.0 for n in normalized)


def test_too_little_data_is_refused() -> None:
    pm10, weather = windy_city(0)
    short = dict(list(pm10.items())[:30])
    with pytest.raises(InputError) as caught:
        normalize(short, weather)
    assert caught.value.details == {"parameter": "weather"}
    with pytest.raises(InputError):
        normalize(pm10, {})


def test_a_measure_with_linked_weather_reports_the_normalized_estimate(hub: Hub) -> None:
    pm10, weather = windy_city(4)
    treated = ", ".join(f"('HER', DATE '{d}', {v:.3f})" for d, v in pm10.items())
    control = ", ".join(
        f"('DOR', DATE '{d}', {v - (-5.0 if d >= START else 0.0) + 1:.3f})" for d, v in pm10.items()
    )
    add_version(hub, "pm10", f"SELECT * FROM (VALUES {treated}, {control}) t(station, tag, pm10)")
    publish(hub, "pm10", actor="test")
    rows = ", ".join(
        f"(DATE '{d}', {weather['wind'][d]:.3f}, {weather['temperatur'][d]:.3f})" for d in pm10
    )
    add_version(hub, "wetter", f"SELECT * FROM (VALUES {rows}) t(tag, wind, temperatur)")
    publish(hub, "wetter", actor="test")
    spec = {
        "name": "mit-wetter",
        "indicator": {"dataset": "pm10", "time": "tag", "value": "pm10", "group": "station"},
        "treated": ["HER"],
        "control": ["DOR"],
        "start": START.isoformat(),
        "weather": {"dataset": "wetter", "time": "tag", "columns": ["wind", "temperatur"]},
    }
    with hub.session() as session:
        create_measure(session, STEWARD, parse_spec(spec))
    result = evaluate_measure(hub, STEWARD, "mit-wetter")
    normalized = result["weather_normalized"]
    assert normalized["variables"] == ["temperatur", "wind"]
    assert normalized["did"]["ci_high"] < 0
    assert result["inputs"]["weather"]["dataset"] == "wetter"
    with pytest.raises(InputError):
        parse_spec({**spec, "weather": {"dataset": "wetter"}})
