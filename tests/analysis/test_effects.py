"""The effect estimator on synthetic stations with a known injected effect.

Each simulated city has PM10 driven by a common weather factor (seasonal cycle plus an
autocorrelated wind series), per-station levels, and autocorrelated station noise. The treated
stations drop by a known amount at the start.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from datenschatz.analysis.effects import Evaluation, evaluate
from datenschatz.errors import InputError

START = date(2024, 4, 1)


def simulate(
    seed: int,
    *,
    effect: float = -5.0,
    before: int = 365,
    after: int = 180,
    phi: float = 0.6,
    windier_after: float = 0.0,
    control_drift_per_year: float = 0.0,
) -> Evaluation:
    rng = np.random.default_rng(seed)
    n = before + after
    first = START - timedelta(days=before)
    days = [first + timedelta(days=i) for i in range(n)]
    wind = np.zeros(n)
    for t in range(1, n):
        wind[t] = 0.7 * wind[t - 1] + rng.normal(0, 1)
    wind[before:] += windier_after
    season = 6 * np.cos(2 * np.pi * (np.arange(n) + 90) / 365.25)
    common = 25 + season - 3 * wind

    def station(treated: bool) -> dict[date, float]:
        noise = np.zeros(n)
        for t in range(1, n):
            noise[t] = phi * noise[t - 1] + rng.normal(0, 3)
        y = common + rng.normal(0, 3) + noise
        if treated:
            y[before:] += effect
        else:
            y += control_drift_per_year * np.arange(n) / 365.25
        return {d: float(v) for d, v in zip(days, y, strict=True)}

    treated = {f"HER{i}": station(True) for i in (1, 2)}
    control = {f"DOR{i}": station(False) for i in (1, 2)}
    return evaluate(treated, control, START, unit="µg/m³")


def test_the_did_interval_covers_the_true_effect_in_at_least_90_percent_of_runs() -> None:
    runs = [simulate(seed) for seed in range(200)]
    coverage = sum(r.did.covers(-5.0) for r in runs) / len(runs)
    assert coverage >= 0.90
    # ... and the intervals are informative, not arbitrarily wide.
    assert np.median([r.did.ci_high - r.did.ci_low for r in runs]) < 5.0
    assert all(r.did.unit == "µg/m³" for r in runs)


def test_without_an_effect_the_placebo_and_the_estimate_come_out_clean() -> None:
    runs = [simulate(seed, effect=0.0) for seed in range(200)]
    assert sum(r.placebo is not None and r.placebo.covers(0.0) for r in runs) >= 180
    assert sum(r.did.covers(0.0) for r in runs) >= 180
    placebo_warnings = sum(any("placebo" in w for w in r.warnings) for r in runs)
    assert placebo_warnings <= 20


def test_weather_confounds_before_after_but_not_did() -> None:
    runs = [simulate(seed, windier_after=1.5) for seed in range(40)]
    # Windier days after the start lower PM10 everywhere: before/after credits the measure.
    assert np.mean([r.before_after.estimate for r in runs]) < -8.0
    assert np.mean([r.did.estimate for r in runs]) == pytest.approx(-5.0, abs=0.6)


def test_percent_is_relative_to_the_counterfactual() -> None:
    result = simulate(3)
    assert result.did.percent is not None
    # Around 25 µg/m³ without the measure, so -5 is about -20 %.
    assert -30.0 < result.did.percent < -10.0
    assert result.did.percent_low is not None
    assert result.did.percent_high is not None
    assert result.did.percent_low < result.did.percent < result.did.percent_high


def test_a_short_after_period_is_flagged() -> None:
    result = simulate(5, after=30)
    assert any("only 30 days" in w for w in result.warnings)
    assert not any("only" in w for w in simulate(5).warnings)


def test_diverging_groups_before_the_start_fail_the_parallel_trend_check() -> None:
    result = simulate(11, control_drift_per_year=15.0)
    assert result.pre_trend is not None
    assert not result.pre_trend.parallel
    assert any("parallel" in w for w in result.warnings)
    assert simulate(11).pre_trend is not None


def test_missing_days_and_groups_are_named() -> None:
    days = {START + timedelta(days=i): 20.0 for i in range(-5, 30)}
    with pytest.raises(InputError) as caught:
        evaluate({"A": days}, {"B": days}, START)
    assert caught.value.details == {"parameter": "start"}
    assert "5 days" in caught.value.message
    with pytest.raises(InputError) as caught:
        evaluate({"A": days}, {}, START)
    assert caught.value.details == {"parameter": "control"}
