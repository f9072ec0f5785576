"""The audit log: append-only, hash-chained; verification names the first tampered event."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from typer.testing import CliRunner

from datenschatz.cli import app as cli_app
from datenschatz.db.governance_models import AuditEvent
from datenschatz.errors import InputError
from datenschatz.governance import audit
from datenschatz.hub import Hub
from datenschatz.services.publish import publish
from tests.helpers import add_version


def _fill(hub: Hub, n: int = 5) -> None:
    with hub.session() as session:
        for i in range(1, n + 1):
            audit.record(
                session,
                actor="stella",
                action="dataset.metadata",
                object_type="dataset",
                object_id=f"luft-{i}",
                reason=f"Beschreibung ergänzt ({i})",
                details={"fields": ["description"], "version": i, "ratio": 0.1 * i},
            )


def test_each_event_carries_the_hash_of_the_one_before(hub: Hub) -> None:
    _fill(hub, 3)
    with hub.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[0].prev_hash == audit.GENESIS
        assert events[1].prev_hash == events[0].hash
        assert events[2].prev_hash == events[1].hash
        assert all(audit.event_hash(e) == e.hash for e in events)
        assert audit.verify(session).ok
        assert audit.verify(session).checked == 3


def test_verify_names_a_changed_event(hub: Hub) -> None:
    _fill(hub)
    with hub.session() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(reason="anders"))
    with hub.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "changed" in result.problem


def test_verify_names_a_changed_detail_and_actor(hub: Hub) -> None:
    _fill(hub)
    with hub.session() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.seq == 2).values(details={"version": 99})
        )
    with hub.session() as session:
        assert audit.verify(session).first_bad_seq == 2
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="mallory"))
        assert audit.verify(session).first_bad_seq == 2


def test_a_rehashed_change_breaks_the_link_to_the_next_event(hub: Hub) -> None:
    _fill(hub)
    with hub.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
        assert event is not None
        event.reason = "anders"
        event.hash = audit.event_hash(event)  # the forger recomputes this event's hash
    with hub.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_verify_names_a_removed_event(hub: Hub) -> None:
    _fill(hub)
    with hub.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    with hub.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "missing" in result.problem


def test_verify_notices_events_removed_from_the_end(hub: Hub) -> None:
    _fill(hub)
    with hub.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
    with hub.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_verify_names_reordered_events(hub: Hub) -> None:
    _fill(hub)
    with hub.session() as session:  # swap events 2 and 4 by their numbers
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(seq=-2))
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(seq=2))
        session.execute(update(AuditEvent).where(AuditEvent.seq == -2).values(seq=4))
    with hub.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_details_refuse_secrets_and_personal_values(hub: Hub) -> None:
    with hub.session() as session:
        for key in ("password", "email", "token", "iban"):
            with pytest.raises(InputError) as refused:
                audit.record(
                    session,
                    actor="a",
                    action="x",
                    object_type="user",
                    object_id="1",
                    details={"nested": {key: "geheim"}},
                )
            assert "geheim" not in refused.value.message
    with hub.session() as session:
        assert audit.verify(session).checked == 0


def test_an_event_rolls_back_with_its_transaction(hub: Hub) -> None:
    _fill(hub, 2)

    def failing_change() -> None:
        with hub.session() as session:
            audit.record(session, actor="a", action="x", object_type="t", object_id="1")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    _fill(hub, 1)
    with hub.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.checked) == (True, 3)


def test_concurrent_writers_keep_one_chain(hub: Hub) -> None:
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(5):
                with hub.session() as session:
                    audit.record(
                        session, actor=f"w{i}", action="x", object_type="t", object_id=str(j)
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with hub.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.checked) == (True, 20)


def test_ingest_and_publish_are_recorded(hub: Hub) -> None:
    add_version(hub, "luft", "SELECT 1 AS id, 2.5 AS pm10")
    publish(hub, "luft", actor="test")
    with hub.session() as session:
        _total, events = audit.events(session, audit.AuditFilter(object_id="luft"))
        actions = {e.action for e in events}
        assert "dataset.ingest" in actions
        assert any(a.startswith("release.") or a == "dataset.publish" for a in actions)
        ingest = next(e for e in events if e.action == "dataset.ingest")
        assert ingest.details == {"version": 1, "rows": 1}
        assert audit.verify(session).ok


def test_filters_and_csv_export(hub: Hub) -> None:
    _fill(hub, 4)
    with hub.session() as session:
        audit.record(
            session, actor="root", action="token.create", object_type="token", object_id="7"
        )
        total, page = audit.events(session, audit.AuditFilter(action="dataset.*"), limit=2)
        assert total == 4
        assert [e.seq for e in page] == [4, 3]
        total, page = audit.events(session, audit.AuditFilter(actor="root"))
        assert (total, page[0].object_id) == (1, "7")
        rows = list(csv.reader(io.StringIO("".join(audit.export_csv(session)))))
    assert rows[0] == list(audit.CSV_COLUMNS)
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert rows[1][6] == "Beschreibung ergänzt (1)"


def test_csv_export_defuses_spreadsheet_formulas(hub: Hub) -> None:
    with hub.session() as session:
        audit.record(
            session, actor="a", action="x", object_type="t", object_id="1", reason="=HYPERLINK(1)"
        )
        rows = list(csv.reader(io.StringIO("".join(audit.export_csv(session)))))
    assert rows[1][6] == "'=HYPERLINK(1)"


def test_cli_audit_verify_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATENSCHATZ_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli_app, ["user", "add", "root", "--role", "admin"]).exit_code == 0
    assert runner.invoke(cli_app, ["token", "create", "root"]).exit_code == 0
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "3 events" in ok.output
    listed = runner.invoke(cli_app, ["audit", "list", "--json"])
    assert [e["action"] for e in json.loads(listed.output)] == [
        "token.create",
        "role.grant",
        "user.create",
    ]
    hub = Hub.from_env()
    with hub.session() as session:
        session.execute(text("UPDATE audit_event SET object_id = '2' WHERE seq = 2"))
    broken = runner.invoke(cli_app, ["audit", "verify", "--json"])
    assert broken.exit_code == 1
    assert '"first_bad_seq": 2' in broken.output
    csv_out = runner.invoke(cli_app, ["audit", "list", "--csv"])
    assert csv_out.output.splitlines()[0].startswith("seq,at,actor,action")
