"""recipes: derived datasets, their runs and inputs (lineage)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "recipe",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("output_dataset_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recipe"),
        sa.UniqueConstraint("output_dataset_id", name="uq_recipe_output_dataset_id"),
        sa.ForeignKeyConstraint(
            ["output_dataset_id"],
            ["dataset.id"],
            name="fk_recipe_output_dataset_id_dataset",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "recipe_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("recipe_text", sa.Text(), nullable=False),
        sa.Column("recipe_sha256", sa.String(64), nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recipe_run"),
        sa.UniqueConstraint("version_id", name="uq_recipe_run_version_id"),
        sa.ForeignKeyConstraint(
            ["recipe_id"], ["recipe.id"], name="fk_recipe_run_recipe_id_recipe", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name="fk_recipe_run_version_id_version",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_recipe_run_recipe_id", "recipe_run", ["recipe_id"])
    op.create_table(
        "recipe_input",
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(63), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("pinned_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("recipe_id", "alias", name="pk_recipe_input"),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipe.id"],
            name="fk_recipe_input_recipe_id_recipe",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name="fk_recipe_input_dataset_id_dataset",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_recipe_input_dataset_id", "recipe_input", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_recipe_input_dataset_id", table_name="recipe_input")
    op.drop_table("recipe_input")
    op.drop_index("ix_recipe_run_recipe_id", table_name="recipe_run")
    op.drop_table("recipe_run")
    op.drop_table("recipe")
