"""catalog core: organizations, datasets, versions

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "type",
            _enum(
                "organization_type",
                "city_administration",
                "municipal_utility",
                "other_public_body",
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("slug", name=op.f("uq_organization_slug")),
    )
    dataset_constraints: list[sa.Constraint] = [
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_dataset_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("slug", name=op.f("uq_dataset_slug")),
    ]
    if sqlite:
        # SQLite cannot add a constraint later; it does not check the target at CREATE time.
        dataset_constraints.append(
            sa.ForeignKeyConstraint(
                ["published_version_id"],
                ["version.id"],
                name=op.f("fk_dataset_published_version_id_version"),
                ondelete="RESTRICT",
            )
        )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "access_level", _enum("access_level", "public", "partner", "internal"), nullable=False
        ),
        sa.Column(
            "status",
            _enum("dataset_status", "draft", "in_review", "published", "withdrawn"),
            nullable=False,
        ),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("extra", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        *dataset_constraints,
    )
    op.create_table(
        "version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("table_schema", JSON, nullable=False),
        sa.Column("quality", JSON, nullable=False),
        sa.Column("geometry_column", sa.String(length=200), nullable=True),
        sa.Column("source_crs", sa.String(length=100), nullable=True),
        sa.Column("bbox", JSON, nullable=True),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("source_format", sa.String(length=40), nullable=False),
        sa.Column("source_size", sa.BigInteger(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_version_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version")),
        sa.UniqueConstraint("dataset_id", "number", name="uq_version_dataset_number"),
        sa.UniqueConstraint("path", name=op.f("uq_version_path")),
    )
    if not sqlite:
        op.create_foreign_key(
            op.f("fk_dataset_published_version_id_version"),
            "dataset",
            "version",
            ["published_version_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_dataset_published_version_id_version"), "dataset", type_="foreignkey"
        )
    op.drop_table("version")
    op.drop_table("dataset")
    op.drop_table("organization")
