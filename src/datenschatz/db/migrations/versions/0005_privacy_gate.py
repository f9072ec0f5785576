"""privacy gate: column roles and privacy reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datenschatz.db.models import JSONType

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROLES = (
    "direct_id",
    "quasi_id",
    "sensitive",
    "measure",
    "free_text",
    "public_key",
    "contributor_count",
)


def _role(name: str) -> sa.Enum:
    return sa.Enum(*ROLES, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "privacy_column_role",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "dataset_id",
            sa.Integer(),
            sa.ForeignKey(
                "dataset.id",
                ondelete="CASCADE",
                name="fk_privacy_column_role_dataset_id_dataset",
            ),
            nullable=False,
        ),
        sa.Column("column_name", sa.String(300), nullable=False),
        sa.Column("role", _role("privacy_column_role_kind"), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("proposed_role", _role("privacy_column_role_proposed"), nullable=True),
        sa.Column("proposal_reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_column_role"),
        sa.UniqueConstraint("dataset_id", "column_name", name="uq_privacy_column_role_dataset_col"),
    )
    op.create_table(
        "privacy_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey(
                "version.id", ondelete="CASCADE", name="fk_privacy_report_version_id_version"
            ),
            nullable=False,
        ),
        sa.Column("scan", JSONType, nullable=False),
        sa.Column("report", JSONType, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_report"),
        sa.UniqueConstraint("version_id", name="uq_privacy_report_version_id"),
    )


def downgrade() -> None:
    op.drop_table("privacy_report")
    op.drop_table("privacy_column_role")
