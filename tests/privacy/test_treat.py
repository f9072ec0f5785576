"""Treatments: the spec, and raw version in → publishable version out (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.errors import CheckFailed, InputError
from datenschatz.hub import Hub
from datenschatz.privacy.ledger import treatment_run_for
from datenschatz.privacy.roles import get_roles, set_roles
from datenschatz.privacy.treatments import apply_treatments, load_spec, parse_spec
from datenschatz.services.publish import publish
from tests.helpers import add_version

CUSTOMERS = """
SELECT 'K' || lpad(CAST(i AS VARCHAR), 5, '0') AS kundennummer,
       'Name ' || i AS name,
       CASE i % 3 WHEN 0 THEN '44623' WHEN 1 THEN '44649' ELSE '44628' END AS plz,
       'Bahnhofstr. ' || (i % 7 + 1) || 'a, 44623 Herne' AS adresse,
       DATE '2024-01-01' + INTERVAL (i % 60) DAY AS ablesedatum,
       100.0 + (i * 37) % 900 AS verbrauch_kwh,
       'Bitte zurückrufen' AS bemerkung
FROM range(300) t(i)
"""


def _rows(hub: Hub, slug: str, number: int, order: str = "1") -> list[tuple[Any, ...]]:
    with hub.session() as session:
        version = get_version(session, get_dataset(session, slug), number)
        path = hub.store.path(version.path)
    con = hub.duckdb(spatial=False)
    try:
        return con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY {order}").fetchall()
    finally:
        con.close()


def _report(hub: Hub, slug: str, number: int) -> dict[str, Any]:
    with hub.session() as session:
        version = get_version(session, get_dataset(session, slug), number)
        report = treatment_run_for(session, version.id)
    assert report is not None
    return report


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"treatments": []}, "non-empty 'treatments'"),
        ({"treatments": [{"explode": ["x"]}]}, "Treatment 1: unknown kind 'explode'"),
        ({"treatments": [{"drop": []}]}, "Treatment 1 (drop)"),
        ({"treatments": [{"generalize": {"column": "plz", "to": "moon"}}]}, "'to' must be"),
        ({"treatments": [{"generalize": {"column": "x", "to": "bands"}}]}, "width"),
        ({"k": 3, "treatments": [{"drop": ["x"]}]}, "at least 5"),
        ({"treatments": [{"aggregate": {"group_by": ["a"], "k": 2}}]}, "'k' must be at least 5"),
        ({"treatments": [{"aggregate": {"group_by": ["a"], "colour": 1}}]}, "unknown option"),
        ({"treatments": [{"dp": {"epsilon": 1, "group_by": ["d"], "count": True}}]}, "keys"),
        ({"treatments": [{"dp": {"epsilon": 1, "sum": {"v": [5, 1]}}}]}, "lower bound"),
        ({"wat": 1, "treatments": [{"drop": ["x"]}]}, "Unknown key"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_treatment(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_spec(spec)
    assert message in info.value.message


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(InputError) as info:
        load_spec("treatments:\n  - drop: [a\n  - b: {", "spec.yaml")
    assert info.value.details["file"] == "spec.yaml"
    assert "line" in info.value.details


def test_unknown_column_is_named(hub: Hub) -> None:
    add_version(hub, "kunden", CUSTOMERS)
    spec = parse_spec({"treatments": [{"drop": ["name"]}, {"drop": ["name"]}]})
    with pytest.raises(InputError) as info:
        apply_treatments(hub, "kunden", raw_version=None, spec=spec, actor="test")
    assert info.value.message.startswith("Treatment 2 (drop): no column 'name'")
    assert info.value.details["column"] == "name"
    with hub.session() as session:
        assert len(get_dataset(session, "kunden").versions) == 1  # nothing stored


def test_aggregate_per_district_and_month_is_a_new_version_with_roles(hub: Hub) -> None:
    add_version(hub, "kunden", CUSTOMERS)
    spec = load_spec(
        """
        population: herne-kunden
        treatments:
          - drop: [name, bemerkung, adresse]
          - generalize: {column: plz, to: district, as: stadtbezirk}
          - generalize: {column: ablesedatum, to: month}
          - aggregate:
              group_by: [stadtbezirk, ablesedatum]
              contributor: kundennummer
              sum: [verbrauch_kwh]
              mean: [verbrauch_kwh]
        """
    )
    info = apply_treatments(hub, "kunden", raw_version=1, spec=spec, actor="test")
    assert info.number == 2
    names = [f["name"] for f in info.table_schema["fields"]]
    assert names == [
        "stadtbezirk",
        "ablesedatum",
        "contributor_count",
        "verbrauch_kwh_sum",
        "verbrauch_kwh_mean",
    ]
    rows = _rows(hub, "kunden", 2, "1, 2")
    assert {r[0] for r in rows} == {"Herne-Mitte", "Wanne", "Sodingen"}
    assert {r[1] for r in rows} == {"2024-01", "2024-02"}
    assert sum(r[2] for r in rows) == 300
    assert all(r[2] >= 5 for r in rows)
    report = _report(hub, "kunden", 2)
    assert report["raw_version"] == 1
    assert report["population"] == "herne-kunden"
    assert report["k"] == 5
    assert report["smallest_group"] == min(r[2] for r in rows)
    assert [t["kind"] for t in report["treatments"]] == [
        "drop",
        "generalize",
        "generalize",
        "aggregate",
    ]
    with hub.session() as session:
        roles = {
            c: r.role.value
            for c, r in get_roles(session, get_dataset(session, "kunden")).items()
            if r.confirmed and r.role
        }
    assert roles["contributor_count"] == "contributor_count"
    assert roles["verbrauch_kwh_sum"] == "measure"
    assert roles["stadtbezirk"] == "quasi_id"


def test_generalize_street_bands_and_hash(hub: Hub) -> None:
    add_version(hub, "kunden", CUSTOMERS)
    spec = parse_spec(
        {
            "treatments": [
                {"hash": {"column": "kundennummer", "as": "kunde_hash"}},
                {"generalize": {"column": "adresse", "to": "street"}},
                {"generalize": {"column": "verbrauch_kwh", "to": "bands", "width": 500}},
                {"drop": ["name", "bemerkung", "plz", "ablesedatum"]},
            ]
        }
    )
    apply_treatments(hub, "kunden", raw_version=None, spec=spec, actor="test")
    rows = _rows(hub, "kunden", 2)
    assert {r[1] for r in rows} == {"Bahnhofstr."}
    assert {r[2] for r in rows} == {"[0, 500)", "[500, 1000)"}
    assert all(len(r[0]) == 64 and not r[0].startswith("K") for r in rows)
    assert len({r[0] for r in rows}) == 300
    report = _report(hub, "kunden", 2)
    assert report["never_publish"] == ["kunde_hash"]
    with hub.session() as session:
        role = get_roles(session, get_dataset(session, "kunden"))["kunde_hash"].role
    assert role is not None
    assert role.value == "direct_id"


def test_free_text_must_be_dropped(hub: Hub) -> None:
    add_version(hub, "kunden", CUSTOMERS)
    with hub.session() as session:
        set_roles(session, get_dataset(session, "kunden"), {"bemerkung": "free_text"}, actor="t")
    spec = parse_spec({"treatments": [{"drop": ["name"]}]})
    with pytest.raises(InputError, match="bemerkung hold free text"):
        apply_treatments(hub, "kunden", raw_version=None, spec=spec, actor="test")


def test_microdata_must_reach_k_anonymity_or_suppress(hub: Hub) -> None:
    add_version(
        hub,
        "personen",
        "SELECT CASE WHEN i < 3 THEN '44653' ELSE '44623' END AS plz, i % 2 AS wert "
        "FROM range(40) t(i)",
    )
    refused = parse_spec({"treatments": [{"generalize": {"column": "plz", "to": "district"}}]})
    with pytest.raises(CheckFailed, match="not 5-anonymous on district"):
        apply_treatments(hub, "personen", raw_version=1, spec=refused, actor="test")
    fixed = parse_spec(
        {
            "treatments": [
                {"generalize": {"column": "plz", "to": "district"}},
                {
                    "k_anonymity": {
                        "quasi_ids": ["district"],
                        "suppress": True,
                        "max_suppressed": 0.1,
                    }
                },
            ]
        }
    )
    info = apply_treatments(hub, "personen", raw_version=1, spec=fixed, actor="test")
    assert info.rows == 37
    found = _report(hub, "personen", info.number)["k_anonymity"]
    assert found["rows_suppressed"] == 3
    assert found["reached"] is True
    assert found["smallest_class"] == 37


def test_treated_aggregate_passes_the_gate_and_the_raw_version_never_does(hub: Hub) -> None:
    add_version(hub, "kunden", CUSTOMERS)
    spec = parse_spec(
        {
            "treatments": [
                {"generalize": {"column": "plz", "to": "district"}},
                {
                    "aggregate": {
                        "group_by": ["district"],
                        "contributor": "kundennummer",
                        "sum": ["verbrauch_kwh"],
                    }
                },
            ]
        }
    )
    apply_treatments(hub, "kunden", raw_version=None, spec=spec, actor="test")
    with hub.session() as session:
        set_roles(session, get_dataset(session, "kunden"), {"district": "public_key"}, actor="t")
    with pytest.raises(CheckFailed, match="raw input of a declared treatment"):
        publish(hub, "kunden", 1, actor="test")
    info = publish(hub, "kunden", 2, actor="test")
    assert info.published
