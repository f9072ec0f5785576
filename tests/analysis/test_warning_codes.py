"""Every warning of an evaluation has a stable code with its values beside its English text."""

from __future__ import annotations

from datenschatz.analysis import effects
from tests.analysis.test_effects import simulate


def _codes(result: effects.Evaluation) -> list[str]:
    return [w.code for w in result.warning_codes]


def test_each_warning_has_a_code_in_the_same_order() -> None:
    result = simulate(11, after=30, before=20, control_drift_per_year=15.0)
    assert len(result.warning_codes) == len(result.warnings)
    assert _codes(result)[0] == effects.PLACEBO_TOO_SHORT
    assert effects.SHORT_AFTER in _codes(result)
    short = result.warning_codes[_codes(result).index(effects.SHORT_AFTER)]
    assert short.params == {"days": 30}
    assert "only 30 days" in result.warnings[_codes(result).index(effects.SHORT_AFTER)]


def test_the_parallel_trend_warning_carries_its_p_value() -> None:
    result = simulate(11, control_drift_per_year=15.0)
    coded = [w for w in result.warning_codes if w.code == effects.NOT_PARALLEL]
    assert len(coded) == 1
    p_value = coded[0].params["p_value"]
    assert result.pre_trend is not None
    assert p_value == round(result.pre_trend.p_value, 3)
    assert f"p = {p_value:.3f}" in " ".join(result.warnings)


def test_a_placebo_effect_names_its_fake_start() -> None:
    runs = [simulate(seed, effect=0.0, control_drift_per_year=8.0) for seed in range(12)]
    flagged = [r for r in runs if effects.PLACEBO_EFFECT in _codes(r)]
    assert flagged, "no run found a placebo effect"
    for result in flagged:
        coded = result.warning_codes[_codes(result).index(effects.PLACEBO_EFFECT)]
        assert coded.params["fake_start"] in " ".join(result.warnings)


def test_a_clean_evaluation_has_no_warnings_and_the_dict_keeps_both_lists() -> None:
    result = simulate(5)
    assert result.warnings == []
    assert result.warning_codes == []
    data = simulate(5, after=30).to_dict()
    assert len(data["warnings"]) == len(data["warning_codes"]) == 1
    assert data["warning_codes"][-1] == {"code": "short_after_period", "params": {"days": 30}}
