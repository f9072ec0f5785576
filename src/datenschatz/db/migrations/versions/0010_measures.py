"""measures: the city's decisions and the stored evaluations of their effects

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_measure"),
        sa.UniqueConstraint("name", name="uq_measure_name"),
    )
    op.create_table(
        "measure_evaluation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_measure_evaluation"),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
            name="fk_measure_evaluation_measure_id_measure",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_measure_evaluation_measure_id", "measure_evaluation", ["measure_id"])


def downgrade() -> None:
    op.drop_index("ix_measure_evaluation_measure_id", table_name="measure_evaluation")
    op.drop_table("measure_evaluation")
    op.drop_table("measure")
