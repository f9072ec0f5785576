"""Creating a dataset as a service (no HTTP): slug suggestion, checks in order, version 1 as
a draft, and nothing created when the policy, the form or the file refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from datenschatz.access.policy import ANONYMOUS
from datenschatz.db.governance_models import AuditEvent
from datenschatz.db.models import Dataset, DatasetStatus, Organization
from datenschatz.errors import Forbidden, IngestError, InputError, NotFound, Unauthorized
from datenschatz.hub import Hub
from datenschatz.services.datasets_create import (
    NewDataset,
    check_new_dataset,
    create_dataset,
    suggest_slug,
)
from tests.governance.release_builders import user
from tests.helpers import add_version


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Bäume an Straßen", "baeume-an-strassen"),
        ("Öffentliche WLAN-Hotspots 2024", "oeffentliche-wlan-hotspots-2024"),
        ("Café „Übersee“ / Grünflächen", "cafe-uebersee-gruenflaechen"),
        ("GROẞE Straße", "grosse-strasse"),
        ("  -- !! --  ", ""),
        ("ab " * 60, ("ab-" * 34)[:100].strip("-")),
    ],
)
def test_the_slug_is_suggested_from_the_title(title: str, slug: str) -> None:
    assert suggest_slug(title) == slug
    assert len(suggest_slug(title)) <= 100


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(hub: Hub) -> tuple[int, int, int]:
    with hub.session() as session:
        datasets = session.scalar(select(func.count()).select_from(Dataset)) or 0
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return datasets, len(list(hub.store.files())), events


def test_a_steward_creates_a_draft_with_version_1(hub: Hub, tmp_path: Path) -> None:
    with hub.session() as session:
        session.add(Organization(slug="stadt", name="Stadt Herne"))
    steward = user(hub, "stella", "steward", org="stadt")
    path = _file(tmp_path, "baeume.csv", "art;anzahl\nLinde;120\nEiche;80\n")
    new = NewDataset(org="stadt", title="  Bäume   in Herne ", description=" Straßenbäume. ")
    info = create_dataset(hub, steward, new, path)
    assert (info.dataset, info.number, info.rows) == ("baeume-in-herne", 1, 2)
    with hub.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == info.dataset)).one()
        assert (dataset.title, dataset.description) == ("Bäume in Herne", "Straßenbäume.")
        assert dataset.status is DatasetStatus.DRAFT
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == info.dataset)
        ).all()
        assert sorted(actions) == ["dataset.create", "dataset.ingest", "dataset.metadata"]


def test_the_checks_come_in_order_and_nothing_is_created(hub: Hub, tmp_path: Path) -> None:
    add_version(hub, "entwurf", "SELECT 1 AS n", org="stadt")
    with hub.session() as session:
        session.add(Organization(slug="stadtwerke", name="Stadtwerke"))
    add_version(hub, "netz", "SELECT 1 AS n", org="stadtwerke")
    steward = user(hub, "stella", "steward", org="stadt")
    before = _count(hub)
    good = _file(tmp_path, "gut.csv", "a,b\n1,2\n")

    def refused(new: NewDataset, error: type[Exception], path: Path = good) -> Exception:
        with pytest.raises(error) as caught:
            create_dataset(hub, steward, new, path)
        return caught.value

    # the policy before anything else: an empty title does not matter yet
    with pytest.raises(Unauthorized):
        create_dataset(hub, ANONYMOUS, NewDataset(org="stadt", title=""), good)
    refused(NewDataset(org="stadtwerke", title=""), Forbidden)
    refused(NewDataset(org="", title="X"), NotFound)
    problems = {
        ("title", "required"): NewDataset(org="stadt", title=" "),
        ("title", "too_long"): NewDataset(org="stadt", title="x" * 501),
        ("slug", "required"): NewDataset(org="stadt", title="?!"),
        ("slug", "invalid"): NewDataset(org="stadt", title="X", slug="Gross"),
        ("slug", "taken"): NewDataset(org="stadt", title="X", slug="entwurf"),
        ("slug", "unavailable"): NewDataset(org="stadt", title="X", slug="netz"),
        ("description", "too_long"): NewDataset(org="stadt", title="X", description="x" * 20001),
    }
    for (parameter, problem), new in problems.items():
        error = refused(new, InputError)
        assert isinstance(error, InputError)
        assert (error.details["parameter"], error.details["problem"]) == (parameter, problem)
    hidden = refused(NewDataset(org="stadt", title="X", slug="netz"), InputError)
    reserved = refused(NewDataset(org="stadt", title="X", slug="new"), InputError)
    assert isinstance(hidden, InputError)
    assert isinstance(reserved, InputError)
    assert hidden.to_dict() == reserved.to_dict()  # a hidden dataset looks like a reserved word
    ragged = _file(tmp_path, "schief.csv", "a,b\n1,2\n3,4,5\n")
    error = refused(NewDataset(org="stadt", title="Schief"), IngestError, ragged)
    assert isinstance(error, IngestError)
    assert error.details == {"file": "schief.csv", "line": 3}
    assert _count(hub) == before
    with hub.session() as session:
        checked = check_new_dataset(session, steward, NewDataset(org=" stadt ", title="Schief"))
    assert checked == NewDataset(org="stadt", title="Schief", slug="schief", description="")
