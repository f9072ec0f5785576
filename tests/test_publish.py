from __future__ import annotations

import pytest

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.db.models import AccessLevel, DatasetStatus
from datenschatz.errors import CheckFailed, NotFound
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.helpers import add_version


def test_publish_moves_the_pointer_to_the_newest_version(hub: Hub) -> None:
    add_version(hub, "a", "SELECT 1 AS x")
    add_version(hub, "a", "SELECT 2 AS x")
    info = publish(hub, "a", actor="test")
    assert (info.number, info.published) == (2, True)
    with hub.session() as session:
        dataset = get_dataset(session, "a")
        assert dataset.status is DatasetStatus.PUBLISHED
        assert dataset.access_level is AccessLevel.PUBLIC
        assert dataset.published_version_id == get_version(session, dataset, 2).id
        assert get_version(session, dataset, 2).published_at is not None
        assert get_version(session, dataset, 1).published_at is None


def test_publish_an_older_version_explicitly(hub: Hub) -> None:
    add_version(hub, "a", "SELECT 1 AS x")
    add_version(hub, "a", "SELECT 2 AS x")
    assert publish(hub, "a", 1, actor="test").number == 1


def test_publish_refused_when_the_file_was_changed_and_nothing_moves(hub: Hub) -> None:
    add_version(hub, "a", "SELECT 1 AS x")
    publish(hub, "a", actor="test")
    add_version(hub, "a", "SELECT 2 AS x")
    with hub.session() as session:
        path = hub.store.path(get_version(session, get_dataset(session, "a"), 2).path)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(CheckFailed) as caught:
        publish(hub, "a", actor="test")
    failed = [c for c in caught.value.details["checks"] if not c["passed"]]
    assert [c["check"] for c in failed] == ["store"]
    assert "SHA-256" in caught.value.message
    with hub.session() as session:
        dataset = get_dataset(session, "a")
        assert dataset.published_version_id == get_version(session, dataset, 1).id


def test_publish_unknown_dataset_or_version_is_not_found(hub: Hub) -> None:
    with pytest.raises(NotFound):
        publish(hub, "nope", actor="test")
    add_version(hub, "a", "SELECT 1 AS x")
    with pytest.raises(NotFound):
        publish(hub, "a", 7, actor="test")
