"""The access policy beyond the matrix: scopes, unpublished versions, real reviews, 410/404."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from datenschatz.access.policy import (
    ANONYMOUS,
    Principal,
    Role,
    can_see_dataset,
    ensure_admin,
    ensure_can_edit,
    ensure_dataset,
    ensure_version,
    readable_versions,
    visible_datasets,
)
from datenschatz.db.models import AccessLevel, Dataset
from datenschatz.errors import Forbidden, Gone, NotFound, Unauthorized
from datenschatz.governance import accounts, tokens
from datenschatz.governance.releases import request_release, withdraw
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.governance.release_builders import board, describe, user, who
from tests.helpers import add_version


def _token_principal(hub: Hub, name: str, *scopes: str) -> Principal:
    with hub.session() as session:
        issued = tokens.create_token(
            session, accounts.get_user(session, name), scopes=scopes, actor="t"
        )
        return tokens.principal_for_token(session, issued.secret)


def _internal(hub: Hub, slug: str) -> None:
    add_version(hub, slug, "SELECT 1 AS id, 2.5 AS kwh", org="stadt")
    publish(hub, slug, actor="test")
    with hub.session() as session:
        session.execute(
            update(Dataset).where(Dataset.slug == slug).values(access_level=AccessLevel.INTERNAL)
        )


def test_token_scopes_narrow_what_a_steward_may_do(hub: Hub) -> None:
    _internal(hub, "netz")
    user(hub, "stella", "steward", org="stadt")
    reading = _token_principal(hub, "stella", "read")
    sensor = _token_principal(hub, "stella", "sensors:write")
    writing = _token_principal(hub, "stella", "read", "write")
    with hub.session() as session:
        assert ensure_dataset(session, reading, "netz").slug == "netz"
        with pytest.raises(Forbidden) as no_write:
            ensure_can_edit(session, reading, "netz")
        assert no_write.value.details["scope"] == "write"
        # Without the read scope, a token sees what anonymous callers see.
        with pytest.raises(NotFound):
            ensure_dataset(session, sensor, "netz")
        assert ensure_can_edit(session, writing, "netz").slug == "netz"
        assert session.scalars(select(Dataset.slug).where(visible_datasets(sensor))).all() == []


def test_stewards_read_unpublished_versions_of_their_organization_only(hub: Hub) -> None:
    add_version(hub, "luft", "SELECT 1 AS x", org="stadt")
    publish(hub, "luft", actor="test")
    add_version(hub, "luft", "SELECT 2 AS x", org="stadt")  # version 2, not published
    add_version(hub, "entwurf", "SELECT 3 AS x", org="stadt")
    steward = user(hub, "stella", "steward", org="stadt")
    with hub.session() as session:
        from datenschatz.db.models import Organization

        session.add(Organization(slug="stadtwerke", name="Stadtwerke"))
    other = user(hub, "otto", "steward", org="stadtwerke")
    with hub.session() as session:
        luft = ensure_dataset(session, steward, "luft")
        assert [v.number for v in readable_versions(steward, luft)] == [1, 2]
        assert [v.number for v in readable_versions(ANONYMOUS, luft)] == [1]
        assert [v.number for v in readable_versions(other, luft)] == [1]
        assert ensure_version(session, steward, "luft", 2).number == 2
        assert ensure_version(session, steward, "luft").number == 1  # the published one
        with pytest.raises(NotFound):
            ensure_version(session, ANONYMOUS, "luft", 2)
        with pytest.raises(NotFound):
            ensure_version(session, other, "luft", 2)
        # A draft: its newest version for the steward, nothing for anybody else.
        assert ensure_version(session, steward, "entwurf").number == 1
        with pytest.raises(NotFound):
            ensure_dataset(session, other, "entwurf")


def test_the_board_sees_a_draft_while_its_release_is_pending(hub: Hub) -> None:
    add_version(hub, "solar", "SELECT 1 AS id, 2.5 AS kwh", org="stadt")
    describe(hub, "solar")
    steward = user(hub, "stella", "steward", org="stadt")
    board(hub)
    with hub.session() as session, pytest.raises(NotFound):
        ensure_dataset(session, who(hub, "dpo"), "solar")
    request_release(hub, steward, "solar", purpose="Solar roofs", level="public")
    reviewer = who(hub, "dpo")
    with hub.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == "solar")).one()
        assert dataset.id in reviewer.review_dataset_ids
        assert can_see_dataset(reviewer, dataset)
        assert ensure_version(session, reviewer, "solar").number == 1
        with pytest.raises(Forbidden):  # judging is not editing
            ensure_can_edit(session, reviewer, "solar")
        with pytest.raises(NotFound):
            ensure_dataset(session, ANONYMOUS, "solar")


def test_a_withdrawn_dataset_answers_410_only_to_those_who_could_see_it(hub: Hub) -> None:
    add_version(hub, "luft", "SELECT 1 AS x", org="stadt")
    publish(hub, "luft", actor="test")
    _internal(hub, "netz")
    steward = user(hub, "stella", "steward", org="stadt")
    withdraw(hub, steward, "luft", reason="Sensor falsch kalibriert")
    withdraw(hub, steward, "netz", reason="Netzplan veraltet")
    with hub.session() as session:
        with pytest.raises(Gone) as gone:
            ensure_dataset(session, ANONYMOUS, "luft")
        assert gone.value.details["reason"] == "Sensor falsch kalibriert"
        with pytest.raises(NotFound) as hidden:
            ensure_dataset(session, ANONYMOUS, "netz")
        assert "Netzplan" not in str(hidden.value.to_dict())
        with pytest.raises(Gone):
            ensure_dataset(session, steward, "netz")
        # The steward still manages it; listings no longer show it.
        assert ensure_can_edit(session, steward, "netz").slug == "netz"
        assert session.scalars(select(Dataset.slug).where(visible_datasets(steward))).all() == []


def test_admin_routes_need_the_role_and_the_scope(hub: Hub) -> None:
    user(hub, "root", "admin")
    user(hub, "paula", "partner")
    with pytest.raises(Unauthorized):
        ensure_admin(ANONYMOUS)
    with pytest.raises(Forbidden):
        ensure_admin(_token_principal(hub, "root", "read"))
    with pytest.raises(Forbidden):
        ensure_admin(who(hub, "paula"))
    ensure_admin(_token_principal(hub, "root", "admin"))
    ensure_admin(who(hub, "root"))  # a signed-in admin (web session) holds every scope


def test_a_system_admin_without_an_account_is_not_anonymous() -> None:
    system = Principal(name="cli", roles=frozenset({Role.ADMIN}))
    assert not system.anonymous
    assert system.is_admin
    assert ANONYMOUS.anonymous
    assert ANONYMOUS.cache_key == "anonymous"


def test_cache_keys_differ_when_what_a_principal_sees_differs() -> None:
    one = Principal(name="p", user_id=5, roles=frozenset({Role.PARTNER}))
    granted = Principal(
        name="p", user_id=5, roles=frozenset({Role.PARTNER}), partner_dataset_ids=frozenset({3})
    )
    no_read = Principal(name="p", user_id=5, scopes=frozenset({"sensors:write"}))
    assert one.cache_key != granted.cache_key
    assert no_read.cache_key == "anonymous"
