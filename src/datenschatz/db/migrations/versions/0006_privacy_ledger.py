"""privacy ledgers: contributor ledger and differential-privacy budget

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datenschatz.db.models import JSONType

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    t = "privacy_treatment_run"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("raw_version_id", sa.Integer(), nullable=False),
        sa.Column("output_version_id", sa.Integer(), nullable=False),
        sa.Column("population", sa.String(length=200), nullable=True),
        sa.Column("spec", JSONType, nullable=False),
        sa.Column("report", JSONType, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "dataset_id", "dataset"),
        _fk(t, "raw_version_id", "version"),
        _fk(t, "output_version_id", "version"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("output_version_id", name=op.f(f"uq_{t}_output_version_id")),
    )
    t = "privacy_contributor_ledger"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("population", sa.String(length=200), nullable=False),
        sa.Column("key_columns", JSONType, nullable=False),
        sa.Column("measures", JSONType, nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "version_id", "version"),
        _fk(t, "dataset_id", "dataset"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("version_id", name=op.f(f"uq_{t}_version_id")),
    )
    op.create_index(op.f(f"ix_{t}_population"), t, ["population"], unique=False)
    t = "privacy_epsilon_budget"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("population", sa.String(length=200), nullable=False),
        sa.Column("epsilon_limit", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("population", name=op.f(f"uq_{t}_population")),
    )
    t = "privacy_epsilon_spend"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "budget_id", "privacy_epsilon_budget"),
        _fk(t, "dataset_id", "dataset"),
        _fk(t, "version_id", "version", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_budget_id"), t, ["budget_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_epsilon_spend_budget_id"), table_name="privacy_epsilon_spend")
    op.drop_table("privacy_epsilon_spend")
    op.drop_table("privacy_epsilon_budget")
    op.drop_index(
        op.f("ix_privacy_contributor_ledger_population"), table_name="privacy_contributor_ledger"
    )
    op.drop_table("privacy_contributor_ledger")
    op.drop_table("privacy_treatment_run")
