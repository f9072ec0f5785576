"""Column roles: storage, validation and the gate's proposals.

Every column of a dataset needs a *confirmed* role before a version can pass the gate. The gate
proposes roles from column names and detector findings (:func:`propose_role`); a steward
confirms them (:func:`accept_proposed`) or sets them (:func:`set_roles`). Roles belong to the
dataset and a column name: a new column in a later version starts without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.db.models import Dataset
from datenschatz.db.privacy_models import ColumnRole, DatasetColumnRole
from datenschatz.errors import InputError
from datenschatz.privacy.detect_names import name_rule

__all__ = [
    "ColumnRole",
    "Proposal",
    "accept_proposed",
    "get_roles",
    "parse_role",
    "propose_role",
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
            parameter="roles",
            column=column or None,
        ) from None


@dataclass(frozen=True)
class Proposal:
    """A proposed role and why (entity types or the name rule; never a value)."""

    role: ColumnRole
    reason: str


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
    if rule is not None and rule.role in (ColumnRole.DIRECT_ID, ColumnRole.FREE_TEXT):
        return Proposal(rule.role, f"name suggests {rule.entity}")
    if direct:
        # Several kinds of personal data in one text column: prose with details in it.
        many = len(direct) > 1 and field_type == "string"
        role = ColumnRole.FREE_TEXT if many else ColumnRole.DIRECT_ID
        return Proposal(role, "values contain " + ", ".join(direct))
    if rule is not None:
        if rule.role is ColumnRole.CONTRIBUTOR_COUNT and field_type not in NUMERIC_TYPES:
            return Proposal(ColumnRole.QUASI_ID, f"name suggests {rule.entity}, not a number")
        return Proposal(rule.role, f"name suggests {rule.entity}")
    if unique and field_type == "string":
        return Proposal(ColumnRole.DIRECT_ID, "values are so unique they look like identifiers")
    if field_type in TEMPORAL_TYPES:
        if personal_table:
            return Proposal(ColumnRole.QUASI_ID, "a date in a table with personal data")
        return Proposal(ColumnRole.PUBLIC_KEY, "a time dimension")
    if field_type in NUMERIC_TYPES:
        return Proposal(ColumnRole.MEASURE, "a numeric value")
    if personal_table:
        return Proposal(ColumnRole.QUASI_ID, "a category in a table with personal data")
    return Proposal(ColumnRole.PUBLIC_KEY, "a category or key of public things")


def get_roles(session: Session, dataset: Dataset) -> dict[str, DatasetColumnRole]:
    """The stored role rows of ``dataset``, by column name."""
    rows = session.scalars(
        select(DatasetColumnRole).where(DatasetColumnRole.dataset_id == dataset.id)
    )
    return {row.column_name: row for row in rows}


def _row(
    session: Session, existing: dict[str, DatasetColumnRole], dataset: Dataset, column: str
) -> DatasetColumnRole:
    row = existing.get(column)
    if row is None:
        row = DatasetColumnRole(
            dataset_id=dataset.id,
            column_name=column,
            confirmed=False,
            proposal_reason="",
            set_by="",
        )
        session.add(row)
        existing[column] = row
    return row


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
            raise InputError("A column name must have 1 to 300 characters.", parameter="roles")
        parsed[column] = parse_role(role, column)
    existing = get_roles(session, dataset)
    for column, role in parsed.items():
        row = _row(session, existing, dataset, column)
        row.role = role
        row.confirmed = confirmed
        row.set_by = actor
    session.flush()
    return parsed


def record_proposals(session: Session, dataset: Dataset, proposals: Mapping[str, Proposal]) -> None:
    """Store the gate's proposals; confirmed roles stay as they are."""
    existing = get_roles(session, dataset)
    for column, proposal in proposals.items():
        row = _row(session, existing, dataset, column)
        row.proposed_role = proposal.role
        row.proposal_reason = proposal.reason
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
                column=column,
            )
        row.role = row.proposed_role
        row.confirmed = True
        row.set_by = actor
        accepted[column] = row.proposed_role
    session.flush()
    return accepted
