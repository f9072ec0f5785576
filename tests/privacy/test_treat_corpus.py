"""Corpus: the street aggregate with a cell of 2 households passes the gate once treated."""

from __future__ import annotations

from pathlib import Path

import pytest

from datenschatz.catalog.datasets import get_dataset
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.privacy.roles import set_roles
from datenschatz.privacy.treatments import apply_treatments, parse_spec
from datenschatz.services.publish import publish

CORPUS = Path(__file__).parent / "corpus"


def test_street_aggregate_with_a_cell_of_two_households(sqlite_hub: Hub) -> None:
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
    with pytest.raises(CheckFailed):
        publish(hub, "strassen", 1, actor="test")
    spec = parse_spec(
        {
            "treatments": [
                {
                    "aggregate": {
                        "group_by": ["Stadtbezirk", "Straße"],
                        "contributor_count": "Haushalte",
                        "sum": ["Verbrauch kWh"],
                    }
                }
            ]
        }
    )
    info = apply_treatments(hub, "strassen", raw_version=1, spec=spec, actor="test")
    assert 1 <= info.rows < raw.rows  # the cell of 2 households is suppressed
    published = publish(hub, "strassen", info.number, actor="test")
    assert published.published
