"""Searching the catalog: German full text, facet filters and counts, sorting, paging.

:func:`search` is the one service behind ``GET /api/v1/search``, CKAN's ``package_search``
and the web catalog. Only datasets the access policy lets the caller see are matched or
counted, so a hidden dataset leaks neither through a hit nor through a facet count.

Parameters (:func:`parse_search`, all optional):

- ``q``: words; every word must match (as a prefix, after German stemming and umlaut folding)
  in the title, description, keywords, themes, organization or column names/descriptions.
- a facet name with a value filters on it (repeat to combine; all must hold):
  ``organization``, ``theme``, ``licence``, ``format``, ``access_level``, ``tag``, ``group``,
  ``has_geodata`` and ``has_time_series`` (``true``/``false``).
- ``sort``: ``relevance`` (default; newest first without ``q``), ``newest``, ``title``,
  ``most_used``.
- ``limit`` (1..1000, default 20), ``offset`` (default 0).
- ``facet``: which facets to count (repeatable; default all), ``facet_limit`` (values per
  facet, default 50, ``-1`` for all).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, collate, func, literal, select
from sqlalchemy.orm import Session, joinedload

from datenschatz.access.policy import Principal, ensure_dataset, visible_datasets
from datenschatz.catalog import textnorm, usage, vocab
from datenschatz.catalog.metadata import DatasetMetadata, licence_title, read_metadata
from datenschatz.catalog.search_backends import backend_for
from datenschatz.catalog.views import DatasetInfo
from datenschatz.db.catalog_models import Group
from datenschatz.db.models import Dataset, Organization
from datenschatz.db.search_models import DatasetUsage, SearchDocument, SearchFacet
from datenschatz.errors import InputError

FACETS = (
    "organization",
    "theme",
    "licence",
    "format",
    "access_level",
    "tag",
    "group",
    "has_geodata",
    "has_time_series",
)
BOOLEAN_FACETS = frozenset({"has_geodata", "has_time_series"})
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20
DEFAULT_FACET_LIMIT = 50
MAX_FILTERS = 50
PARAMETERS = frozenset({"q", "sort", "limit", "offset", "facet", "facet_limit", *FACETS})
_REPEATABLE = frozenset({"facet", *FACETS})


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    TITLE = "title"
    MOST_USED = "most_used"


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()  # (facet, value); every one must hold
    sort: Sort = Sort.RELEVANCE
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    facets: tuple[str, ...] = FACETS
    facet_limit: int = DEFAULT_FACET_LIMIT  # -1: every value

    def __post_init__(self) -> None:
        if not 0 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit must be between 0 and {MAX_LIMIT}.", parameter="limit")
        if self.offset < 0:
            raise InputError("offset must not be negative.", parameter="offset")
        if self.facet_limit < -1:
            raise InputError("facet_limit must be -1 (all) or more.", parameter="facet_limit")
        if len(self.filters) > MAX_FILTERS:
            raise InputError(f"At most {MAX_FILTERS} facet filters.", parameter="filters")
        for name in (*self.facets, *(f for f, _ in self.filters)):
            if name not in FACETS:
                raise InputError(
                    f"Unknown facet {name!r}; use one of {', '.join(FACETS)}.", parameter="facet"
                )
        for name, value in self.filters:
            if name in BOOLEAN_FACETS and value not in ("true", "false"):
                raise InputError(f"{name} must be true or false.", parameter=name)


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, "count": self.count}


@dataclass(frozen=True)
class Hit:
    """One found dataset: what views show of it, its metadata, score and facet values."""

    dataset: DatasetInfo
    metadata: DatasetMetadata
    score: float | None
    facets: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]


# --- parameters -----------------------------------------------------------------------------


def _int(values: list[str], parameter: str) -> int:
    try:
        return int(values[-1].strip())
    except ValueError:
        raise InputError(f"{parameter} must be a whole number.", parameter=parameter) from None


def parse_search(pairs: Sequence[tuple[str, str]]) -> SearchQuery:
    """A SearchQuery from query parameters; InputError naming the first wrong parameter."""
    given: dict[str, list[str]] = {}
    for key, value in pairs:
        if key not in PARAMETERS:
            raise InputError(f"Unknown parameter {key!r}.", parameter=key)
        if key in given and key not in _REPEATABLE:
            raise InputError(f"{key} may be given only once.", parameter=key)
        given.setdefault(key, []).append(value)
    sort_text = given.get("sort", ["relevance"])[-1].strip() or "relevance"
    try:
        sort = Sort(sort_text)
    except ValueError:
        known = ", ".join(s.value for s in Sort)
        raise InputError(f"Unknown sort; use one of {known}.", parameter="sort") from None
    facets: tuple[str, ...] = FACETS
    if "facet" in given:
        names = [n.strip() for v in given["facet"] for n in v.split(",") if n.strip()]
        for name in names:
            if name not in FACETS:
                raise InputError(
                    f"Unknown facet {name!r}; use one of {', '.join(FACETS)}.", parameter="facet"
                )
        facets = tuple(dict.fromkeys(names))
    filters = tuple(
        (name, value.strip().lower() if name in BOOLEAN_FACETS else value.strip())
        for name in FACETS
        for value in given.get(name, [])
    )
    return SearchQuery(
        q=" ".join(given.get("q", [])),
        filters=filters,
        sort=sort,
        limit=_int(given["limit"], "limit") if "limit" in given else DEFAULT_LIMIT,
        offset=_int(given["offset"], "offset") if "offset" in given else 0,
        facets=facets,
        facet_limit=(
            _int(given["facet_limit"], "facet_limit")
            if "facet_limit" in given
            else DEFAULT_FACET_LIMIT
        ),
    )


# --- the search -----------------------------------------------------------------------------


def _filter(name: str, value: str) -> ColumnElement[bool]:
    return Dataset.id.in_(
        select(SearchFacet.dataset_id).where(SearchFacet.facet == name, SearchFacet.value == value)
    )


def _title_order(session: Session) -> ColumnElement[str]:
    name = "C" if session.get_bind().dialect.name == "postgresql" else "BINARY"
    return collate(SearchDocument.sort_title, name)


def search(session: Session, principal: Principal, query: SearchQuery) -> SearchResult:
    """One page of the datasets ``principal`` may see that match ``query``, with facets."""
    terms = textnorm.query_terms(query.q)
    base: Select[Any] = select(Dataset.id).where(visible_datasets(principal))
    for name, value in query.filters:
        base = base.where(_filter(name, value))
    score: ColumnElement[Any] = literal(None)
    if terms:
        matched = backend_for(session).matches(terms)
        base = base.join(matched, matched.c.dataset_id == Dataset.id)
        score = matched.c.score
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0

    page = base.add_columns(score.label("score")).join(
        SearchDocument, SearchDocument.dataset_id == Dataset.id, isouter=True
    )
    newest = (Dataset.modified_at.desc(), Dataset.slug)
    if query.sort is Sort.RELEVANCE:
        order: tuple[Any, ...] = (score.desc(), *newest) if terms else newest
    elif query.sort is Sort.NEWEST:
        order = newest
    elif query.sort is Sort.TITLE:
        order = (_title_order(session), Dataset.slug)
    else:
        usage.flush(session.get_bind().engine)
        page = page.join(DatasetUsage, DatasetUsage.dataset_id == Dataset.id, isouter=True)
        order = (func.coalesce(DatasetUsage.uses, 0).desc(), *newest)
    rows = session.execute(page.order_by(*order).limit(query.limit).offset(query.offset)).all()
    ids = [row[0] for row in rows]
    loaded = {
        d.id: d
        for d in session.scalars(
            select(Dataset)
            .where(Dataset.id.in_(ids))
            .options(joinedload(Dataset.organization), joinedload(Dataset.published_version))
        )
    }
    values = _facet_values(session, ids)
    hits = [
        Hit(
            DatasetInfo.of(loaded[row[0]]),
            read_metadata(loaded[row[0]]),
            float(row[1]) if row[1] is not None else None,
            values.get(row[0], {}),
        )
        for row in rows
    ]
    facets = _facet_counts(session, base, query) if query.facets else {}
    return SearchResult(query, total, hits, facets)


def entry(session: Session, principal: Principal, slug: str) -> Hit:
    """One dataset as search shows it, if ``principal`` may see it (NotFound otherwise)."""
    dataset = ensure_dataset(session, principal, slug)
    facets = _facet_values(session, [dataset.id]).get(dataset.id, {})
    return Hit(DatasetInfo.of(dataset), read_metadata(dataset), None, facets)


def _facet_values(session: Session, ids: list[int]) -> dict[int, dict[str, list[str]]]:
    result: dict[int, dict[str, list[str]]] = {}
    if ids:
        rows = session.execute(
            select(SearchFacet.dataset_id, SearchFacet.facet, SearchFacet.value)
            .where(SearchFacet.dataset_id.in_(ids))
            .order_by(SearchFacet.dataset_id, SearchFacet.facet, SearchFacet.value)
        )
        for dataset_id, name, value in rows:
            result.setdefault(dataset_id, {}).setdefault(name, []).append(value)
    return result


def _facet_counts(
    session: Session, base: Select[Any], query: SearchQuery
) -> dict[str, list[FacetValue]]:
    matching = base.subquery()
    count = func.count().label("n")
    rows = session.execute(
        select(SearchFacet.facet, SearchFacet.value, count)
        .where(
            SearchFacet.dataset_id.in_(select(matching.c.id)),
            SearchFacet.facet.in_(query.facets),
        )
        .group_by(SearchFacet.facet, SearchFacet.value)
    ).all()
    grouped: dict[str, list[tuple[str, int]]] = {name: [] for name in query.facets}
    for name, value, n in rows:
        grouped[name].append((value, int(n)))
    labels = _labels(session, grouped)
    result: dict[str, list[FacetValue]] = {}
    for name, items in grouped.items():
        items.sort(key=lambda item: (-item[1], item[0]))
        if query.facet_limit >= 0:
            items = items[: query.facet_limit]
        result[name] = [
            FacetValue(value, labels.get((name, value), value), n) for value, n in items
        ]
    return result


def _labels(
    session: Session, grouped: dict[str, list[tuple[str, int]]]
) -> dict[tuple[str, str], str]:
    labels: dict[tuple[str, str], str] = {}
    orgs = [v for v, _ in grouped.get("organization", [])]
    if orgs:
        for slug, name in session.execute(
            select(Organization.slug, Organization.name).where(Organization.slug.in_(orgs))
        ):
            labels["organization", slug] = name
    groups = [v for v, _ in grouped.get("group", [])]
    if groups:
        for slug, title in session.execute(
            select(Group.slug, Group.title).where(Group.slug.in_(groups))
        ):
            labels["group", slug] = title
    for code, _n in grouped.get("theme", []):
        theme = vocab.THEMES.get(code)
        if theme:
            labels["theme", code] = theme.de
    for licence, _n in grouped.get("licence", []):
        labels["licence", licence] = licence_title(licence)
    return labels
