"""Withdrawal keeps the history; the dataset's URLs answer 410 Gone with the reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from datenschatz.access.policy import ANONYMOUS, ensure_dataset
from datenschatz.api.app import create_app
from datenschatz.catalog.datasets import get_dataset
from datenschatz.db.governance_release_models import Withdrawal
from datenschatz.db.models import DatasetStatus
from datenschatz.errors import Conflict, Forbidden, Gone, InputError
from datenschatz.governance.releases import request_release, withdraw
from datenschatz.hub import Hub
from tests.governance.release_builders import draft, published, user


def test_withdrawal_answers_gone_with_the_reason_and_keeps_the_history(hub: Hub) -> None:
    published(hub, "luft")
    steward = user(hub, "stella", "steward", org="stadt")
    result = withdraw(hub, steward, "luft", reason="Sensor 7 was miscalibrated.")
    assert result["version"] == 1
    with hub.session() as session:
        with pytest.raises(Gone) as gone:
            ensure_dataset(session, ANONYMOUS, "luft")
        assert gone.value.details["reason"] == "Sensor 7 was miscalibrated."
        dataset = get_dataset(session, "luft")
        assert dataset.status is DatasetStatus.WITHDRAWN
        assert [v.number for v in dataset.versions] == [1]
        assert dataset.versions[0].published_at is not None
        record = session.scalars(select(Withdrawal)).one()
        assert (record.version_id, record.withdrawn_by_name) == (dataset.versions[0].id, "stella")


def test_withdrawn_urls_answer_410_in_the_one_error_shape(sqlite_hub: Hub) -> None:
    published(sqlite_hub, "luft")
    steward = user(sqlite_hub, "stella", "steward", org="stadt")
    withdraw(sqlite_hub, steward, "luft", reason="Wrong unit.")
    client = TestClient(create_app(sqlite_hub))
    for url in ("/api/v1/datasets/luft", "/api/v1/datasets/luft/rows"):
        response = client.get(url)
        assert response.status_code == 410, (url, response.text)
        error = response.json()["error"]
        assert error["code"] == "gone"
        assert error["details"]["reason"] == "Wrong unit."


def test_withdraw_needs_a_reason_a_published_dataset_and_a_steward(hub: Hub) -> None:
    published(hub, "luft")
    draft(hub, "entwurf")
    steward = user(hub, "stella", "steward", org="stadt")
    stranger = user(hub, "pia")
    with pytest.raises(InputError):
        withdraw(hub, steward, "luft", reason=" ")
    with pytest.raises(Conflict):
        withdraw(hub, steward, "entwurf", reason="x")
    with pytest.raises(Forbidden):
        withdraw(hub, stranger, "luft", reason="x")


def test_a_withdrawn_dataset_can_be_released_again(hub: Hub) -> None:
    from datenschatz.governance.releases import decide
    from tests.governance.release_builders import CHECKLIST, board, who

    published(hub, "luft")
    steward = user(hub, "stella", "steward", org="stadt")
    board(hub)
    withdraw(hub, steward, "luft", reason="Wrong unit.")
    info = request_release(hub, steward, "luft", purpose="Unit fixed", level="public")
    decide(hub, who(hub, "dpo"), info.id, question="technical", approve=True)
    decide(hub, who(hub, "owner"), info.id, question="political", approve=True)
    decide(hub, who(hub, "ethics"), info.id, question="ethical", approve=True, checklist=CHECKLIST)
    with hub.session() as session:
        assert ensure_dataset(session, ANONYMOUS, "luft").status is DatasetStatus.PUBLISHED


def test_withdrawal_takes_back_a_pending_request_for_a_newer_version(hub: Hub) -> None:
    from datenschatz.governance.releases import release_status
    from tests.helpers import add_version

    published(hub, "luft")
    add_version(hub, "luft", "SELECT 2 AS id, 3.5 AS kwh")
    steward = user(hub, "stella", "steward", org="stadt")
    pending = request_release(hub, steward, "luft", purpose="v2", level="public")
    withdraw(hub, steward, "luft", reason="Wrong unit.")
    with hub.session() as session:
        info = release_status(session, steward, pending.id)
    assert (info.status, info.reason) == ("cancelled", "The dataset was withdrawn.")
