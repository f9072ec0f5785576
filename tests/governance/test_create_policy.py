"""The access policy for new datasets: who may create one in which organization, which
organizations a form offers, and who may learn that a slug is taken."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from datenschatz.access.policy import (
    ANONYMOUS,
    Principal,
    can_know_dataset,
    creatable_organizations,
    ensure_can_create_dataset,
    system_admin,
)
from datenschatz.db.models import AccessLevel, Dataset, Organization
from datenschatz.errors import Forbidden, NotFound, Unauthorized
from datenschatz.governance import accounts, tokens
from datenschatz.governance.releases import withdraw
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.governance.release_builders import user
from tests.helpers import add_version


def _token_principal(hub: Hub, name: str, *scopes: str) -> Principal:
    with hub.session() as session:
        issued = tokens.create_token(
            session, accounts.get_user(session, name), scopes=scopes, actor="t"
        )
        return tokens.principal_for_token(session, issued.secret)


def _organizations(hub: Hub) -> None:
    """stadt (the city) and stadtwerke (the utility), named so that the utility sorts first."""
    with hub.session() as session:
        session.add(Organization(slug="stadt", name="Stadt Herne"))
        session.add(Organization(slug="stadtwerke", name="Herner Stadtwerke"))


def _dataset(hub: Hub, slug: str) -> Dataset:
    with hub.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == slug)).one()
        session.expunge(dataset)
        return dataset


def test_stewards_create_datasets_in_their_own_organization_only(hub: Hub) -> None:
    _organizations(hub)
    steward = user(hub, "stella", "steward", org="stadt")
    with hub.session() as session:
        assert ensure_can_create_dataset(session, steward, "stadt").slug == "stadt"
        with pytest.raises(Forbidden) as foreign:
            ensure_can_create_dataset(session, steward, "stadtwerke")
        assert foreign.value.details == {"org": "stadtwerke"}
        with pytest.raises(NotFound) as unknown:
            ensure_can_create_dataset(session, steward, "gibt-es-nicht")
        assert unknown.value.details["parameter"] == "org"
        with pytest.raises(Unauthorized):
            ensure_can_create_dataset(session, ANONYMOUS, "stadt")
        with pytest.raises(Unauthorized):  # anonymous callers learn nothing about the name
            ensure_can_create_dataset(session, ANONYMOUS, "gibt-es-nicht")


def test_admins_create_anywhere_and_other_roles_nowhere(hub: Hub) -> None:
    _organizations(hub)
    admin = user(hub, "root", "admin")
    with hub.session() as session:
        assert ensure_can_create_dataset(session, admin, "stadtwerke").slug == "stadtwerke"
        assert ensure_can_create_dataset(session, system_admin("cli"), "stadt").slug == "stadt"
    for name, role in (("rita", "reviewer"), ("paula", "partner"), ("norbert", None)):
        someone = user(
            hub, name, role, **({"reviewer_kind": "data_owner"} if role == "reviewer" else {})
        )
        with hub.session() as session, pytest.raises(Forbidden):
            ensure_can_create_dataset(session, someone, "stadt")


def test_creating_needs_the_write_scope(hub: Hub) -> None:
    _organizations(hub)
    user(hub, "stella", "steward", org="stadt")
    reading = _token_principal(hub, "stella", "read")
    writing = _token_principal(hub, "stella", "write")
    with hub.session() as session:
        with pytest.raises(Forbidden) as no_write:
            ensure_can_create_dataset(session, reading, "stadt")
        assert no_write.value.details["scope"] == "write"
        assert ensure_can_create_dataset(session, writing, "stadt").slug == "stadt"
        assert creatable_organizations(session, reading) == []
        assert [o.slug for o in creatable_organizations(session, writing)] == ["stadt"]


def test_the_form_offers_exactly_the_organizations_the_policy_allows(hub: Hub) -> None:
    _organizations(hub)
    steward = user(hub, "stella", "steward", org="stadtwerke")
    admin = user(hub, "root", "admin")
    partner = user(hub, "paula", "partner")
    with hub.session() as session:
        assert [o.slug for o in creatable_organizations(session, steward)] == ["stadtwerke"]
        assert [o.slug for o in creatable_organizations(session, admin)] == [
            "stadtwerke",  # Herner Stadtwerke
            "stadt",  # Stadt Herne
        ]
        assert creatable_organizations(session, partner) == []
        assert creatable_organizations(session, ANONYMOUS) == []
        for org in creatable_organizations(session, admin):
            assert ensure_can_create_dataset(session, admin, org.slug) is org


def test_who_may_learn_that_a_slug_is_taken(hub: Hub) -> None:
    _organizations(hub)
    add_version(hub, "offen", "SELECT 1 AS x", org="stadt")
    publish(hub, "offen", actor="test")
    add_version(hub, "entwurf", "SELECT 1 AS x", org="stadt")
    add_version(hub, "intern", "SELECT 1 AS x", org="stadt")
    publish(hub, "intern", actor="test")
    with hub.session() as session:
        session.execute(
            update(Dataset)
            .where(Dataset.slug == "intern")
            .values(access_level=AccessLevel.INTERNAL)
        )
    steward = user(hub, "stella", "steward", org="stadt")
    other = user(hub, "otto", "steward", org="stadtwerke")
    admin = user(hub, "root", "admin")
    offen, entwurf, intern = (_dataset(hub, s) for s in ("offen", "entwurf", "intern"))
    for who in (ANONYMOUS, steward, other, admin):
        assert can_know_dataset(who, offen)
    for hidden in (entwurf, intern):
        assert can_know_dataset(steward, hidden)
        assert can_know_dataset(admin, hidden)
        assert not can_know_dataset(other, hidden)
        assert not can_know_dataset(ANONYMOUS, hidden)
    withdraw(hub, steward, "offen", reason="veraltet")
    withdraw(hub, steward, "intern", reason="veraltet")
    offen, intern = _dataset(hub, "offen"), _dataset(hub, "intern")
    assert can_know_dataset(ANONYMOUS, offen)  # it answers 410 to everyone who saw it
    assert not can_know_dataset(other, intern)  # 404 to those who never could see it
    assert can_know_dataset(steward, intern)
