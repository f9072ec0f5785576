"""Did a measure change its indicator? Estimates with honest uncertainty, from daily means.

The input is one daily series per station: the treated stations (where the measure acts) and
the control stations (comparable, untouched). Everything here works on the daily means of each
group, so the arithmetic stays visible:

- **before/after**: the treated group's mean after the start minus its mean before. It mixes
  the measure with everything else that changed (weather, season, traffic trends).
- **difference-in-differences (DiD)**: the same change, minus the control group's change over
  the same days. Valid when, without the measure, both groups would have moved in parallel.
- **confidence intervals** come from a regression of the daily series on an after-the-start
  indicator, with Newey-West (HAC) standard errors: air-quality series are autocorrelated, and
  treating their days as independent would make the intervals far too narrow.
- **honesty checks**: a test of parallel trends before the start, a placebo DiD at a fake
  start date inside the before period (it should find nothing), and warnings when the after
  period is short. Each warning has an English text (API, CLI) and a stable code with its
  values (``warning_codes``), by which the web UI shows it in the page's language.

No network, no model files: plain NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from datenschatz.errors import InputError

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile
# After periods shorter than this get a warning: few weeks say little about a lasting effect,
# and weather normalization is known to understate short interventions.
SHORT_POST_DAYS = 60
MIN_DAYS = 14  # per period and group, below which no estimate is given
PRE_TREND_ALPHA = 0.05
BANDWIDTH = 0.1  # HAC lag window as a share of the series length (fixed-b)

Series = Mapping[date, float]  # daily mean of one station
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """An effect in the indicator's unit and in percent of what it would have been without."""

    estimate: float
    ci_low: float
    ci_high: float
    unit: str
    percent: float | None
    percent_low: float | None
    percent_high: float | None
    days_before: int
    days_after: int
    standard_error: float

    def covers(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


@dataclass(frozen=True)
class TrendCheck:
    """Slope of the treated-minus-control gap before the start (per year), and its p-value."""

    slope_per_year: float
    p_value: float
    parallel: bool


@dataclass(frozen=True)
class WarningCode:
    """The stable code of a warning and the values its text names."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


# The codes of the warnings, for readers of ``warning_codes``.
PLACEBO_EFFECT = "placebo_effect"  # params: fake_start (ISO date)
PLACEBO_TOO_SHORT = "placebo_too_short"
NOT_PARALLEL = "pre_trend_not_parallel"  # params: p_value
SHORT_AFTER = "short_after_period"  # params: days


@dataclass
class Evaluation:
    did: Estimate
    before_after: Estimate
    placebo: Estimate | None
    pre_trend: TrendCheck | None
    warnings: list[str] = field(default_factory=list)
    warning_codes: list[WarningCode] = field(default_factory=list)

    def warn(self, code: str, message: str, **params: Any) -> None:
        """Add a warning: its English ``message`` and its ``code`` with ``params``."""
        self.warnings.append(message)
        self.warning_codes.append(WarningCode(code, params))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hac_regression(y: Floats, x: Floats, bandwidth: float = BANDWIDTH) -> tuple[Floats, Floats]:
    """OLS of ``y`` on the columns of ``x`` with Newey-West (Bartlett) standard errors.

    The lag window is a fixed share ``bandwidth`` of the series, and the standard errors are
    scaled so that ``±Z_95·se`` uses the fixed-b critical value of Kiefer and Vogelsang (2005)
    instead of the normal one: with the persistence of air-quality series, the textbook
    short window gives intervals that are too narrow.
    """
    n = len(y)
    lags = max(1, math.ceil(bandwidth * n))
    b = lags / n
    critical = 1.96 + 2.9694 * b + 0.4160 * b**2 - 0.5324 * b**3
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    scores = x * resid[:, None]
    meat = scores.T @ scores
    for lag in range(1, min(lags, n - 1) + 1):
        weight = 1.0 - lag / (lags + 1)
        gamma = scores[lag:].T @ scores[:-lag]
        meat += weight * (gamma + gamma.T)
    cov = xtx_inv @ meat @ xtx_inv * n / max(n - x.shape[1], 1)
    # Rounding can leave a zero variance slightly negative (a perfectly flat series).
    return beta, np.sqrt(np.maximum(np.diag(cov), 0.0)) * critical / Z_95


def _group_mean(stations: Mapping[str, Series], days: list[date]) -> Floats:
    """Daily mean over the stations that have a value that day (NaN where none has)."""
    rows = np.full((len(stations), len(days)), np.nan)
    index = {d: i for i, d in enumerate(days)}
    for r, series in enumerate(stations.values()):
        for day, value in series.items():
            if day in index and value is not None and math.isfinite(value):
                rows[r, index[day]] = value
    with np.errstate(all="ignore"):
        counts = np.sum(~np.isnan(rows), axis=0)
        sums = np.nansum(rows, axis=0)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _step_estimate(
    y: Floats, after: npt.NDArray[np.bool_], unit: str, baseline: float | None
) -> Estimate:
    """The jump of ``y`` at the start, from a regression on the after indicator."""
    x = np.column_stack([np.ones(len(y)), after.astype(float)])
    beta, se = hac_regression(y, x)
    effect, err = float(beta[1]), float(se[1])
    low, high = effect - Z_95 * err, effect + Z_95 * err

    def pct(v: float) -> float | None:
        return None if not baseline else 100.0 * v / baseline

    return Estimate(
        estimate=effect,
        ci_low=low,
        ci_high=high,
        unit=unit,
        percent=pct(effect),
        percent_low=pct(low),
        percent_high=pct(high),
        days_before=int((~after).sum()),
        days_after=int(after.sum()),
        standard_error=err,
    )


def _pre_trend(gap: Floats, days: Sequence[date]) -> TrendCheck:
    t = np.array([(d - days[0]).days / 365.25 for d in days])
    x = np.column_stack([np.ones(len(gap)), t])
    beta, se = hac_regression(gap, x)
    z = abs(float(beta[1]) / float(se[1])) if se[1] > 0 else 0.0
    p = math.erfc(z / math.sqrt(2))
    return TrendCheck(float(beta[1]), p, p >= PRE_TREND_ALPHA)


def evaluate(
    treated: Mapping[str, Series],
    control: Mapping[str, Series],
    start: date,
    *,
    unit: str = "",
    end: date | None = None,
) -> Evaluation:
    """Before/after and DiD estimates of the change at ``start``, with the honesty checks.

    ``treated`` and ``control`` map station ids to daily means. Days after ``end`` (if given)
    are ignored. Raises InputError naming what is missing when a period has too few days.
    """
    if not treated:
        raise InputError("The measure names no treated station with data.", parameter="treated")
    if not control:
        raise InputError("The measure names no control station with data.", parameter="control")
    all_days = sorted({d for s in (*treated.values(), *control.values()) for d in s})
    if end is not None:
        all_days = [d for d in all_days if d <= end]
    t_mean = _group_mean(treated, all_days)
    c_mean = _group_mean(control, all_days)
    keep = ~np.isnan(t_mean) & ~np.isnan(c_mean)
    days = [d for d, k in zip(all_days, keep, strict=True) if k]
    t_mean, c_mean = t_mean[keep], c_mean[keep]
    after = np.array([d >= start for d in days], dtype=bool)
    n_after, n_before = int(after.sum()), int((~after).sum())
    for label, n in (("before", n_before), ("after", n_after)):
        if n < MIN_DAYS:
            raise InputError(
                f"Only {n} days with data in both groups {label} the start; "
                f"at least {MIN_DAYS} are needed.",
                parameter="start",
            )
    gap = t_mean - c_mean
    # Percent of the counterfactual: the treated after-mean had the change not happened.
    did_raw = float(gap[after].mean() - gap[~after].mean())
    counterfactual = float(t_mean[after].mean()) - did_raw
    did = _step_estimate(gap, after, unit, counterfactual)
    before_after = _step_estimate(t_mean, after, unit, float(t_mean[~after].mean()))
    pre_days = [d for d, a in zip(days, after, strict=True) if not a]
    pre_trend = _pre_trend(gap[~after], pre_days) if n_before >= MIN_DAYS else None
    placebo = None
    if n_before >= 2 * MIN_DAYS:
        fake = pre_days[len(pre_days) // 2]
        pre_gap = gap[~after]
        fake_after = np.array([d >= fake for d in pre_days], dtype=bool)
        base = float(t_mean[~after][fake_after].mean())
        placebo = _step_estimate(pre_gap, fake_after, unit, base)
    result = Evaluation(did, before_after, placebo, pre_trend)
    if placebo is None:
        result.warn(PLACEBO_TOO_SHORT, "The before period is too short for a placebo test.")
    elif not placebo.covers(0.0):
        result.warn(
            PLACEBO_EFFECT,
            f"The placebo test at {fake.isoformat()} (a fake start inside the before period) "
            "finds an effect: the groups drift apart without the measure, so the DiD "
            "estimate may be biased.",
            fake_start=fake.isoformat(),
        )
    if pre_trend is not None and not pre_trend.parallel:
        result.warn(
            NOT_PARALLEL,
            "Treated and control stations did not move in parallel before the start "
            f"(p = {pre_trend.p_value:.3f}): the DiD assumption is doubtful.",
            p_value=round(pre_trend.p_value, 3),
        )
    if n_after < SHORT_POST_DAYS:
        result.warn(
            SHORT_AFTER,
            f"The after period has only {n_after} days: short periods say little about a "
            "lasting effect, and weather normalization tends to understate short interventions.",
            days=n_after,
        )
    return result


def daily(values: Sequence[tuple[date, float]]) -> dict[date, float]:
    """Daily means of (day, value) pairs."""
    sums: dict[date, list[float]] = {}
    for day, value in values:
        if value is not None and math.isfinite(value):
            sums.setdefault(day, []).append(value)
    return {d: sum(v) / len(v) for d, v in sums.items()}


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
