"""Relational models of the search index and of the usage counters.

``search_document`` holds each dataset's normalised terms (see :mod:`datenschatz.catalog.textnorm`)
and, on PostgreSQL, their ``tsvector`` (GIN-indexed, ``german`` configuration).
``search_facet`` holds one row per facet value of a dataset, so that facet filters and counts
are plain SQL on both back ends. On SQLite the full-text index itself is the FTS5 virtual table
:data:`FTS_TABLE` (rowid = dataset id), created by migration 0004 and not a mapped class:
its shadow tables are left out of schema comparisons by :func:`include_name`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from datenschatz.db.models import Base, utcnow

FTS_TABLE = "search_fts"
# FTS5 columns, in order; bm25 weighs them as the search module says.
FTS_COLUMNS = ("title_terms", "keyword_terms", "body_terms")

TsVector = Text().with_variant(TSVECTOR(), "postgresql")


class SearchDocument(Base):
    """The searchable text of one dataset (rebuilt whenever the dataset changes)."""

    __tablename__ = "search_document"
    __table_args__ = (Index("ix_search_document_tsv", "tsv", postgresql_using="gin"),)

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    # Normalised terms: title (German and English), keywords/themes/organization, the rest.
    title_terms: Mapped[str] = mapped_column(Text, default="")
    keyword_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    # The title folded for sorting (case, umlauts, accents).
    sort_title: Mapped[str] = mapped_column(String(500), default="")
    # PostgreSQL only: the weighted tsvector of the terms; NULL on SQLite (FTS5 indexes there).
    tsv: Mapped[str | None] = mapped_column(TsVector, default=None)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SearchFacet(Base):
    """One facet value of a dataset (organization, theme, licence, format, tag, ...)."""

    __tablename__ = "search_facet"
    __table_args__ = (Index("ix_search_facet_facet_value", "facet", "value"),)

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)


class DatasetUsage(Base):
    """How often a dataset's content was read (row pages, aggregates, downloads)."""

    __tablename__ = "dataset_usage"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    uses: Mapped[int] = mapped_column(BigInteger, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's name filter: the FTS5 table and its shadow tables are not in the models."""
    del parent_names
    if type_ == "table" and name is not None:
        return name != FTS_TABLE and not name.startswith(FTS_TABLE + "_")
    return True
