"""catalog metadata: organizations' details, groups, dataset metadata

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization_profile",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("homepage", sa.String(length=500), nullable=True),
        sa.Column("email", sa.String(length=300), nullable=True),
        sa.Column("contributor_id", sa.String(length=200), nullable=True),
        sa.Column("municipality_key", sa.String(length=12), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_organization_profile_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_profile")),
    )
    op.create_table(
        "catalog_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_group")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_group_slug")),
    )
    op.create_table(
        "dataset_group",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_group_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["catalog_group.id"],
            name=op.f("fk_dataset_group_group_id_catalog_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "group_id", name=op.f("pk_dataset_group")),
    )
    op.create_table(
        "harvest_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("remote_id", sa.String(length=1000), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_harvest_record_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_harvest_record_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_record")),
        sa.UniqueConstraint("source", "remote_id", name="uq_harvest_record_source_remote"),
    )


def downgrade() -> None:
    op.drop_table("harvest_record")
    op.drop_table("dataset_group")
    op.drop_table("catalog_group")
    op.drop_table("organization_profile")
