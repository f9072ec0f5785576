"""The search index: documents and facet values of datasets, rebuilt on commit.

:mod:`datenschatz.catalog.search_sync` collects the datasets whose Dataset, Version,
Organization or group rows changed in a flush and calls :func:`reindex` just before the
transaction commits, in the same transaction. No other module has to remember to call the
index. Every dataset is indexed, whatever its status: who may find it is decided at query time
by the access policy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from datenschatz.catalog import textnorm, vocab
from datenschatz.catalog.metadata import dataset_group_slugs, read_metadata
from datenschatz.catalog.search_backends import backend_for, clear
from datenschatz.db.models import Dataset, Version, utcnow
from datenschatz.db.search_models import FTS_TABLE, SearchDocument, SearchFacet
from datenschatz.store.query.exports import Format

log = logging.getLogger(__name__)

_TIME_TYPES = frozenset({"date", "datetime"})
# Download formats every published version has; GeoJSON only with a geometry column.
TABULAR_FORMATS = (Format.CSV, Format.JSON, Format.XLSX, Format.PARQUET)
_FORMAT_NAMES = {
    Format.CSV: "CSV",
    Format.JSON: "JSON",
    Format.XLSX: "XLSX",
    Format.PARQUET: "Parquet",
    Format.GEOJSON: "GeoJSON",
}


def distribution_formats(version: Version | None) -> list[Format]:
    """The download formats of a published version (none without one)."""
    if version is None:
        return []
    formats = list(TABULAR_FORMATS)
    if version.geometry_column is not None:
        formats.append(Format.GEOJSON)
    return formats


def format_name(fmt: Format) -> str:
    """The name a catalog shows for a format (CSV, GeoJSON, ...)."""
    return _FORMAT_NAMES.get(fmt, fmt.value.upper())


def has_time_series(version: Version | None) -> bool:
    fields = (version.table_schema or {}).get("fields", []) if version else []
    return any(isinstance(f, dict) and f.get("type") in _TIME_TYPES for f in fields)


@dataclass(frozen=True)
class Indexed:
    document: SearchDocument
    facets: list[tuple[str, str]]


def _column_text(version: Version | None) -> list[str]:
    texts: list[str] = []
    fields = (version.table_schema or {}).get("fields", []) if version else []
    for field in fields:
        if isinstance(field, dict):
            texts.extend(
                str(field[key]) for key in ("name", "title", "description") if field.get(key)
            )
    return texts


def build(dataset: Dataset, groups: Sequence[str]) -> Indexed:
    """The search document and facet values of one dataset."""
    meta = read_metadata(dataset)
    version = dataset.published_version
    organization = dataset.organization
    theme_labels = [
        label for code in meta.themes if (t := vocab.THEMES.get(code)) for label in (t.de, t.en)
    ]
    document = SearchDocument(
        dataset_id=dataset.id,
        title_terms=textnorm.index_text(dataset.title, meta.title_en),
        keyword_terms=textnorm.index_text(*meta.keywords, *theme_labels, organization.name),
        body_terms=textnorm.index_text(
            dataset.description, meta.description_en, *_column_text(version)
        ),
        sort_title=textnorm.sort_key(dataset.title),
        indexed_at=utcnow(),
    )
    formats = distribution_formats(version)
    facets = [
        ("organization", organization.slug),
        ("licence", meta.licence),
        ("access_level", dataset.access_level.value),
        ("has_geodata", _flag(version is not None and version.geometry_column is not None)),
        ("has_time_series", _flag(has_time_series(version))),
        *(("theme", code) for code in meta.themes),
        *(("tag", keyword[:300]) for keyword in meta.keywords),
        *(("format", format_name(f)) for f in formats),
        *(("group", slug) for slug in groups),
    ]
    return Indexed(document, sorted(set(facets)))


def _flag(value: bool) -> str:
    return "true" if value else "false"


_DOCUMENT_COLUMNS = ("title_terms", "keyword_terms", "body_terms", "sort_title")


def _insert(session: Session, model: type[SearchDocument] | type[SearchFacet]) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def reindex(session: Session, dataset_ids: Iterable[int]) -> int:
    """Rebuild the index entries of ``dataset_ids`` (gone datasets are dropped). Returns count."""
    ids = sorted(set(dataset_ids))
    if not ids or not index_ready(session):
        return 0
    backend = backend_for(session)
    datasets = session.scalars(
        select(Dataset)
        .where(Dataset.id.in_(ids))
        .options(joinedload(Dataset.organization), joinedload(Dataset.published_version))
    ).all()
    groups = dataset_group_slugs(session, [d.id for d in datasets])
    built: list[Indexed] = []
    for dataset in datasets:
        try:
            built.append(build(dataset, groups.get(dataset.id, [])))
        except Exception:  # a bad metadata value must not block the write that stored it
            log.exception("could not index dataset %s; it is not searchable", dataset.slug)
    backend.delete(session, ids)
    session.execute(delete(SearchFacet).where(SearchFacet.dataset_id.in_(ids)))
    kept = {b.document.dataset_id for b in built}
    gone = [i for i in ids if i not in kept]
    if gone:
        session.execute(delete(SearchDocument).where(SearchDocument.dataset_id.in_(gone)))
    if built:
        # Upserts: a concurrent re-index of the same dataset must not fail the write.
        document = _insert(session, SearchDocument)
        session.execute(
            document.on_conflict_do_update(
                index_elements=["dataset_id"],
                set_={c: document.excluded[c] for c in (*_DOCUMENT_COLUMNS, "indexed_at")},
            ),
            [
                {"dataset_id": b.document.dataset_id, "indexed_at": utcnow()}
                | {c: getattr(b.document, c) for c in _DOCUMENT_COLUMNS}
                for b in built
            ],
        )
        rows = [
            {"dataset_id": b.document.dataset_id, "facet": f, "value": v}
            for b in built
            for f, v in b.facets
        ]
        if rows:
            session.execute(_insert(session, SearchFacet).on_conflict_do_nothing(), rows)
        backend.write(session, [b.document for b in built])
    return len(built)


def reindex_all(session: Session) -> int:
    """Rebuild the whole index (e.g. after an upgrade). Returns the number of datasets."""
    if not index_ready(session):
        return 0
    clear(session)
    session.execute(delete(SearchFacet))
    ids = session.scalars(select(Dataset.id)).all()
    count = 0
    for start in range(0, len(ids), 500):
        count += reindex(session, ids[start : start + 500])
    return count


_ready: dict[str, bool] = {}


def index_ready(session: Session) -> bool:
    """True when the database has the search tables (migration 0004 ran)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    key = engine.url.render_as_string(hide_password=True)
    if not _ready.get(key):
        names = set(inspect(session.connection()).get_table_names())
        needed = {"search_document", "search_facet"}
        if engine.dialect.name == "sqlite":
            needed.add(FTS_TABLE)
        _ready[key] = needed <= names
        if not _ready[key]:
            log.warning("search index tables missing; run the migrations (datenschatz init)")
    return _ready[key]
