"""The privacy gate on synthetic tables: roles, detector hits, contributor counts, k-anonymity."""

from __future__ import annotations

from pathlib import Path

import pytest

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.errors import CheckFailed, InputError
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.privacy.gate import evaluate_version, stored_report
from datenschatz.privacy.roles import set_roles
from datenschatz.services.publish import publish
from datenschatz.store.versions import sha256_file
from tests.helpers import add_version, confirm_roles

SENSOR_SQL = """
SELECT 'HER-' || lpad(CAST(range % 12 AS VARCHAR), 3, '0') AS station,
       TIMESTAMP '2024-01-01' + INTERVAL (range) MINUTE AS zeit,
       round(10 + (range % 37) * 0.5, 1) AS pm10,
       round(5 + (range % 11) * 0.3, 1) AS temperatur
FROM range(2000)
"""
DISTRICT_SQL = """
SELECT b AS stadtbezirk, m AS monat, 40 + (hash(b || m) % 400)::INTEGER AS anzahl_haushalte,
       round(1000 + (hash(m || b) % 100000) / 10.0, 1) AS strom_kwh
FROM (VALUES ('Herne-Mitte'), ('Wanne'), ('Eickel'), ('Sodingen')) d(b),
     (SELECT DATE '2024-01-01' + INTERVAL (range) MONTH AS m FROM range(12))
"""
IBAN = "DE89370400440532013000"


def _refusal(hub: Hub, slug: str) -> str:
    with pytest.raises(CheckFailed) as caught:
        publish(hub, slug, actor="test")
    privacy = [c for c in caught.value.details["checks"] if c["check"] == "privacy"]
    assert privacy
    assert not privacy[0]["passed"]
    return str(privacy[0]["reason"])


def test_column_without_confirmed_role_blocks_publication(hub: Hub) -> None:
    add_version(hub, "luft", SENSOR_SQL, accept_proposed=False)
    reason = _refusal(hub, "luft")
    for column in ("station", "zeit", "pm10", "temperatur"):
        assert f"Column {column!r} has no confirmed role" in reason


def test_accepting_proposals_lets_clean_sensor_readings_pass(hub: Hub) -> None:
    add_version(hub, "luft", SENSOR_SQL)
    assert publish(hub, "luft", actor="test").published


def test_accepting_proposals_lets_a_large_district_aggregate_pass(hub: Hub) -> None:
    add_version(hub, "verbrauch", DISTRICT_SQL)
    verdict = evaluate_version(hub, "verbrauch")
    roles = {c["name"]: c["role"] for c in verdict.report["columns"]}
    assert roles["anzahl_haushalte"] == "contributor_count"
    assert verdict.passed, verdict.reasons
    assert verdict.report["smallest_group"] >= 40
    assert publish(hub, "verbrauch", actor="test").published


def test_a_new_column_in_a_new_version_has_no_role(hub: Hub) -> None:
    add_version(hub, "luft", SENSOR_SQL)
    publish(hub, "luft", actor="test")
    add_version(
        hub, "luft", f"SELECT *, 'x' AS bemerkung_neu FROM ({SENSOR_SQL})", accept_proposed=False
    )
    reason = _refusal(hub, "luft")
    assert "Column 'bemerkung_neu' has no confirmed role" in reason
    assert "'pm10'" not in reason  # roles of known columns carry over


def test_direct_id_and_free_text_columns_are_never_published_raw(hub: Hub) -> None:
    add_version(
        hub,
        "anliegen",
        "SELECT range AS n, 'Laterne defekt' AS anliegen, 'K-' || range AS kundennummer "
        "FROM range(10)",
    )
    reason = _refusal(hub, "anliegen")
    assert "Column 'anliegen' is free_text" in reason
    assert "Column 'kundennummer' is direct_id" in reason


def test_hit_in_a_column_not_declared_direct_id_blocks_and_names_rows_not_values(
    hub: Hub,
) -> None:
    add_version(
        hub,
        "zahlungen",
        "SELECT range AS vorgang, CASE WHEN range IN (3, 7) THEN 'Lastschrift auf "
        f"{IBAN} umgestellt' ELSE 'ok' END AS status FROM range(10)",
        roles={"status": "public_key"},
    )
    reason = _refusal(hub, "zahlungen")
    assert "Column 'status' (public_key): iban found in 2 row(s), e.g. rows 4, 8" in reason
    assert IBAN not in reason
    with hub.session() as session:
        version = get_version(session, get_dataset(session, "zahlungen"))
        report = stored_report(session, version)
    assert report is not None
    assert IBAN not in str(report)


def test_roles_are_validated_and_nothing_changes_on_a_bad_one(hub: Hub) -> None:
    add_version(hub, "luft", SENSOR_SQL)
    with hub.session() as session, pytest.raises(InputError) as caught:
        set_roles(
            session,
            get_dataset(session, "luft"),
            {"pm10": "sensitive", "zeit": "geheim"},
            actor="t",
        )
    assert "'zeit'" in caught.value.message
    assert "direct_id" in caught.value.message
    assert evaluate_version(hub, "luft").passed


def test_street_aggregate_with_a_cell_of_two_households_fails(hub: Hub) -> None:
    add_version(
        hub,
        "strassen",
        "SELECT * FROM (VALUES ('Bahnhofstraße', 30, 81000.0), ('Am Lindenplatz', 2, 5400.0), "
        "('Schulweg', 12, 30000.0)) t(strassenabschnitt, haushalte, verbrauch_kwh)",
        roles={"strassenabschnitt": "public_key"},
    )
    verdict = evaluate_version(hub, "strassen")
    assert not verdict.passed
    assert verdict.report["smallest_group"] == 2
    assert any(
        "1 row(s) stand for fewer than k=5 contributors, e.g. rows 2" in r for r in verdict.reasons
    )


def test_a_dataset_may_raise_k_above_the_floor(hub: Hub) -> None:
    add_version(hub, "verbrauch", DISTRICT_SQL)
    assert evaluate_version(hub, "verbrauch").passed
    with hub.session() as session:
        dataset = get_dataset(session, "verbrauch")
        dataset.extra = {**dataset.extra, "min_group_size": 1000}
    verdict = evaluate_version(hub, "verbrauch")
    assert verdict.report["k"] == 1000
    assert not verdict.passed


def test_published_figures_without_a_contributor_count_are_refused(hub: Hub) -> None:
    add_version(
        hub,
        "bezirke",
        "SELECT * FROM (VALUES ('Wanne', 12, 10.0), ('Eickel', NULL, 7.5)) "
        "t(bezirk, haushalte, kwh)",
    )
    verdict = evaluate_version(hub, "bezirke")
    assert any("group size of those figures is unknown" in r for r in verdict.reasons)


def test_microdata_quasi_identifiers_need_k_anonymity(hub: Hub) -> None:
    add_version(
        hub,
        "befragung",
        "SELECT CASE WHEN range = 0 THEN '44623' ELSE '44625' END AS plz, "
        "range % 3 AS antwort FROM range(40)",
    )
    verdict = evaluate_version(hub, "befragung")
    assert verdict.report["columns"][0]["role"] == "quasi_id"
    assert verdict.report["smallest_group"] == 1
    assert any("single out 1 group(s) of fewer than k=5 rows" in r for r in verdict.reasons)


def test_keyed_hashes_are_never_published_whatever_the_role(hub: Hub) -> None:
    add_version(
        hub,
        "joins",
        "SELECT sha256('kunde' || range) AS schluessel, range AS wert FROM range(60)",
        roles={"schluessel": "public_key"},
    )
    reason = _refusal(hub, "joins")
    assert "keyed_hash found in 60 row(s)" in reason


def test_addresses_of_public_places_may_be_a_public_key(hub: Hub) -> None:
    sql = (
        "SELECT * FROM (VALUES ('Parkhaus City', 'Bahnhofstraße 12', 300), "
        "('Parkhaus Markt', 'Marktplatz 3', 120)) t(parkhaus, lage, plaetze)"
    )
    add_version(hub, "parken", sql, roles={"lage": "quasi_id"})
    assert "street_address found" in _refusal(hub, "parken")
    confirm_roles(hub, "parken", {"lage": "public_key", "parkhaus": "public_key"})
    verdict = evaluate_version(hub, "parken")
    assert verdict.passed, verdict.reasons
    assert any("addresses of public places" in n for n in verdict.report["notes"])


def test_the_report_is_stored_with_the_version_at_ingest(hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text(f"kunde;iban\nA;{IBAN}\nB;{IBAN}\n", encoding="utf-8")
    info = ingest_file(hub, path, dataset="kunden", actor="test")
    with hub.session() as session:
        report = stored_report(session, get_version(session, get_dataset(session, "kunden")))
    assert report is not None
    assert report["version"] == info.number
    assert report["passed"] is False
    iban = next(c for c in report["columns"] if c["name"] == "iban")
    assert iban["proposed_role"] == "direct_id"
    assert iban["hits"][0] == {"entity": "iban", "count": 2, "rows": [1, 2]}
    assert report["source"]["sha256"] == sha256_file(path)
    assert set(report["tools"]) >= {"datenschatz", "duckdb", "python-stdnum", "phonenumbers"}


def test_treated_output_passes_with_its_treatment_section_and_the_raw_input_never(
    hub: Hub,
) -> None:
    from datenschatz.privacy.treatments import apply_treatments, parse_spec

    corpus = Path(__file__).parent / "corpus" / "kundenstamm_cp1252.csv"
    ingest_file(hub, corpus, dataset="kunden", actor="test")
    confirm_roles(hub, "kunden")
    spec = parse_spec(
        {
            "population": "stadtwerke-kunden",
            "treatments": [
                {"generalize": {"column": "PLZ", "to": "district", "as": "Stadtbezirk"}},
                {
                    "aggregate": {
                        "group_by": ["Stadtbezirk"],
                        "contributor": "Kundennummer",
                        "sum": ["Jahresverbrauch kWh"],
                    }
                },
            ],
        }
    )
    treated = apply_treatments(hub, "kunden", raw_version=1, spec=spec, actor="test")
    raw = evaluate_version(hub, "kunden", 1)
    assert any("raw input of a declared treatment" in r for r in raw.reasons)
    verdict = evaluate_version(hub, "kunden", treated.number)
    assert verdict.passed, verdict.reasons
    report = verdict.report
    assert report["treatments"]["raw_version"] == 1
    assert report["smallest_group"] >= 5
    assert report["smallest_group_basis"] in ("contributor_count", "treatment")
    assert publish(hub, "kunden", treated.number, actor="test").published


def test_role_changes_are_audited_without_values(hub: Hub) -> None:
    from sqlalchemy import select

    from datenschatz.catalog.datasets import get_dataset
    from datenschatz.db.governance_models import AuditEvent
    from datenschatz.governance import audit
    from datenschatz.privacy.roles import set_roles

    add_version(hub, "rollen", "SELECT 'Erika Mustermann' AS kunde, 3.5 AS kwh")
    with hub.session() as session:
        set_roles(session, get_dataset(session, "rollen"), {"kunde": "direct_id"}, actor="anna")
    with hub.session() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.like("privacy.roles%"))
            .order_by(AuditEvent.seq)
        ).all()
        assert [(e.action, e.actor, e.object_id) for e in events][-1] == (
            "privacy.roles",
            "anna",
            "rollen",
        )
        assert events[-1].details["roles"] == [{"column": "kunde", "role": "direct_id"}]
        assert any(e.action == "privacy.roles.accept_proposed" for e in events)
        assert all("Mustermann" not in str(e.details) for e in events)
        assert audit.verify(session).ok
