"""Release to release: subtracting two published figures must not isolate fewer than k people."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.privacy.ledger import differencing_findings, treatment_run_for
from datenschatz.privacy.roles import set_roles
from datenschatz.privacy.treatments import apply_treatments, parse_spec
from datenschatz.services.publish import publish
from tests.helpers import add_version

SPEC = parse_spec(
    {
        "population": "herne-haushalte",
        "treatments": [
            {
                "aggregate": {
                    "group_by": ["bezirk"],
                    "contributor": "haushalt",
                    "sum": ["kwh"],
                }
            }
        ],
    }
)


def _households(skip_in_wanne: int) -> str:
    """40 households in Wanne and 40 in Eickel; the first ``skip_in_wanne`` have moved out."""
    return (
        "SELECT 'H' || i AS haushalt, CASE WHEN i < 40 THEN 'Wanne' ELSE 'Eickel' END AS bezirk, "
        f"1000.0 + i * 13 AS kwh FROM range(80) t(i) WHERE i >= {skip_in_wanne} OR i >= 40"
    )


def _release(hub: Hub, skip: int) -> int:
    add_version(hub, "verbrauch", _households(skip))
    info = apply_treatments(hub, "verbrauch", raw_version=None, spec=SPEC, actor="test")
    with hub.session() as session:
        set_roles(session, get_dataset(session, "verbrauch"), {"bezirk": "public_key"}, actor="t")
    return info.number


def _findings(hub: Hub, number: int) -> list[str]:
    with hub.session() as session:
        dataset = get_dataset(session, "verbrauch")
        return differencing_findings(hub, session, dataset, get_version(session, dataset, number))


def test_one_household_moving_out_is_refused_as_a_differencing_attack(hub: Hub) -> None:
    first = _release(hub, 0)
    publish(hub, "verbrauch", first, actor="test")
    second = _release(hub, 1)  # one household left Wanne: the difference is its consumption
    found = _findings(hub, second)
    assert len(found) == 1
    assert "bezirk=Wanne (1)" in found[0]
    assert "verbrauch v2" in found[0]
    assert "Eickel" not in found[0]
    with pytest.raises(CheckFailed, match="subtracting the two figures would isolate"):
        publish(hub, "verbrauch", second, actor="test")
    with hub.session() as session:
        version = get_version(session, get_dataset(session, "verbrauch"), second)
        report = treatment_run_for(session, version.id)
    assert report is not None
    assert report["compared_releases"] == [{"dataset": "verbrauch", "version": first}]


def test_a_change_of_k_or_more_households_may_be_published(hub: Hub) -> None:
    first = _release(hub, 0)
    publish(hub, "verbrauch", first, actor="test")
    later = _release(hub, 5)
    assert _findings(hub, later) == []
    assert publish(hub, "verbrauch", later, actor="test").published


def test_unpublished_releases_are_not_compared(hub: Hub) -> None:
    _release(hub, 0)  # never published
    second = _release(hub, 1)
    assert _findings(hub, second) == []


def test_one_in_one_out_keeps_the_count_but_is_still_refused(hub: Hub) -> None:
    first = _release(hub, 0)
    publish(hub, "verbrauch", first, actor="test")
    add_version(
        hub,
        "verbrauch",
        _households(1) + " UNION ALL SELECT 'H999', 'Wanne', 4321.0",
    )
    info = apply_treatments(hub, "verbrauch", raw_version=None, spec=SPEC, actor="test")
    found = _findings(hub, info.number)
    assert len(found) == 1
    assert "bezirk=Wanne (2)" in found[0]


def test_a_missing_ledger_refuses_rather_than_skips_the_comparison(hub: Hub) -> None:
    import shutil

    from datenschatz.privacy.ledger import ledger_root

    first = _release(hub, 0)
    publish(hub, "verbrauch", first, actor="test")
    second = _release(hub, 0)
    shutil.rmtree(ledger_root(hub))
    found = _findings(hub, second)
    assert len(found) == 1
    assert "cannot be compared" in found[0]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moved=st.integers(0, 8), arrived=st.integers(0, 3))
def test_refused_exactly_when_fewer_than_k_contributors_changed(
    sqlite_hub: Hub, moved: int, arrived: int
) -> None:
    hub = sqlite_hub
    slug = f"wechsel-{moved}-{arrived}"
    spec = parse_spec({**SPEC.raw, "population": slug})

    def release(sql: str) -> int:
        add_version(hub, slug, sql)
        info = apply_treatments(hub, slug, raw_version=None, spec=spec, actor="test")
        with hub.session() as session:
            set_roles(session, get_dataset(session, slug), {"bezirk": "public_key"}, actor="t")
        return info.number

    publish(hub, slug, release(_households(0)), actor="test")
    newcomers = "".join(f" UNION ALL SELECT 'N{i}', 'Wanne', {2000.0 + i}" for i in range(arrived))
    later = release(_households(moved) + newcomers)
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        found = differencing_findings(hub, session, dataset, get_version(session, dataset, later))
    changed = moved + arrived
    assert bool(found) == (1 <= changed < 5)
    if found:
        assert f"bezirk=Wanne ({changed})" in found[0]
