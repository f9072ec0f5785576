"""Dataset metadata: validation, reading, changing, coverage and attribution."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from datenschatz.access.policy import ANONYMOUS, Principal, Role
from datenschatz.catalog import metadata
from datenschatz.catalog.metadata import (
    DatasetMetadata,
    attribution_text,
    dataset_group_slugs,
    licence_title,
    read_metadata,
    update_metadata,
)
from datenschatz.db.catalog_models import Group
from datenschatz.db.models import Dataset
from datenschatz.errors import InputError, NotFound, Unauthorized
from datenschatz.hub import Hub
from tests.catalog.publishing import publish_directly
from tests.helpers import add_version

STEWARD = Principal(name="admin", user_id=1, roles=frozenset({Role.ADMIN}))

COMPLETE: dict[str, Any] = {
    "title": "Luftmessstationen",
    "description": "Standorte der Luftmessstationen.",
    "title_en": "Air quality stations",
    "keywords": ["Luft", "Umwelt", "luft"],
    "themes": ["envi", "http://publications.europa.eu/resource/authority/data-theme/HEAL"],
    "licence": "dl-by-de/2.0",
    "contact": {"name": "Open-Data-Team", "email": "opendata@herne.example"},
    "contributor_id": "openNRW",
    "geocoding": ["05916000"],
    "accrual_periodicity": "monthly",
    "landing_page": "https://www.herne.de/luft",
    "issued": "2024-01-31",
}


def _dataset(hub: Hub, slug: str = "luft") -> None:
    add_version(hub, slug, "SELECT 1 AS a", org="stadt-herne")


def test_update_normalizes_and_reads_back(hub: Hub) -> None:
    _dataset(hub)
    with hub.session() as session:
        meta = update_metadata(session, STEWARD, "luft", COMPLETE)
    assert meta.keywords == ["Luft", "Umwelt"]
    assert meta.themes == ["ENVI", "HEAL"]
    assert meta.contributor_id == "http://dcat-ap.de/def/contributors/openNRW"
    assert meta.accrual_periodicity == "MONTHLY"
    assert meta.missing() == []
    with hub.session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.slug == "luft"))
        assert dataset is not None
        assert dataset.title == "Luftmessstationen"
        assert dataset.description == "Standorte der Luftmessstationen."
        assert dataset.extra["licence"] == "dl-by-de/2.0"
        assert "title" not in dataset.extra
        again = read_metadata(dataset)
    assert again.contact is not None
    assert again.contact.email == "opendata@herne.example"
    assert str(again.issued) == "2024-01-31"


def test_patch_keeps_other_fields_and_other_extra_keys(hub: Hub) -> None:
    _dataset(hub)
    with hub.session() as session:
        session.scalars(select(Dataset)).one().extra = {"source": "Amt 42"}
        update_metadata(session, STEWARD, "luft", COMPLETE)
        meta = update_metadata(session, STEWARD, "luft", {"keywords": ["Feinstaub"]})
        assert meta.themes == ["ENVI", "HEAL"]
        assert meta.keywords == ["Feinstaub"]
        assert session.scalars(select(Dataset)).one().extra["source"] == "Amt 42"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"licence": "cc-by-99"}, "licence"),
        ({"themes": ["UMWELT"]}, "themes"),
        ({"contact": {"name": "Team", "email": "not-an-address"}}, "contact.email"),
        ({"contact": {"name": "Team", "email": None}}, "contact"),
        ({"accrual_periodicity": "sometimes"}, "accrual_periodicity"),
        ({"geocoding": ["Herne"]}, "geocoding"),
        ({"landing_page": "ftp://x"}, "landing_page"),
        ({"contributor_id": "nobody"}, "contributor_id"),
        ({"colour": "blue"}, "colour"),
        ({"description": ""}, "description"),
        ({"temporal_start": "2020-01-01"}, "temporal_start"),
    ],
)
def test_wrong_values_name_the_field(sqlite_hub: Hub, changes: dict[str, Any], field: str) -> None:
    _dataset(sqlite_hub)
    with sqlite_hub.session() as session:
        update_metadata(session, STEWARD, "luft", COMPLETE)
    with sqlite_hub.session() as session, pytest.raises(InputError) as raised:
        update_metadata(session, STEWARD, "luft", changes)
    assert raised.value.details["field"] == field
    assert "not-an-address" not in raised.value.message  # no personal value echoed


def test_replace_requires_every_mandatory_field(sqlite_hub: Hub) -> None:
    _dataset(sqlite_hub)
    partial = {k: v for k, v in COMPLETE.items() if k != "contact"}
    with sqlite_hub.session() as session, pytest.raises(InputError) as raised:
        update_metadata(session, STEWARD, "luft", partial, replace=True)
    assert raised.value.details["field"] == "contact"
    with sqlite_hub.session() as session:
        meta = update_metadata(session, STEWARD, "luft", {"title": "Luft"}, replace=False)
    assert meta.missing() == ["description", "contact"]


def test_edit_needs_a_steward(sqlite_hub: Hub) -> None:
    _dataset(sqlite_hub)
    with sqlite_hub.session() as session, pytest.raises((NotFound, Unauthorized)):
        update_metadata(session, ANONYMOUS, "luft", {"keywords": ["x"]})


def test_coverage_from_the_published_version(hub: Hub) -> None:
    add_version(
        hub,
        "messungen",
        "SELECT * FROM (VALUES (DATE '2024-01-05', TIMESTAMP '2024-03-01 12:00:00', 1),"
        " (DATE '2023-12-31', TIMESTAMP '2024-02-01 00:00:00', 2)) t(tag, zeit, wert)",
    )
    publish_directly(hub, "messungen")
    with hub.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == "messungen")).one()
        meta = read_metadata(dataset)
    assert meta.temporal_start is not None
    assert meta.temporal_end is not None
    assert meta.temporal_start == date(2023, 12, 31)  # a date column's bound stays a date
    assert isinstance(meta.temporal_end, datetime)
    assert meta.temporal_end.replace(tzinfo=UTC) == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert meta.spatial_bbox is None


def test_attribution_and_licence_title(sqlite_hub: Hub) -> None:
    _dataset(sqlite_hub)
    with sqlite_hub.session() as session:
        update_metadata(session, STEWARD, "luft", COMPLETE)
        dataset = session.scalars(select(Dataset)).one()
        text = attribution_text(dataset, url="https://daten.herne.de/datasets/luft")
    assert text == (
        "Stadt Herne, „Luftmessstationen“, Datenlizenz Deutschland Namensnennung 2.0 "
        "(https://www.govdata.de/dl-de/by-2-0), https://daten.herne.de/datasets/luft"
    )
    assert licence_title("odbl") == "Open Data Commons Open Database License (ODbL)"
    assert licence_title("nope") == "nope"


def test_groups_are_set_and_listed(hub: Hub) -> None:
    _dataset(hub)
    _dataset(hub, "wasser")
    with hub.session() as session:
        session.add_all([Group(slug="umwelt", title="Umwelt"), Group(slug="energie", title="E")])
        session.flush()
        luft = session.scalars(select(Dataset).where(Dataset.slug == "luft")).one()
        before = luft.modified_at
        update_metadata(session, STEWARD, "luft", {"groups": ["umwelt", "energie"]})
        session.refresh(luft)
        assert luft.modified_at > before  # membership is metadata
        update_metadata(session, STEWARD, "luft", {"groups": "umwelt"})
        with pytest.raises(InputError) as raised:
            update_metadata(session, STEWARD, "wasser", {"groups": ["gibtsnicht"]})
        assert raised.value.details["field"] == "groups"
        ids = {d.slug: d.id for d in session.scalars(select(Dataset))}
        slugs = dataset_group_slugs(session, list(ids.values()))
    assert slugs == {ids["luft"]: ["umwelt"], ids["wasser"]: []}


def test_legacy_license_key_is_read() -> None:
    values = metadata._stored_values({"license": "odbl", "keywords": ["a"]})
    assert DatasetMetadata(**values).licence == "odbl"


def test_changes_are_audited_by_field_name_without_values(hub: Hub) -> None:
    from datenschatz.governance import audit

    _dataset(hub)
    with hub.session() as session:
        update_metadata(session, STEWARD, "luft", COMPLETE)
        update_metadata(session, STEWARD, "luft", {"keywords": ["Luft", "Umwelt"]})  # no change
        update_metadata(session, STEWARD, "luft", {"keywords": ["Ozon"]})
    with hub.session() as session:
        _total, found = audit.events(session, audit.AuditFilter(action="dataset.metadata"))
        rows = [audit.event_dict(e) for e in found]
        assert audit.verify(session).ok
    assert len(rows) == 2
    assert {r["object_id"] for r in rows} == {"luft"}
    assert {tuple(r["details"]["fields"]) for r in rows} == {("keywords",), tuple(sorted(COMPLETE))}
    assert "opendata@herne.example" not in str(rows)
