"""Detectors: what they find in values and names, what they must not find, and how fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from datenschatz.config import Settings
from datenschatz.hub import Hub
from datenschatz.privacy.detect_names import name_rule
from datenschatz.privacy.detect_values import NOT_PERSONAL, load_names, malo_check_digit
from datenschatz.privacy.detectors import scan_file, scan_parquet
from datenschatz.privacy.roles import ColumnRole, propose_role
from datenschatz.store import duck
from tests.conftest import SHARED

DEMO_FILES = Path(__file__).resolve().parents[2] / "src" / "datenschatz" / "demo" / "files"
CLEAN_SUFFIXES = (".csv", ".json", ".geojson")
# Measured (docs/privacy.md): 2 of 102 columns, 24 of 235,252 cells on the clean files: the
# addresses of Dortmund's public car parks, in the demo copy and in ../shared/.
MAX_FALSE_COLUMN_SHARE = 0.03
MAX_FALSE_CELL_SHARE = 0.0005


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub(Settings(data_dir=tmp_path / "data"))


def _scan_sql(tmp_path: Path, select_sql: str) -> dict[str, dict[str, list[int]]]:
    path = tmp_path / "t.parquet"
    con = duck.cursor()
    try:
        con.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT parquet)")
        table = scan_parquet(con, path)
    finally:
        con.close()
    return {c.name: {e: h.rows for e, h in c.hits.items()} for c in table.columns}


def _cells(values: list[str]) -> str:
    quoted = ", ".join("('" + v.replace("'", "''") + "')" for v in values)
    return f"SELECT * FROM (VALUES {quoted}) t(wert)"


@pytest.mark.parametrize(
    ("entity", "value"),
    [
        ("iban", "DE89 3704 0044 0532 0130 00"),
        ("iban", "Überweisung an DE89370400440532013000 erfolgt"),
        ("email", "bitte an anna.meyer@example.org antworten"),
        ("phone", "Rückruf unter 0231 / 123 4567 erbeten"),
        ("phone", "+49 30 12345678"),
        ("vat_id", "USt-IdNr. DE136695976"),
        ("tax_id", "Steuer-ID 36574261809"),
        ("tax_number", "St.-Nr. 181/815/08155"),
        ("melo", "DE0005624462300000000000000012345"),
        ("malo", "Marktlokation 41373559241"),
        ("street_address", "wohnhaft Bahnhofstraße 12a"),
        ("postcode_city", "44623 Herne"),
        ("car_plate", "Kennzeichen HER-AB 123"),
        ("date_of_birth", "Peter Weber, geb. 22.01.1980"),
        ("person_name", "Gespräch mit Frau Schulte"),
        ("person_name", "Anna Müller hat angerufen"),
        ("keyed_hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    ],
)
def test_value_detectors_find_the_entity_and_its_row(
    tmp_path: Path, entity: str, value: str
) -> None:
    hits = _scan_sql(tmp_path, _cells(["nichts", value, "auch nichts"]))["wert"]
    assert hits.get(entity) == [2]


def test_a_repeated_value_counts_once_per_cell(tmp_path: Path) -> None:
    """The prefilter runs over distinct values; counts and rows still speak of cells."""
    email = "anna.schulte@example.org"
    path = tmp_path / "t.parquet"
    con = duck.cursor()
    try:
        con.execute(
            f"COPY (SELECT CASE WHEN range % 10 = 3 THEN '{email}' ELSE 'Herne' END AS wert "
            f"FROM range(1000)) TO '{path}' (FORMAT parquet)"
        )
        column = scan_parquet(con, path).column("wert")
    finally:
        con.close()
    assert column is not None
    assert column.non_null == 1000
    assert column.distinct_ratio == 0.002
    hit = column.hits["email"]
    assert hit.count == 100
    assert hit.rows == [4, 14, 24, 34, 44]


@pytest.mark.parametrize(
    "value",
    [
        "DE89 3704 0044 0532 0130 01",  # IBAN with a wrong check digit
        "05916000",  # an AGS, not a phone number
        "2024-03-01 12:15",
        "PM10 über 50 µg/m³",
        "Herne-Mitte",
        "Kreis Recklinghausen",
        "HER-0417",
        "41373559242",  # MaLo with a wrong check digit
    ],
)
def test_clean_values_are_not_flagged(tmp_path: Path, value: str) -> None:
    hits = _scan_sql(tmp_path, _cells([value] * 3))["wert"]
    assert {e for e in hits if e not in NOT_PERSONAL} == set()


def test_malo_check_digit() -> None:
    assert malo_check_digit("4137355924") == 1


def test_unique_codes_look_like_identifiers_but_unique_words_do_not(tmp_path: Path) -> None:
    found = _scan_sql(
        tmp_path,
        "SELECT 'K-' || (100000 + range) AS code, "
        "'Ort ' || chr(CAST(65 + range % 26 AS INTEGER)) "
        "|| chr(CAST(65 + range // 26 % 26 AS INTEGER)) AS ort FROM range(200)",
    )
    assert "unique" in found["code"]
    assert "unique" not in found["ort"]


def test_birth_dates_count_only_in_tables_with_personal_data(tmp_path: Path) -> None:
    born = "CAST(DATE '1950-01-01' + INTERVAL (range * 97) DAY AS DATE)"
    clean = _scan_sql(tmp_path, f"SELECT {born} AS tag FROM range(100)")
    assert clean["tag"] == {}
    personal = _scan_sql(
        tmp_path,
        f"SELECT {born} AS tag, 'x' || range || '@example.org' AS kontakt FROM range(100)",
    )
    assert "date_of_birth" in personal["tag"]


def test_the_names_file_is_configurable(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("# eigene Liste\nHeribert\nSchwanitz\n", encoding="utf-8")
    assert load_names(names) == frozenset({"Heribert", "Schwanitz"})
    path = tmp_path / "t.parquet"
    con = duck.cursor()
    try:
        con.execute(
            f"COPY (SELECT 'Termin mit Heribert Schwanitz' AS notiz) TO '{path}' (FORMAT parquet)"
        )
        assert "person_name" in scan_parquet(con, path, load_names(names)).columns[0].hits
        assert "person_name" not in scan_parquet(con, path).columns[0].hits
    finally:
        con.close()


@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("Kunde", ColumnRole.DIRECT_ID),
        ("Vorname", ColumnRole.DIRECT_ID),
        ("Nachname", ColumnRole.DIRECT_ID),
        ("Straße", ColumnRole.DIRECT_ID),
        ("Strasse", ColumnRole.DIRECT_ID),
        ("Hausnr", ColumnRole.DIRECT_ID),
        ("IBAN", ColumnRole.DIRECT_ID),
        ("Zählpunkt", ColumnRole.DIRECT_ID),
        ("MaLo-ID", ColumnRole.DIRECT_ID),
        ("MeLo", ColumnRole.DIRECT_ID),
        ("Tel", ColumnRole.DIRECT_ID),
        ("E-Mail", ColumnRole.DIRECT_ID),
        ("Geburtsdatum", ColumnRole.DIRECT_ID),
        ("Bemerkung", ColumnRole.FREE_TEXT),
        ("PLZ", ColumnRole.QUASI_ID),
        ("Anzahl Haushalte", ColumnRole.CONTRIBUTOR_COUNT),
        ("Kundengruppe", ColumnRole.PUBLIC_KEY),
    ],
)
def test_column_names_propose_roles(column: str, role: ColumnRole) -> None:
    field_type = "integer" if role is ColumnRole.CONTRIBUTOR_COUNT else "string"
    assert propose_role(column, field_type).role is role
    assert name_rule(column) is not None


def test_a_name_column_is_a_person_only_in_a_personal_table() -> None:
    assert propose_role("name", "string").role is ColumnRole.PUBLIC_KEY
    assert propose_role("name", "string", personal_table=True).role is ColumnRole.DIRECT_ID


def _clean_files() -> list[Path]:
    files = sorted(p for p in DEMO_FILES.iterdir() if p.suffix in CLEAN_SUFFIXES)
    if SHARED.joinpath("data").is_dir():
        files += sorted(p for p in SHARED.joinpath("data").rglob("*") if p.suffix in CLEAN_SUFFIXES)
    return files


def test_false_positive_rate_on_clean_files_stays_below_the_recorded_bound(hub: Hub) -> None:
    columns = flagged_columns = cells = flagged_cells = 0
    for path in _clean_files():
        table = scan_file(hub, path)
        for column in table.columns:
            columns += 1
            cells += table.rows
            hits = [h for e, h in column.hits.items() if e not in NOT_PERSONAL]
            if hits:
                flagged_columns += 1
                flagged_cells += max(h.count for h in hits)
    assert columns >= 50
    assert flagged_columns / columns <= MAX_FALSE_COLUMN_SHARE
    assert flagged_cells / cells <= MAX_FALSE_CELL_SHARE


@pytest.mark.slow
def test_scanning_is_vectorized_not_row_by_row(tmp_path: Path) -> None:
    """200,000 rows of five text columns scan in about the time DuckDB needs to write them."""
    path = tmp_path / "big.parquet"
    con = duck.cursor()
    try:
        started = time.perf_counter()
        con.execute(
            f"""COPY (SELECT range AS id, 'HER-' || (range % 1500) AS station,
                    ['Herne-Mitte', 'Wanne', 'Eickel', 'Sodingen'][range % 4 + 1] AS bezirk,
                    CASE WHEN range % 4 = 0 THEN 'Zähler geprüft, Wert ' || range ELSE NULL END
                        AS bemerkung,
                    ['ok', 'check', 'fault'][range % 3 + 1] AS status,
                    'strom' AS medium, range * 0.5 AS wert
                FROM range(200000)) TO '{path}' (FORMAT parquet)"""
        )
        write = time.perf_counter() - started
        started = time.perf_counter()
        table = scan_parquet(con, path)
        took = time.perf_counter() - started
    finally:
        con.close()
    assert all(set(c.hits) <= NOT_PERSONAL for c in table.columns)
    assert took < max(10.0, 20 * write)


def test_a_column_named_file_row_number_still_gets_row_numbers(tmp_path: Path) -> None:
    found = _scan_sql(
        tmp_path,
        "SELECT range AS file_row_number, "
        "CASE WHEN range = 2 THEN 'an a.b@example.org' ELSE 'nichts' END AS info FROM range(4)",
    )
    assert found["info"] == {"email": [3]}
