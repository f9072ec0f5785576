"""Corpus: every personal-data file is refused raw and after accepting the proposed roles,
and passes the gate once the right treatments are declared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.privacy.ledger import treatment_run_for
from datenschatz.privacy.roles import accept_proposed, set_roles
from datenschatz.privacy.treatments import apply_treatments, parse_spec
from datenschatz.services.publish import publish

CORPUS = Path(__file__).parent / "corpus"

TREATMENTS: dict[str, dict[str, Any]] = {
    "kundenstamm_cp1252.csv": {
        "population": "stadtwerke-kunden",
        "treatments": [
            {"generalize": {"column": "PLZ", "to": "district", "as": "Stadtbezirk"}},
            {
                "aggregate": {
                    "group_by": ["Stadtbezirk"],
                    "contributor": "Kundennummer",
                    "sum": ["Jahresverbrauch kWh"],
                    "mean": ["Abschlag EUR"],
                }
            },
        ],
    },
    "buergeranliegen.csv": {
        "treatments": [
            {"drop": ["Anliegen"]},
            {"aggregate": {"group_by": ["Stadtbezirk"], "contributor": "Vorgang"}},
        ],
    },
    "lastgang_15min.csv": {
        "treatments": [
            {"drop": ["Marktlokation"]},
            {
                "aggregate": {
                    "group_by": ["Zeit"],
                    "contributor": "Messlokation",
                    "sum": ["kWh"],
                }
            },
        ],
    },
    "zahlungen_kommentar.csv": {
        "treatments": [
            {"drop": ["Kommentar"]},
            {"generalize": {"column": "Datum", "to": "month"}},
            {"aggregate": {"group_by": ["Datum"], "contributor": "Vorgang", "sum": ["Betrag"]}},
        ],
    },
    "strassen_verbrauch.csv": {
        "treatments": [
            {
                "aggregate": {
                    "group_by": ["Stadtbezirk", "Straße"],
                    "contributor_count": "Haushalte",
                    "sum": ["Verbrauch kWh"],
                }
            }
        ],
    },
}


@pytest.mark.parametrize("name", sorted(TREATMENTS))
def test_corpus_file_passes_the_gate_only_after_its_treatments(sqlite_hub: Hub, name: str) -> None:
    hub = sqlite_hub
    slug = name.split(".")[0].replace("_", "-")
    raw = ingest_file(hub, CORPUS / name, dataset=slug)
    columns = [f["name"] for f in raw.table_schema["fields"]]
    with pytest.raises(CheckFailed):
        publish(hub, slug, raw.number, actor="test")
    with hub.session() as session:
        accept_proposed(session, get_dataset(session, slug), columns, actor="test")
    with pytest.raises(CheckFailed):
        publish(hub, slug, raw.number, actor="test")

    info = apply_treatments(
        hub, slug, raw_version=raw.number, spec=parse_spec(TREATMENTS[name]), actor="test"
    )
    published = publish(hub, slug, info.number, actor="test")
    assert published.published
    with pytest.raises(CheckFailed, match="raw input of a declared treatment"):
        publish(hub, slug, raw.number, actor="test")
    with hub.session() as session:
        version = get_version(session, get_dataset(session, slug), info.number)
        report = treatment_run_for(session, version.id)
    assert report is not None
    assert report["smallest_group"] is None or report["smallest_group"] >= 5


def test_the_cell_of_two_households_is_suppressed(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    raw = ingest_file(hub, CORPUS / "strassen_verbrauch.csv", dataset="strassen")
    with hub.session() as session:
        set_roles(
            session,
            get_dataset(session, "strassen"),
            {
                "Straße": "quasi_id",
                "Stadtbezirk": "public_key",
                "Haushalte": "contributor_count",
                "Verbrauch kWh": "measure",
            },
            actor="test",
        )
    with pytest.raises(CheckFailed, match="fewer than k=5 contributors"):
        publish(hub, "strassen", raw.number, actor="test")
    spec = parse_spec(TREATMENTS["strassen_verbrauch.csv"])
    info = apply_treatments(hub, "strassen", raw_version=raw.number, spec=spec, actor="test")
    assert info.rows == raw.rows - 1
    assert publish(hub, "strassen", info.number, actor="test").published
