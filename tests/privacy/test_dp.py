"""Differential privacy through OpenDP, and the epsilon budget per source population."""

from __future__ import annotations

import pytest

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.privacy.dp import laplace_vector
from datenschatz.privacy.ledger import budget_state, treatment_run_for
from datenschatz.privacy.treatments import apply_treatments, parse_spec
from tests.helpers import add_version

RAW = (
    "SELECT 'H' || i AS haushalt, CASE WHEN i % 2 = 0 THEN 'Wanne' ELSE 'Eickel' END AS bezirk, "
    "500.0 + (i * 37) % 1000 AS kwh FROM range(2000) t(i)"
)


def _spec(epsilon: float) -> dict[str, object]:
    return {
        "population": "herne-haushalte",
        "treatments": [
            {
                "dp": {
                    "epsilon": epsilon,
                    "contributor": "haushalt",
                    "group_by": ["bezirk"],
                    "keys": {"bezirk": ["Wanne", "Eickel", "Sodingen"]},
                    "count": True,
                    "sum": {"kwh": [0, 2000]},
                    "mean": {"kwh": [0, 2000]},
                }
            }
        ],
    }


def test_noisy_counts_sums_and_means_per_declared_group(hub: Hub) -> None:
    add_version(hub, "dp", RAW)
    info = apply_treatments(hub, "dp", raw_version=1, spec=parse_spec(_spec(1.0)), actor="t")
    assert [f["name"] for f in info.table_schema["fields"]] == [
        "bezirk",
        "count",
        "kwh_sum",
        "kwh_mean",
    ]
    with hub.session() as session:
        version = get_version(session, get_dataset(session, "dp"), info.number)
        path = hub.store.path(version.path)
        report = treatment_run_for(session, version.id)
    con = hub.duckdb(spatial=False)
    rows = {r[0]: r[1:] for r in con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()}
    con.close()
    assert set(rows) == {"Wanne", "Eickel", "Sodingen"}  # declared keys, even the empty one
    count, _total, mean = rows["Wanne"]
    assert abs(count - 1000) < 100  # count scale 3 (1 / (1/3))
    assert abs(mean - 998.5) < 100
    assert report is not None
    dp = report["dp"]
    assert dp["epsilon_spent"] == 1.0
    assert dp["queries"] == 2
    assert dp["noise_scale"]["kwh"] == pytest.approx(4000.0)
    assert report["budget"] == {"population": "herne-haushalte", "limit": 3.0, "spent": 1.0}


def test_budget_exhaustion_is_refused_and_nothing_is_stored(hub: Hub) -> None:
    add_version(hub, "dp", RAW)
    apply_treatments(hub, "dp", raw_version=1, spec=parse_spec(_spec(2.0)), actor="t")
    with pytest.raises(CheckFailed, match="epsilon budget of population 'herne-haushalte'"):
        apply_treatments(hub, "dp", raw_version=1, spec=parse_spec(_spec(1.5)), actor="t")
    with hub.session() as session:
        assert len(get_dataset(session, "dp").versions) == 2
        assert budget_state(session, "herne-haushalte") == {
            "population": "herne-haushalte",
            "limit": 3.0,
            "spent": 2.0,
        }
    apply_treatments(hub, "dp", raw_version=1, spec=parse_spec(_spec(1.0)), actor="t")
    with hub.session() as session:
        state = budget_state(session, "herne-haushalte")
    assert state is not None
    assert state["spent"] == 3.0


def test_laplace_noise_is_calibrated_by_opendp() -> None:
    values = [100.0] * 2000
    noisy = laplace_vector(values, 10.0, 1.0, integer=False)
    deviations = [abs(n - 100.0) for n in noisy]
    assert 7 < sum(deviations) / len(deviations) < 13  # mean |Laplace(b=10)| is 10
    assert len(set(noisy)) > 1900
