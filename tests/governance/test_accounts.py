"""Accounts: argon2 passwords, roles as memberships, the principal a user becomes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from datenschatz.access.policy import ALL_SCOPES, ReviewerKind, Role
from datenschatz.cli import app as cli_app
from datenschatz.db.governance_models import User
from datenschatz.db.models import Organization
from datenschatz.errors import Conflict, InputError, NotFound, Unauthorized
from datenschatz.governance import accounts, audit
from datenschatz.hub import Hub

PASSWORD = "lange-und-geheim-2026"


@pytest.fixture
def orgs(hub: Hub) -> Hub:
    with hub.session() as session:
        session.add(Organization(slug="stadt", name="Stadt"))
        session.add(Organization(slug="stadtwerke", name="Stadtwerke"))
    return hub


def test_passwords_are_stored_as_argon2id_hashes(orgs: Hub) -> None:
    with orgs.session() as session:
        accounts.create_user(
            session, "stella", role="steward", org="stadt", password=PASSWORD, actor="t"
        )
    with orgs.session() as session:
        user = accounts.get_user(session, "stella")
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert accounts.verify_password(user.password_hash, PASSWORD)
        assert not accounts.verify_password(user.password_hash, PASSWORD + "x")


def test_sign_in_gives_the_same_answer_for_wrong_name_and_wrong_password(orgs: Hub) -> None:
    with orgs.session() as session:
        accounts.create_user(
            session, "stella", role="steward", org="stadt", password=PASSWORD, actor="t"
        )
        principal = accounts.authenticate(session, "stella", PASSWORD)
        assert principal.name == "stella"
        with pytest.raises(Unauthorized) as wrong_password:
            accounts.authenticate(session, "stella", "falsch-falsch-falsch")
        with pytest.raises(Unauthorized) as wrong_name:
            accounts.authenticate(session, "niemand", PASSWORD)
    assert wrong_password.value.message == wrong_name.value.message


def test_short_passwords_are_refused_without_echoing_them(orgs: Hub) -> None:
    with orgs.session() as session, pytest.raises(InputError) as short:
        accounts.create_user(session, "kurt", password="kurz", actor="t")
    assert "kurz" not in short.value.message
    assert short.value.details["parameter"] == "password"


def test_principal_carries_roles_organizations_and_reviewer_kinds(orgs: Hub) -> None:
    with orgs.session() as session:
        info = accounts.create_user(session, "multi", role="steward", org="stadt", actor="t")
        user = accounts.get_user(session, "multi")
        accounts.add_role(session, user, "steward", org="stadtwerke", actor="t")
        accounts.add_role(session, user, "reviewer", reviewer_kind="ethics_reviewer", actor="t")
        principal = accounts.principal_for_user(session, info.id)
        org_ids = set(session.scalars(select(Organization.id)))
    assert principal.user_id == info.id
    assert principal.name == "multi"
    assert principal.roles == {Role.STEWARD, Role.REVIEWER}
    assert principal.steward_org_ids == org_ids
    assert principal.reviewer_kinds == {ReviewerKind.ETHICS_REVIEWER}
    assert principal.scopes == ALL_SCOPES
    assert principal.token_id is None
    assert not principal.anonymous


def test_role_rules_name_the_parameter(orgs: Hub) -> None:
    with orgs.session() as session:
        cases = [
            ({"role": "steward"}, "org"),
            ({"role": "reviewer"}, "reviewer_kind"),
            ({"role": "partner", "org": "stadt"}, "org"),
            ({"role": "admin", "reviewer_kind": "data_owner"}, "reviewer_kind"),
            ({"role": "chef"}, "role"),
            ({"role": "reviewer", "reviewer_kind": "kaiser"}, "reviewer_kind"),
        ]
        for i, (kwargs, parameter) in enumerate(cases):
            with pytest.raises(InputError) as refused:
                accounts.create_user(session, f"u{i}", actor="t", **kwargs)
            assert refused.value.details["parameter"] == parameter, kwargs
        with pytest.raises(NotFound):
            accounts.create_user(session, "x1", role="steward", org="gibt-es-nicht", actor="t")
        with pytest.raises(InputError):
            accounts.create_user(session, "Not A Name", actor="t")


def test_names_are_unique(orgs: Hub) -> None:
    with orgs.session() as session:
        accounts.create_user(session, "anna", role="partner", actor="t")
    with orgs.session() as session, pytest.raises(Conflict):
        accounts.create_user(session, "anna", role="partner", actor="t")


def test_role_changes_are_audited_without_personal_values(orgs: Hub) -> None:
    with orgs.session() as session:
        info = accounts.create_user(
            session, "stella", role="steward", org="stadt", actor="root", password=PASSWORD
        )
        user = accounts.get_user(session, "stella")
        assert (
            accounts.remove_role(
                session, user, "steward", org="stadt", actor="root", reason="moved"
            )
            == 1
        )
        _total, events = audit.events(session, audit.AuditFilter(object_type="user"))
    assert [e.action for e in reversed(events)] == ["user.create", "role.grant", "role.revoke"]
    assert all(e.object_id == str(info.id) and e.actor == "root" for e in events)
    assert events[0].reason == "moved"
    for event in events:
        assert "stella" not in str(event.details)
        assert PASSWORD not in str(event.details)


def test_a_deactivated_user_is_nobody(orgs: Hub) -> None:
    with orgs.session() as session:
        info = accounts.create_user(session, "ex", role="partner", password=PASSWORD, actor="t")
        accounts.set_active(session, accounts.get_user(session, "ex"), False, actor="t")
        with pytest.raises(Unauthorized):
            accounts.principal_for_user(session, info.id)
        with pytest.raises(Unauthorized):
            accounts.authenticate(session, "ex", PASSWORD)


def test_cli_user_add_with_password_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATENSCHATZ_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli_app, ["init"]).exit_code == 0
    hub = Hub.from_env()
    with hub.session() as session:
        session.add(Organization(slug="stadt", name="Stadt"))
    added = runner.invoke(
        cli_app,
        ["user", "add", "stella", "--role", "steward", "--org", "stadt", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    more = runner.invoke(
        cli_app, ["user", "add", "stella", "--role", "reviewer", "--kind", "data_owner", "--json"]
    )
    assert more.exit_code == 0, more.output
    assert '"reviewer_kind": "data_owner"' in more.output
    with hub.session() as session:
        user = session.scalar(select(User).where(User.name == "stella"))
        assert user is not None
        assert accounts.verify_password(user.password_hash, PASSWORD)
    wrong = runner.invoke(cli_app, ["user", "add", "x2", "--role", "steward"])
    assert wrong.exit_code == 1
    assert "--org" in wrong.output
