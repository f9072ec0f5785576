"""The corpus of personal-data files is refused as it is and after ``--accept-proposed``.

(P2's ``test_treat_corpus.py`` shows the same files pass once the right treatments are
declared.) The refusal names columns, entity types and rows, never a value of the file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.privacy.gate import evaluate_version
from datenschatz.services.publish import publish
from tests.helpers import confirm_roles

CORPUS = Path(__file__).parent / "corpus"
# file -> (encoding, what the refusal must name)
FILES = {
    "kundenstamm_cp1252.csv": (
        "cp1252",
        ["'IBAN' is direct_id", "'E-Mail' is direct_id", "'Vorname' is direct_id"],
    ),
    "buergeranliegen.csv": ("utf-8", ["'Anliegen' is free_text"]),
    "lastgang_15min.csv": (
        "utf-8",
        ["'Messlokation' is direct_id", "'Marktlokation' is direct_id"],
    ),
    "zahlungen_kommentar.csv": ("utf-8", ["'Kommentar' is free_text"]),
    "strassen_verbrauch.csv": ("utf-8", ["stand for fewer than k=5 contributors, e.g. rows 5"]),
}


def _values(name: str, encoding: str) -> set[str]:
    """Every cell (and every longer word of it) of a corpus file."""
    text = (CORPUS / name).read_text(encoding=encoding)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    found: set[str] = set()
    for row in rows[1:]:
        for cell in row:
            if len(cell) >= 6:
                found.add(cell)
            found.update(w.strip(".,;:") for w in cell.split() if len(w.strip(".,;:")) >= 8)
    return found


def _refusal(hub: Hub, slug: str) -> str:
    with pytest.raises(CheckFailed) as caught:
        publish(hub, slug, actor="test")
    return str(caught.value.message)


@pytest.mark.parametrize("name", sorted(FILES))
def test_corpus_file_is_refused_as_it_is_and_after_accepting_proposals(hub: Hub, name: str) -> None:
    encoding, expected = FILES[name]
    slug = name.split(".")[0].replace("_", "-")
    ingest_file(hub, CORPUS / name, dataset=slug, actor="test")

    before = _refusal(hub, slug)
    assert "has no confirmed role" in before

    if name == "strassen_verbrauch.csv":
        # The street names are no identifiers here; the cell of 2 households is the problem.
        confirm_roles(hub, slug, {"Straße": "public_key"})
    else:
        confirm_roles(hub, slug)
    after = _refusal(hub, slug)
    assert "has no confirmed role" not in after
    for phrase in expected:
        assert phrase in after
    report = evaluate_version(hub, slug).report
    assert report["passed"] is False
    shown = after + str(report)
    leaked = [v for v in _values(name, encoding) if v in shown]
    # Column names and district names are no personal values; everything else must not show.
    assert set(leaked) <= {"Herne-Mitte", "Stadtbezirk", "Eickel", "Sodingen", "Vorgang"}, leaked


def test_the_hidden_comment_column_is_found_even_when_declared_a_category(hub: Hub) -> None:
    ingest_file(hub, CORPUS / "zahlungen_kommentar.csv", dataset="zahlungen", actor="test")
    confirm_roles(hub, "zahlungen", {"Kommentar": "public_key"})
    reasons = " ".join(evaluate_version(hub, "zahlungen").reasons)
    for entity in ("email", "iban", "vat_id", "phone"):
        assert f"Column 'Kommentar' (public_key): {entity} found in" in reasons
