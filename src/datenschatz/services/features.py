"""OGC API - Features as service functions: collections, pages of features, single features.

Every published dataset whose published version has a geometry column is a collection; its
id is the dataset slug. Which datasets exist for a caller is the access policy's decision
(:func:`visible_datasets`, :func:`ensure_version`); hidden ones look absent.

Nothing here knows HTTP: interfaces pass the query parameters as (key, value) pairs (without
``f``) and turn the results into GeoJSON, HTML or whatever they speak. Results derive from
one immutable version file; each prepared request has a ``fingerprint`` for ETags, known
before any query runs.

A dataset may name the column that ``datetime`` selects on in its metadata
(``time_column``); otherwise it is the first date or timestamp column of the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from datenschatz.access.policy import Principal, ensure_version, visible_datasets
from datenschatz.db.models import Dataset, Version
from datenschatz.errors import NotFound
from datenschatz.hub import Hub
from datenschatz.ogc import params as ogc_params
from datenschatz.ogc import query as ogc_query
from datenschatz.ogc.crs import Crs
from datenschatz.services.fingerprint import fingerprint
from datenschatz.store.query import Column, Kind, Table

Pairs = ogc_params.Pairs

COUNT_TIME_LIMIT = 1.0  # seconds numberMatched may take before it is left out
TIME_COLUMN_KEY = "time_column"  # dataset metadata naming the column of ``datetime``

_GEOJSON_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRYCOLLECTION": "GeometryCollection",
}
_FEATURE_ID = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Collection:
    """What the feature API shows of one dataset and its published version."""

    id: str  # the dataset slug
    title: str
    description: str
    organization: str
    version: int
    sha256: str
    rows: int
    bbox: list[float] | None  # CRS84: min lon, min lat, max lon, max lat
    interval: tuple[str | None, str | None] | None  # RFC 3339, UTC
    time_column: str | None
    geometry_types: list[str]  # GeoJSON type names found in the version
    properties: tuple[Column, ...]  # every column but the geometry
    table: Table

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            "ogc-collection",
            self.id,
            self.title,
            self.description,
            self.sha256,
            self.time_column,
            self.interval,
        )


def _rfc3339(text: str | None, kind: Kind, *, end: bool) -> str | None:
    """A min/max value of the quality report (DuckDB's text) as an RFC 3339 UTC instant."""
    if not text:
        return None
    try:
        if kind is Kind.DATE:
            day = datetime.fromisoformat(text[:10])
            return day.strftime("%Y-%m-%dT23:59:59Z" if end else "%Y-%m-%dT00:00:00Z")
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def _report_column(version: Version, name: str) -> dict[str, Any]:
    for entry in version.quality.get("columns") or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return {}


def _geometry_types(version: Version) -> list[str]:
    if not version.geometry_column:
        return []
    text = str(_report_column(version, version.geometry_column).get("geometry_types") or "")
    names = [n.strip().upper() for n in text.strip("[]").split(",") if n.strip()]
    return [_GEOJSON_TYPES.get(n, n.title()) for n in names]


def _table(hub: Hub, version: Version) -> Table:
    return Table.from_schema(
        hub.store.path(version.path),
        sha256=version.sha256,
        row_count=version.row_count,
        table_schema=version.table_schema,
        geometry_column=version.geometry_column,
    )


def _collection(hub: Hub, dataset: Dataset, version: Version) -> Collection | None:
    table = _table(hub, version)
    if not ogc_query.servable(table):
        return None
    declared = dataset.extra.get(TIME_COLUMN_KEY)
    column = ogc_params.time_column(table, declared if isinstance(declared, str) else None)
    interval = None
    if column is not None:
        entry = _report_column(version, column.name)
        start = _rfc3339(entry.get("min"), column.kind, end=False)
        end = _rfc3339(entry.get("max"), column.kind, end=True)
        if start or end:
            interval = (start, end)
    bbox = [float(v) for v in version.bbox] if version.bbox and len(version.bbox) == 4 else None
    return Collection(
        id=dataset.slug,
        title=dataset.title,
        description=dataset.description,
        organization=dataset.organization.name,
        version=version.number,
        sha256=version.sha256,
        rows=version.row_count,
        bbox=bbox,
        interval=interval,
        time_column=column.name if column is not None else None,
        geometry_types=_geometry_types(version),
        properties=tuple(c for c in table.columns if c.name != table.geometry),
        table=table,
    )


def collections(hub: Hub, principal: Principal) -> list[Collection]:
    """The collections ``principal`` may see, by id."""
    found: list[Collection] = []
    with hub.session() as session:
        rows = session.execute(
            select(Dataset, Version)
            .join(Version, Dataset.published_version_id == Version.id)
            .where(visible_datasets(principal), Version.geometry_column.is_not(None))
            .options(joinedload(Dataset.organization))
            .order_by(Dataset.slug)
        ).all()
        for dataset, version in rows:
            item = _collection(hub, dataset, version)
            if item is not None:
                found.append(item)
    return found


def collection(hub: Hub, principal: Principal, collection_id: str) -> Collection:
    """The collection ``collection_id``, if ``principal`` may see it; NotFound otherwise."""
    item = None
    with hub.session() as session:
        try:
            version = ensure_version(session, principal, collection_id)
        except NotFound:
            version = None
        if version is not None and version.geometry_column is not None:
            item = _collection(hub, version.dataset, version)
    if item is None:
        raise NotFound("No such collection.", collection=collection_id)
    return item


# --- items ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Items:
    collection: str
    crs: Crs
    features: list[str]  # GeoJSON Feature objects, as text
    number_matched: int | None  # None when counting took too long
    next_cursor: str | None  # pass as ``cursor`` for the next page; None on the last page
    time_stamp: datetime  # when the response was generated (UTC)

    @property
    def number_returned(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class PreparedItems:
    hub: Hub
    collection: Collection
    request: ogc_params.ItemsRequest
    # Who reads: a partner's read of a partner dataset counts against their grant.
    reader: Principal | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint("ogc-items", self.collection.sha256, self.request.canonical)

    def run(self) -> Items:
        settings = self.hub.settings
        con = self.hub.query_duckdb()
        try:
            page = ogc_query.fetch_features(
                con,
                self.collection.table,
                self.request,
                time_limit=settings.query_timeout_seconds,
                count_limit=min(COUNT_TIME_LIMIT, settings.query_timeout_seconds),
            )
        finally:
            con.close()
        if self.reader is not None:
            from datenschatz.governance.grants import count_partner_read

            count_partner_read(self.hub, self.reader, self.collection.id, rows=len(page.features))
        return Items(
            collection=self.collection.id,
            crs=self.request.crs,
            features=page.features,
            number_matched=page.number_matched,
            next_cursor=page.next_cursor,
            time_stamp=datetime.now(UTC),
        )


def prepare_items(
    hub: Hub, principal: Principal, collection_id: str, params: Pairs
) -> PreparedItems:
    """Check access and parameters of an items request; nothing is read yet."""
    found = collection(hub, principal, collection_id)
    request = ogc_params.parse_items(
        params,
        found.table,
        time_column_name=found.time_column,
        max_limit=hub.settings.max_rows_per_page,
    )
    return PreparedItems(hub, found, request, principal)


def items(hub: Hub, principal: Principal, collection_id: str, params: Pairs) -> Items:
    """One page of features of ``collection_id``."""
    return prepare_items(hub, principal, collection_id, params).run()


# --- one feature ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    collection: str
    id: int
    crs: Crs
    feature: str  # the GeoJSON Feature, as text


@dataclass(frozen=True)
class PreparedFeature:
    hub: Hub
    collection: Collection
    id: int
    crs: Crs

    @property
    def fingerprint(self) -> str:
        return fingerprint("ogc-feature", self.collection.sha256, self.id, self.crs.uri)

    def run(self) -> Feature:
        con = self.hub.query_duckdb()
        try:
            text = ogc_query.fetch_feature(
                con,
                self.collection.table,
                self.id,
                self.crs,
                time_limit=self.hub.settings.query_timeout_seconds,
            )
        finally:
            con.close()
        if text is None:
            raise NotFound("No such feature.", collection=self.collection.id, feature=self.id)
        return Feature(self.collection.id, self.id, self.crs, text)


def prepare_feature(
    hub: Hub, principal: Principal, collection_id: str, feature_id: str, params: Pairs
) -> PreparedFeature:
    """Check access, the feature id and parameters; nothing is read yet."""
    found = collection(hub, principal, collection_id)
    crs = ogc_params.parse_item(params)
    if not _FEATURE_ID.fullmatch(feature_id) or int(feature_id) >= found.rows:
        raise NotFound("No such feature.", collection=collection_id)
    return PreparedFeature(hub, found, int(feature_id), crs)


def feature(
    hub: Hub, principal: Principal, collection_id: str, feature_id: str, params: Pairs
) -> Feature:
    """The feature ``feature_id`` (its row number in the version file) of ``collection_id``."""
    return prepare_feature(hub, principal, collection_id, feature_id, params).run()
