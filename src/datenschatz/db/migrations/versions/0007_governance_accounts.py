"""governance: users, memberships, API tokens, audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datenschatz.db.models import JSONType

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ROLES = ("admin", "steward", "reviewer", "partner")
REVIEWER_KINDS = ("data_owner", "data_protection_officer", "ethics_reviewer")
GENESIS = "0" * 64


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_user_account"),
        sa.UniqueConstraint("name", name="uq_user_account_name"),
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role", sa.Enum(*ROLES, name="role", native_enum=False, length=32), nullable=False
        ),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column(
            "reviewer_kind",
            sa.Enum(*REVIEWER_KINDS, name="reviewer_kind", native_enum=False, length=32),
            nullable=True,
        ),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_membership_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name="fk_membership_organization_id_organization",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_membership"),
    )
    op.create_index("ix_membership_user_id", "membership", ["user_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", JSONType, nullable=False),
        _when("created_at"),
        _when("expires_at", nullable=True),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_api_token_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        sa.UniqueConstraint("secret_sha256", name="uq_api_token_secret_sha256"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("object_type", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
        sa.UniqueConstraint("seq", name="uq_audit_event_seq"),
        sa.UniqueConstraint("hash", name="uq_audit_event_hash"),
    )
    op.create_index("ix_audit_event_object", "audit_event", ["object_type", "object_id"])
    op.create_index("ix_audit_event_action", "audit_event", ["action"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.drop_index("ix_audit_event_object", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_table("api_token")
    op.drop_index("ix_membership_user_id", table_name="membership")
    op.drop_table("membership")
    op.drop_table("user_account")
