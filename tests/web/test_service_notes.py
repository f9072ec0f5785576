"""Release checks, privacy findings, quality warnings and role proposals in the page's language.

The services write these texts in English and store a code per sentence beside them; the
steward's manage page and the board's review page show them in German on German pages. Every
code the source produces has its text in both catalogs, with the values its sentence names;
texts stored before codes existed (or without a text for their code) stay English.
"""

from __future__ import annotations

import ast
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datenschatz.catalog.metadata import update_metadata
from datenschatz.errors import CheckFailed
from datenschatz.governance.releases import request_release
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.privacy import detect_names, detect_values
from datenschatz.privacy.roles import REASONS, propose_role, reason_code
from datenschatz.services import publish
from datenschatz.store.duck import sql_string
from datenschatz.web import service_notes
from datenschatz.web.error_text import placeholders
from datenschatz.web.i18n import LANGUAGES, catalog
from tests.conftest import make_hub
from tests.governance.release_builders import who
from tests.helpers import add_version, confirm_roles
from tests.web.builders import ADMIN, build
from tests.web.form_helpers import person, signed_in

SRC = Path(__file__).resolve().parents[2] / "src" / "datenschatz"
# Codes made by an expression rather than a literal, with the values the expression takes.
DYNAMIC_CODES = {"decimal_comma", "decimal_point"}  # ingest/infer.py: "decimal_" + sep
# English words of service sentences; a German page shows none of them outside user data.
ENGLISH = re.compile(
    r"\b(the|has|have|was|were|is|are|not|with|of|by|found|rows?|column|missing|"
    r"suggests|values?|contains?|published|admin|decided)\b",
    re.IGNORECASE,
)
PARKING_METADATA = {
    "description": "Parkplätze der Stadt.",
    "licence": "dl-by-de/2.0",
    "contact": {"name": "Stadt Herne", "email": "geodaten@herne.example"},
}
CSV = "plz;wert\n01234;1\n44623;2\n44625;drei\n44627;4\n44628;5\n"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The web tests' catalog, plus a Shapefile upload with warnings, a CSV with columns kept
    as text, and personal data whose release the automatic checks refused."""
    directory = tmp_path_factory.mktemp("notes")
    made = build(make_hub(directory / "data", f"sqlite:///{directory / 'db.sqlite3'}"))
    con = made.duckdb()
    try:
        folder = directory / "shp"
        folder.mkdir()
        for name in ("parkplaetze", "reserve"):
            target = sql_string(str(folder / f"{name}.shp"))
            con.execute(
                "COPY (SELECT 'Rathaus' AS name, 120 AS places, ST_Point(7.2197, 51.5389) AS geom) "
                f"TO {target} (FORMAT GDAL, DRIVER 'ESRI Shapefile')"
            )
    finally:
        con.close()
    archive = directory / "parkplaetze.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix != ".prj":
                zf.write(part, f"daten/{part.name}")
    ingest_file(made, archive, dataset="parkplaetze", org="stadt-herne")
    confirm_roles(made, "parkplaetze")
    with made.session() as session:
        update_metadata(session, ADMIN, "parkplaetze", PARKING_METADATA)
    table = directory / "messstellen.csv"
    table.write_text(CSV, encoding="utf-8")
    ingest_file(made, table, dataset="messstellen", org="stadt-herne")
    person(made, "stella", "steward", org="stadt-herne")
    person(made, "rita", "reviewer", reviewer_kind="data_protection_officer")
    add_version(
        made,
        "kundendaten",
        "SELECT 'max.muster@example.org' AS email, range AS verbrauch FROM range(8)",
        org="stadt-herne",
        accept_proposed=False,
    )
    with pytest.raises(CheckFailed):
        request_release(
            made, who(made, "stella"), "kundendaten", purpose="Verbrauch", level="public"
        )
    stella = who(made, "stella")
    request_release(made, stella, "parkplaetze", purpose="Parkraum", level="public")
    yield made
    made.engine.dispose()


@pytest.fixture(scope="module")
def steward(hub: Hub) -> TestClient:
    return signed_in(hub, "stella")


@pytest.fixture(scope="module")
def board(hub: Hub) -> TestClient:
    return signed_in(hub, "rita")


def _visible(html: str) -> str:
    """The page's text: without scripts, the DCAT vocabulary's option labels and code."""
    html = re.sub(r"<(script|option|code)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section id="{name}".*?</section>', html, flags=re.DOTALL)
    assert found, name
    return _visible(found.group(0))


def _release_id(hub: Hub, slug: str) -> int:
    from sqlalchemy import select

    from datenschatz.db.governance_release_models import ReleaseRequest
    from datenschatz.db.models import Dataset

    with hub.session() as session:
        found = session.scalar(
            select(ReleaseRequest.id)
            .join(Dataset, Dataset.id == ReleaseRequest.dataset_id)
            .where(Dataset.slug == slug)
        )
    assert found is not None
    return found


def test_refused_release_checks_and_privacy_findings_are_german(steward: TestClient) -> None:
    page = steward.get("/web/datasets/kundendaten/manage")
    assert page.status_code == 200
    releases = _section(page.text, "releases")
    assert "✘ Datenschutz: Die Datenschutzprüfung hat 2 offene Befunde:" in releases
    assert (
        "Die Spalte „email“ hat keine bestätigte Rolle (Vorschlag: Direkt identifizierend "
        "(nie veröffentlicht)); legen Sie eine unter „Spaltenrollen“ fest." in releases
    )
    assert "Pflichtangaben nach DCAT-AP.de: Es fehlen: Beschreibung, Kontaktstelle." in releases
    assert "has no confirmed role" not in page.text
    roles = _section(page.text, "roles")
    assert "der Name deutet auf „E-Mail-Adresse“ hin" in roles
    assert "ein Zahlenwert" in roles
    english = steward.get("/web/datasets/kundendaten/manage?lang=en").text
    steward.cookies.delete("lang")
    assert "✘ Privacy: The privacy gate has 2 open findings:" in _section(english, "releases")
    assert "the name suggests “e-mail address”" in _section(english, "roles")


def test_quality_warnings_and_column_notes_are_german(steward: TestClient) -> None:
    quality = _section(steward.get("/web/datasets/parkplaetze/manage").text, "quality")
    assert (
        "Das Archiv enthält 2 Shapefiles; gelesen wurde nur daten/parkplaetze.shp, "
        "nicht: daten/reserve.shp." in quality
    )
    assert "Die Datei nennt kein Koordinatenreferenzsystem." in quality
    assert "The archive holds" not in quality
    notes = _section(steward.get("/web/datasets/messstellen/manage").text, "quality")
    assert (
        "als Text behalten: 1 von 5 Werten hat führende Nullen, die ein Zahlentyp entfernen "
        "würde" in notes
    )
    assert "als Text behalten: 1 von 5 Werten ist keine gültige Angabe vom Typ „Zahl“; Zeile 4" in (
        notes
    )
    assert "kept as text" not in notes


def test_the_review_page_shows_checks_and_findings_in_german(board: TestClient, hub: Hub) -> None:
    pending = board.get(f"/web/board/{_release_id(hub, 'parkplaetze')}")
    assert pending.status_code == 200
    text = _visible(pending.text)
    assert "✔ Pflichtangaben nach DCAT-AP.de" in text
    assert "✔ Datenschutz" in text
    assert "Das Archiv enthält 2 Shapefiles" in text
    assert "The archive holds" not in text
    person(hub, "anna", "admin")
    admin = signed_in(hub, "anna")
    refused = admin.get(f"/web/board/{_release_id(hub, 'kundendaten')}")
    assert refused.status_code == 200
    text = _visible(refused.text)
    assert "✘ Datenschutz: Die Datenschutzprüfung hat 2 offene Befunde:" in text
    # the privacy report of the version: its findings and the detector's hits per column
    assert (
        text.count("Die Spalte „verbrauch“ hat keine bestätigte Rolle (Vorschlag: Messwerte") == 2
    )
    assert "E-Mail-Adresse" in text
    english = admin.get(f"/web/board/{_release_id(hub, 'kundendaten')}?lang=en").text
    assert "Column “verbrauch” has no confirmed role (proposed: Measurements" in english


def test_german_manage_and_review_pages_show_no_english_service_sentence(
    hub: Hub, steward: TestClient, board: TestClient
) -> None:
    from datenschatz.db.governance_release_models import ReleaseRequest

    admin = "notes-admin"
    person(hub, admin, "admin")
    client = signed_in(hub, admin)
    pages = [
        f"/web/datasets/{slug}/manage"
        for slug in ("luftmessung", "orte", "kundendaten", "parkplaetze", "messstellen")
    ]
    with hub.session() as session:
        pages += [f"/web/board/{r.id}" for r in session.query(ReleaseRequest).limit(4)]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        # the parts the services write: quality, roles, releases (and the review's sections)
        main = _visible(page.text.split('<section id="quality"', 1)[-1].split("<footer", 1)[0])
        for user_data in ("Verbrauch", "test.sql", "Rathaus", "notes-admin"):
            main = main.replace(user_data, "")
        english = sorted({m.group(0).lower() for m in ENGLISH.finditer(main)})
        assert english == [], (url, english, main[:3000])


# --- every code has its texts -----------------------------------------------------------------


def _coded_calls() -> list[tuple[str, str, set[str]]]:
    """(where, code, value names) of every ``coded(text, code, **values)`` in the source."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "coded"
                and len(node.args) == 2
            ):
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            code = node.args[1]
            names = {k.arg for k in node.keywords if k.arg}
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.append((where, code.value, names))
            elif isinstance(code, ast.IfExp):
                for branch in (code.body, code.orelse):
                    assert isinstance(branch, ast.Constant), where
                    found.append((where, str(branch.value), names))
            elif where.startswith("privacy/roles.py"):
                continue  # a proposal's reason, by the codes of REASONS: note.proposal.*
            else:
                assert where.startswith("ingest/infer.py"), f"{where}: list the code's values"
                found += [(where, c, names) for c in sorted(DYNAMIC_CODES)]
    return found


def test_every_code_in_the_source_has_a_text_with_its_values_in_both_catalogs() -> None:
    calls = _coded_calls()
    assert len({code for _, code, _ in calls}) >= 35  # the scan finds the producers
    for where, code, names in calls:
        for lang in LANGUAGES:
            texts = catalog(lang)
            for key in (f"note.{code}", f"note.{code}.one"):
                if key == f"note.{code}.one" and key not in texts:
                    continue
                assert key in texts, f"{where}: {key} missing in {lang}"
                unknown = placeholders(texts[key]) - names
                assert not unknown, f"{where}: {key} ({lang}) needs {unknown}"


def test_every_proposal_reason_check_and_entity_has_a_text() -> None:
    entities = {e.name for e in detect_values.ENTITIES} | set(detect_values.NOT_PERSONAL)
    entities |= {r.entity for r in detect_names.NAME_RULES}
    checks = {c.__name__.removeprefix("check_") for c in publish.CHECKS}
    checks = {"store" if c == "file_intact" else c for c in checks} | {"metadata_complete", "level"}
    for lang in LANGUAGES:
        texts = catalog(lang)
        for code, english in REASONS.items():
            assert placeholders(texts[f"note.proposal.{code}"]) == placeholders(english)
        assert {e for e in entities if f"note.entity.{e}" not in texts} == set()
        assert {c for c in checks if f"note.check.{c}" not in texts} == set()


def test_a_proposal_reason_is_read_back_from_its_stored_text() -> None:
    proposal = propose_role("info", "string", ["email", "iban"])
    assert str(proposal.reason) == "values contain email, iban"
    assert reason_code(str(proposal.reason)) == {
        "code": "values_contain",
        "params": {"entities": "email, iban"},
    }
    assert service_notes.proposal_reason(str(proposal.reason), "de") == (
        "die Werte enthalten: E-Mail-Adresse, IBAN"
    )
    assert reason_code("name suggests the key of a thing or place") == {
        "code": "thing_key",
        "params": {},
    }
    assert service_notes.proposal_reason("a reason from elsewhere", "de") == (
        "a reason from elsewhere"
    )


def test_texts_stored_without_codes_stay_english() -> None:
    older: dict[str, Any] = {
        "warnings": ["The layer has no geometry; it was read as a plain table."]
    }
    assert service_notes.quality_warnings(older, "de") == older["warnings"]
    check = {"check": "privacy", "passed": False, "reason": "Privacy gate: something."}
    assert service_notes.check_reason(check, "de") == "Privacy gate: something."
    assert service_notes.check_label("privacy", "de") == "Datenschutz"
    # one sentence without a text: the whole reason stays English, not half translated
    mixed = {
        "reason": "Privacy gate: A. B.",
        "reason_codes": [
            {"code": "privacy_refused", "params": {"count": 2}},
            {"code": "no_such_code", "params": {}},
        ],
    }
    assert service_notes.check_reason(mixed, "de") == "Privacy gate: A. B."
    report = {
        "reasons": ["Column 'x' has no confirmed role; set one with `datenschatz privacy roles`."],
        "reason_codes": [{"code": "no_role", "params": {"column": "x"}}],
        "notes": ["old note"],
    }
    assert service_notes.privacy_reasons(report, "de") == [
        "Die Spalte „x“ hat keine bestätigte Rolle; legen Sie eine unter „Spaltenrollen“ fest."
    ]
    assert service_notes.privacy_notes(report, "de") == ["old note"]


def test_counts_of_one_and_numbers_read_right_in_german() -> None:
    one = {"code": "geometries_repaired", "params": {"count": 1}}
    many = {"code": "geometries_repaired", "params": {"count": 12345}}
    assert service_notes.note("x", one, "de") == (
        "1 ungültige Geometrie wurde mit ST_MakeValid repariert (make_valid)."
    )
    assert service_notes.note("x", many, "de").startswith("12\u202f345 ungültige Geometrien")
    assert service_notes.note("x", many, "en").startswith("12,345 invalid geometries")
    lines = {"count": 1234, "total": 5000, "what": "number", "unit": "line", "lines": [7, 1200]}
    invalid = {"code": "invalid", "params": {**lines, "more": True}}
    assert service_notes.note("x", invalid, "de") == (
        "als Text behalten: 1\u202f234 von 5\u202f000 Werten sind keine gültige Angabe vom Typ "
        "„Zahl“; Zeilen 7, 1\u202f200, …"
    )
    assert service_notes.note("x", invalid, "en") == (
        "kept as text: 1,234 values of 5,000 are not a valid number; lines 7, 1,200, …"
    )
