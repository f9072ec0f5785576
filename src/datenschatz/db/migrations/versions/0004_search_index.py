"""full-text search index and usage counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

SQLite: the FTS5 virtual table ``search_fts`` (rowid = dataset id). PostgreSQL: a ``tsvector``
column on ``search_document`` with a GIN index (``german`` configuration, filled by the search
module). The index is filled by ``datenschatz search reindex`` and kept current on every
catalog commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "search_document",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("keyword_terms", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.Column("sort_title", sa.String(length=500), nullable=False),
        sa.Column("tsv", TSVECTOR() if postgres else sa.Text(), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_search_document_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_search_document")),
    )
    op.create_index("ix_search_document_tsv", "search_document", ["tsv"], postgresql_using="gin")
    op.create_table(
        "search_facet",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_search_facet_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "facet", "value", name=op.f("pk_search_facet")),
    )
    op.create_index("ix_search_facet_facet_value", "search_facet", ["facet", "value"])
    op.create_table(
        "dataset_usage",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_usage_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_dataset_usage")),
    )
    if not postgres:
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "title_terms, keyword_terms, body_terms, tokenize = 'unicode61')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("dataset_usage")
    op.drop_index("ix_search_facet_facet_value", table_name="search_facet")
    op.drop_table("search_facet")
    op.drop_index("ix_search_document_tsv", table_name="search_document")
    op.drop_table("search_document")
