"""Column roles: storage, validation and the gate's proposals.

Every column of a dataset needs a *confirmed* role before a version can pass the gate. The gate
proposes roles from column names and detector findings (:func:`propose_role`); a steward
confirms them (:func:`accept_proposed`) or sets them (:func:`set_roles`). Roles belong to the
dataset and a column name: a new column in a later version starts without one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from datenschatz.coded import Code, coded
from datenschatz.db.models import Dataset, utcnow
from datenschatz.db.privacy_models import ColumnRole, DatasetColumnRole
from datenschatz.errors import InputError
from datenschatz.privacy.detect_names import name_rule, normalise

__all__ = [
    "ColumnRole",
    "Proposal",
    "accept_proposed",
    "get_roles",
    "parse_role",
    "propose_role",
    "reason_code",
    "record_proposals",
    "set_roles",
]

# Entity types that make a column a direct identifier when found in its values.
DIRECT_ENTITIES = frozenset(
    {
        "iban",
        "tax_id",
        "tax_number",
        "vat_id",
        "phone",
        "email",
        "melo",
        "malo",
        "car_plate",
        "date_of_birth",
        "person_name",
        "street_address",
        "postcode_city",
        "keyed_hash",
    }
)
# Names of keys of things and places (station_id, bezirk_nr, ags, ...), checked after the
# person rules of detect_names.
_THING_KEY = re.compile(r"(id$|nr$|nummer$|code$|key$|schluessel|^ags$|^ars$|^iso$)")
NUMERIC_TYPES = frozenset({"number", "integer", "boolean"})
TEMPORAL_TYPES = frozenset({"date", "datetime", "time", "year", "yearmonth"})


def parse_role(value: str | ColumnRole, column: str = "") -> ColumnRole:
    """``value`` as a role; InputError naming the column and the valid roles otherwise."""
    if isinstance(value, ColumnRole):
        return value
    try:
        return ColumnRole(value.strip().lower())
    except ValueError:
        raise InputError(
            f"Unknown column role {value!r}"
            + (f" for column {column!r}" if column else "")
            + "; valid roles: "
            + ", ".join(r.value for r in ColumnRole)
            + ".",
            key="privacy.role_unknown",
            parameter="roles",
            column=column or None,
        ) from None


@dataclass(frozen=True)
class Proposal:
    """A proposed role and why (entity types or the name rule; never a value).

    ``reason`` is English; it is made from :data:`REASONS` by its code, so that the code and
    values of a stored reason can be read back from the text (:func:`reason_code`).
    """

    role: ColumnRole
    reason: str


# The reasons of proposals by code; a text without values before those with them.
REASONS = {
    "personal_name": "a name column in a table with personal data",
    "public_name": "the name of a public thing or place",
    "thing_key": "name suggests the key of a thing or place",
    "unique_personal": "unique values in a table with personal data",
    "unique_values": "values are so unique they look like identifiers",
    "date_personal": "a date in a table with personal data",
    "time_dimension": "a time dimension",
    "numeric": "a numeric value",
    "category_personal": "a category in a table with personal data",
    "public_category": "a category or key of public things",
    "name_not_number": "name suggests {entity}, not a number",
    "name_suggests": "name suggests {entity}",
    "values_contain": "values contain {entities}",
}
_REASON_PATTERNS = [
    (code, re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>.+)", re.escape(text)) + "$"))
    for code, text in REASONS.items()
]


def _proposal(role: ColumnRole, code: str, **params: str) -> Proposal:
    return Proposal(role, coded(REASONS[code].format(**params), code, **params))


def reason_code(reason: str) -> Code | None:
    """The code and values of a proposal's reason (also one stored as text); None if unknown."""
    for code, pattern in _REASON_PATTERNS:
        found = pattern.match(reason)
        if found:
            return {"code": code, "params": found.groupdict()}
    return None


def propose_role(
    column: str,
    field_type: str,
    entities: Iterable[str] = (),
    *,
    unique: bool = False,
    personal_table: bool = False,
) -> Proposal:
    """The role the gate proposes for ``column`` of Table Schema type ``field_type``.

    ``entities`` are the detector hits in the column's values, ``unique`` says the values are
    so unique they look like an identifier, ``personal_table`` that other columns of the table
    hold personal data (then dates and categories are quasi-identifiers, not dimensions).
    """
    found = sorted(set(entities))
    direct = [e for e in found if e in DIRECT_ENTITIES]
    rule = name_rule(column)
    if rule is not None and rule.entity == "name_of_thing":
        # "name" alone: a person's name in a table with personal data, else a place's or thing's.
        if personal_table or "person_name" in found:
            return _proposal(ColumnRole.DIRECT_ID, "personal_name")
        if not direct:
            return _proposal(ColumnRole.PUBLIC_KEY, "public_name")
    if rule is not None and rule.role in (ColumnRole.DIRECT_ID, ColumnRole.FREE_TEXT):
        return _proposal(rule.role, "name_suggests", entity=rule.entity)
    if direct:
        # Several kinds of personal data in one text column: prose with details in it.
        many = len(direct) > 1 and field_type == "string"
        role = ColumnRole.FREE_TEXT if many else ColumnRole.DIRECT_ID
        return _proposal(role, "values_contain", entities=", ".join(direct))
    if rule is not None:
        if rule.role is ColumnRole.CONTRIBUTOR_COUNT and field_type not in NUMERIC_TYPES:
            return _proposal(ColumnRole.QUASI_ID, "name_not_number", entity=rule.entity)
        return _proposal(rule.role, "name_suggests", entity=rule.entity)
    if unique and field_type == "string" and personal_table:
        return _proposal(ColumnRole.DIRECT_ID, "unique_personal")
    if _THING_KEY.search(normalise(column)) and field_type in ("string", "integer"):
        return _proposal(ColumnRole.PUBLIC_KEY, "thing_key")
    if unique and field_type == "string":
        return _proposal(ColumnRole.DIRECT_ID, "unique_values")
    if field_type in TEMPORAL_TYPES:
        if personal_table:
            return _proposal(ColumnRole.QUASI_ID, "date_personal")
        return _proposal(ColumnRole.PUBLIC_KEY, "time_dimension")
    if field_type in NUMERIC_TYPES:
        return _proposal(ColumnRole.MEASURE, "numeric")
    if personal_table:
        return _proposal(ColumnRole.QUASI_ID, "category_personal")
    return _proposal(ColumnRole.PUBLIC_KEY, "public_category")


def get_roles(session: Session, dataset: Dataset) -> dict[str, DatasetColumnRole]:
    """The stored role rows of ``dataset``, by column name."""
    rows = session.scalars(
        select(DatasetColumnRole).where(DatasetColumnRole.dataset_id == dataset.id)
    )
    return {row.column_name: row for row in rows}


def _ensure_rows(
    session: Session, dataset: Dataset, columns: Iterable[str]
) -> dict[str, DatasetColumnRole]:
    """The role rows of ``columns``, created where missing (safe against concurrent callers)."""
    existing = get_roles(session, dataset)
    missing = [c for c in dict.fromkeys(columns) if c not in existing]
    if missing:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        statement = insert(DatasetColumnRole).on_conflict_do_nothing(
            index_elements=["dataset_id", "column_name"]
        )
        session.execute(
            statement,
            [
                {
                    "dataset_id": dataset.id,
                    "column_name": c,
                    "confirmed": False,
                    "proposal_reason": "",
                    "set_by": "",
                    "updated_at": now,
                }
                for c in missing
            ],
        )
        existing = get_roles(session, dataset)
    return existing


def set_roles(
    session: Session,
    dataset: Dataset,
    roles: Mapping[str, str | ColumnRole],
    *,
    actor: str,
    confirmed: bool = True,
) -> dict[str, ColumnRole]:
    """Set (and by default confirm) the role of each column in ``roles``.

    Column names are taken as given (a role may be set before the column's first version).
    Raises InputError naming the column when a role is unknown or a name is empty; nothing is
    changed then.
    """
    parsed: dict[str, ColumnRole] = {}
    for column, role in roles.items():
        if not column or len(column) > 300:
            raise InputError(
                "A column name must have 1 to 300 characters.",
                key="privacy.column_name_length",
                parameter="roles",
            )
        parsed[column] = parse_role(role, column)
    existing = _ensure_rows(session, dataset, parsed)
    for column, role in parsed.items():
        row = existing[column]
        row.role = role
        row.confirmed = confirmed
        row.set_by = actor
    session.flush()
    _audit(session, dataset, actor, "privacy.roles", parsed, confirmed=confirmed)
    return parsed


def _audit(
    session: Session,
    dataset: Dataset,
    actor: str,
    action: str,
    roles: Mapping[str, ColumnRole],
    *,
    confirmed: bool = True,
) -> None:
    """Record a change of column roles (column names and roles only, never values)."""
    from datenschatz.governance import audit

    if roles:
        audit.record(
            session,
            actor=actor,
            action=action,
            object_type="dataset",
            object_id=dataset.slug,
            details={
                # A list, not a mapping: column names such as "email" are not audit keys.
                "roles": [
                    {"column": column, "role": role.value} for column, role in sorted(roles.items())
                ],
                "confirmed": confirmed,
            },
        )


def record_proposals(session: Session, dataset: Dataset, proposals: Mapping[str, Proposal]) -> None:
    """Store the gate's proposals; confirmed roles stay as they are."""
    existing = _ensure_rows(session, dataset, proposals)
    for column, proposal in proposals.items():
        row = existing[column]
        if row.proposed_role is proposal.role and row.proposal_reason == proposal.reason:
            continue
        row.proposed_role = proposal.role
        row.proposal_reason = str(proposal.reason)
    session.flush()


def accept_proposed(
    session: Session, dataset: Dataset, columns: Iterable[str], *, actor: str
) -> dict[str, ColumnRole]:
    """Confirm the proposed role of each of ``columns`` that has no confirmed role yet.

    Returns the roles confirmed now. A column without a proposal raises InputError (scan the
    version first).
    """
    existing = get_roles(session, dataset)
    accepted: dict[str, ColumnRole] = {}
    for column in columns:
        row = existing.get(column)
        if row is not None and row.confirmed and row.role is not None:
            continue
        if row is None or row.proposed_role is None:
            raise InputError(
                f"Column {column!r} has no proposed role yet; scan the version first.",
                key="privacy.no_proposal",
                column=column,
            )
        row.role = row.proposed_role
        row.confirmed = True
        row.set_by = actor
        accepted[column] = row.proposed_role
    session.flush()
    _audit(session, dataset, actor, "privacy.roles.accept_proposed", accepted)
    return accepted
