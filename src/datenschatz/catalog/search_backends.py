"""The two full-text back ends behind one small interface: SQLite FTS5 and PostgreSQL.

Both receive the terms of :mod:`datenschatz.catalog.textnorm` (already stemmed and folded), so
they agree on what matches; each ranks with its own function (``bm25`` on FTS5, ``ts_rank_cd``
on PostgreSQL), weighting title terms above keyword terms above the rest. Query terms match
as prefixes ("luft" finds "Luftqualität"), which suits German compounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Subquery,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from datenschatz.db.search_models import FTS_COLUMNS, FTS_TABLE, SearchDocument

# Relative weights of title, keyword and body terms.
WEIGHTS = (10.0, 4.0, 1.0)


class Backend(Protocol):
    name: str

    def write(self, session: Session, documents: Sequence[SearchDocument]) -> None:
        """Index ``documents`` (their rows in search_document are written already)."""

    def delete(self, session: Session, dataset_ids: Sequence[int]) -> None:
        """Drop the index entries of ``dataset_ids``."""

    def matches(self, terms: Sequence[str]) -> Subquery:
        """A subquery of (dataset_id, score) for datasets with every term; higher is better."""


class SqliteFts:
    name = "sqlite"

    def write(self, session: Session, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        columns = ", ".join(FTS_COLUMNS)
        values = ", ".join(f":{c}" for c in FTS_COLUMNS)
        session.execute(
            text(f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES (:rowid, {values})"),
            [
                {
                    "rowid": d.dataset_id,
                    "title_terms": d.title_terms,
                    "keyword_terms": d.keyword_terms,
                    "body_terms": d.body_terms,
                }
                for d in documents
            ],
        )

    def delete(self, session: Session, dataset_ids: Sequence[int]) -> None:
        if dataset_ids:
            session.execute(
                text(f"DELETE FROM {FTS_TABLE} WHERE rowid IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": list(dataset_ids)},
            )

    def matches(self, terms: Sequence[str]) -> Subquery:
        # Terms are letters and digits only (textnorm), so quoting them is all the escaping.
        query = " ".join(f'"{t}"*' for t in terms)
        weights = ", ".join(str(w) for w in WEIGHTS)
        return (
            select(
                literal_column("rowid").label("dataset_id"),
                literal_column(f"-bm25({FTS_TABLE}, {weights})", Float).label("score"),
            )
            .select_from(text(FTS_TABLE))
            .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=query))
            .subquery("fts")
        )


_CONFIG = "'german'::regconfig"
# ts_rank_cd weights in the order D, C, B, A: body terms are D, keywords B, titles A (as WEIGHTS).
_PG_WEIGHTS = f"'{{{WEIGHTS[2] / WEIGHTS[0]:g}, 0, {WEIGHTS[1] / WEIGHTS[0]:g}, 1}}'::float4[]"


class PostgresFts:
    name = "postgresql"

    def write(self, session: Session, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        vector: ColumnElement[Any] = literal_column(
            f"setweight(to_tsvector({_CONFIG}, title_terms), 'A')"
            f" || setweight(to_tsvector({_CONFIG}, keyword_terms), 'B')"
            f" || setweight(to_tsvector({_CONFIG}, body_terms), 'D')"
        )
        session.execute(
            update(SearchDocument)
            .where(SearchDocument.dataset_id.in_([d.dataset_id for d in documents]))
            .values(tsv=vector)
            .execution_options(synchronize_session=False)
        )

    def delete(self, session: Session, dataset_ids: Sequence[int]) -> None:
        del session, dataset_ids  # the tsvector lives in search_document's own rows

    def matches(self, terms: Sequence[str]) -> Subquery:
        query: BindParameter[str] = bindparam("pg_query", " & ".join(f"'{t}':*" for t in terms))
        tsquery = func.to_tsquery(literal_column(_CONFIG), query)
        score = func.ts_rank_cd(literal_column(_PG_WEIGHTS), SearchDocument.tsv, tsquery)
        return (
            select(SearchDocument.dataset_id.label("dataset_id"), score.label("score"))
            .where(SearchDocument.tsv.op("@@")(tsquery))
            .subquery("fts")
        )


def backend_for(session: Session) -> Backend:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return PostgresFts()
    if name == "sqlite":
        return SqliteFts()
    raise NotImplementedError(f"no search back end for {name}")


def clear(session: Session) -> None:
    """Empty the whole index (before a full rebuild)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"DELETE FROM {FTS_TABLE}"))
    session.execute(delete(SearchDocument))
