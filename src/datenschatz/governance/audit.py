"""The audit log: append-only, hash-chained events of who did what, to what, and why.

Each event carries the SHA-256 of the event before it (``prev_hash``) and its own hash over
its fields and that link. :func:`verify` recomputes the chain and names the first event that
was changed, removed or moved. ``details`` is for structured, non-personal context only
(version numbers, scopes, check names); keys that usually hold secrets or personal values are
refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from datenschatz.db.governance_models import AuditEvent, AuditHead
from datenschatz.db.models import utcnow
from datenschatz.errors import InputError

GENESIS = "0" * 64
_HEAD_ID = 1
# Keys whose values are secrets or personal data: never in an audit event.
_FORBIDDEN_KEYS = frozenset(
    {"password", "token", "secret", "email", "e_mail", "phone", "iban", "ip", "address"}
)

__all__ = [
    "AuditEvent",
    "AuditFilter",
    "Verification",
    "event_dict",
    "events",
    "export_csv",
    "record",
    "verify",
]


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: AuditEvent) -> str:
    """The SHA-256 of an event's fields and the hash of the event before it."""
    body = {
        "seq": event.seq,
        "at": _utc(event.at).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "reason": event.reason,
        "details": event.details or {},
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def _check_details(details: dict[str, Any], path: str = "details") -> None:
    for key, value in details.items():
        if not isinstance(key, str):
            raise InputError("Audit details keys must be strings.", parameter=path)
        if key.lower() in _FORBIDDEN_KEYS:
            raise InputError(
                f"Audit details must not carry {key!r}: no secrets or personal values.",
                parameter=f"{path}.{key}",
            )
        if isinstance(value, dict):
            _check_details(value, f"{path}.{key}")


def _insert_head(session: Session) -> Executable:
    values = {"id": _HEAD_ID, "seq": 0, "hash": GENESIS}
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(AuditHead).values(values).on_conflict_do_nothing()
    return sqlite_insert(AuditHead).values(values).on_conflict_do_nothing()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with it).

    ``actor`` is a user name or a system actor such as ``cli``; ``action`` a dotted verb such
    as ``dataset.ingest``; ``details`` structured context without personal values.
    """
    details = dict(details or {})
    _check_details(details)
    # Round-trip through JSON so the hash covers exactly what the database gives back.
    details = json.loads(_canonical(details))
    # Take the head first: the UPDATE locks the row (PostgreSQL) or the database (SQLite)
    # until commit, so two writers never chain onto the same event.
    take_head = update(AuditHead).where(AuditHead.id == _HEAD_ID).values(seq=AuditHead.seq + 1)
    if getattr(session.execute(take_head), "rowcount", 0) == 0:
        # No head row yet (the migration writes one; an emptied table loses it): create it
        # once, even when two writers get here together, then take it.
        session.execute(_insert_head(session))
        session.execute(take_head)
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == _HEAD_ID)
    ).one()
    event = AuditEvent(
        seq=head.seq,
        at=utcnow(),
        actor=str(actor)[:200],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:200],
        reason=reason,
        details=details,
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == _HEAD_ID).values(hash=event.hash))
    session.flush()
    return event


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`: ``ok``, or the first bad event and what is wrong."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify(session: Session) -> Verification:
    """Recompute the chain from the first event to the head.

    Detects a changed event (its hash no longer matches), a removed one (a gap in the
    numbers, a broken link, or a head beyond the last event) and reordered ones (broken
    links). Names the first bad event by its sequence number.
    """
    previous_hash = GENESIS
    expected_seq = 1
    checked = 0
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq, AuditEvent.id))
    for event in rows:
        if event.seq != expected_seq:
            return Verification(
                False,
                checked,
                expected_seq,
                f"event {expected_seq} is missing (next stored event is {event.seq})",
            )
        if event.prev_hash != previous_hash:
            return Verification(
                False,
                checked,
                event.seq,
                f"event {event.seq} does not follow event {event.seq - 1}",
            )
        if event_hash(event) != event.hash:
            return Verification(False, checked, event.seq, f"event {event.seq} was changed")
        previous_hash = event.hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditHead, _HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != previous_hash:
        return Verification(
            False,
            checked,
            checked + 1,
            f"events after {checked} are missing (the log had {head_seq})",
        )
    return Verification(True, checked)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clause(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.actor:
            parts.append(AuditEvent.actor == self.actor)
        if self.action:
            if self.action.endswith("*"):
                parts.append(AuditEvent.action.startswith(self.action[:-1], autoescape=True))
            else:
                parts.append(AuditEvent.action == self.action)
        if self.object_type:
            parts.append(AuditEvent.object_type == self.object_type)
        if self.object_id:
            parts.append(AuditEvent.object_id == self.object_id)
        if self.since:
            parts.append(AuditEvent.at >= self.since)
        if self.until:
            parts.append(AuditEvent.at < self.until)
        return and_(*parts) if parts else true()


def events(
    session: Session, where: AuditFilter | None = None, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[AuditEvent]]:
    """(total matching, one page of events, newest first)."""
    clause = (where or AuditFilter()).clause()
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(clause)) or 0
    page = session.scalars(
        select(AuditEvent).where(clause).order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    )
    return total, list(page)


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": _utc(event.at).isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "reason": event.reason,
        "details": event.details or {},
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "reason",
    "details",
    "prev_hash",
    "hash",
)


def _csv_cell(value: Any) -> str:
    text = _canonical(value) if isinstance(value, dict) else str(value)
    # Spreadsheets run cells starting with these as formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(session: Session, where: AuditFilter | None = None) -> Iterator[str]:
    """The matching events, oldest first, as CSV text chunks (header first)."""
    clause = (where or AuditFilter()).clause()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush(row: Iterable[Any]) -> str:
        writer.writerow(row)
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    yield flush(CSV_COLUMNS)
    rows = session.scalars(select(AuditEvent).where(clause).order_by(AuditEvent.seq))
    for event in rows:
        data = event_dict(event)
        yield flush(_csv_cell(data[c]) for c in CSV_COLUMNS)
