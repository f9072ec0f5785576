"""Weather normalization of a daily indicator, after Grange and Carslaw (2019).

A random forest learns the indicator from the weather (for example wind, temperature,
humidity), the season (day of year), the weekday and a time trend. The normalized value of a
day is the model's mean prediction for that day's trend with the other explanatory variables
drawn at random from all days: what the day would have measured under average conditions.
What remains in the normalized series is the trend, where a measure's effect shows.

Short interventions are smoothed into the trend and so understated; the evaluation warns about
short after periods. No model file is downloaded: the forest is fitted on the hub's own data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import numpy as np

from datenschatz.errors import InputError

MIN_DAYS = 60  # below this, a forest says little about weather
DRAWS = 100  # resampled conditions per day
TREES = 150


def _features(days: list[date], weather: Mapping[str, Mapping[date, float]]) -> np.ndarray:
    first = days[0]
    columns = [
        [(d - first).days for d in days],  # trend
        [math.sin(2 * math.pi * d.timetuple().tm_yday / 365.25) for d in days],
        [math.cos(2 * math.pi * d.timetuple().tm_yday / 365.25) for d in days],
        [d.weekday() for d in days],
    ]
    for name in sorted(weather):
        columns.append([weather[name][d] for d in days])
    return np.array(columns, dtype=float).T


def normalize(
    indicator: Mapping[date, float],
    weather: Mapping[str, Mapping[date, float]],
    *,
    seed: int = 0,
    draws: int = DRAWS,
) -> dict[date, float]:
    """The weather-normalized daily series of ``indicator`` (days with all weather values)."""
    from sklearn.ensemble import RandomForestRegressor

    if not weather:
        raise InputError(
            "Weather normalization needs at least one weather series.", parameter="weather"
        )
    days = sorted(d for d in indicator if all(d in series for series in weather.values()))
    if len(days) < MIN_DAYS:
        raise InputError(
            f"Only {len(days)} days have the indicator and all weather values; "
            f"weather normalization needs at least {MIN_DAYS}.",
            parameter="weather",
        )
    x = _features(days, weather)
    y = np.array([indicator[d] for d in days], dtype=float)
    forest = RandomForestRegressor(
        n_estimators=TREES, min_samples_leaf=3, max_features=0.6, random_state=seed, n_jobs=1
    )
    forest.fit(x, y)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(days), size=(len(days), draws))
    rows = x[picks.ravel()].copy()
    rows[:, 0] = np.repeat(x[:, 0], draws)  # keep each day's trend; the rest as on random days
    means = forest.predict(rows).reshape(len(days), draws).mean(axis=1)
    return {day: float(v) for day, v in zip(days, means, strict=True)}
