"""Reading a version's content: pages of rows, aggregates and downloads.

Each function asks the access policy for the version first (hidden looks absent), parses the
parameters (every mistake an InputError naming the parameter) and hands a typed query to the
query layer. Nothing here knows HTTP; interfaces pass the query parameters as (key, value)
pairs, in the order the client sent them.

Every result is derived from one immutable version file, so each prepared request has a
``fingerprint``: equal fingerprints mean equal content. Interfaces use it for ETags and can
answer "not modified" before any query runs (``prepare_*`` then ``run``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from datenschatz.access.policy import Principal, ensure_version
from datenschatz.catalog import usage
from datenschatz.db.models import AccessLevel
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.services.fingerprint import fingerprint
from datenschatz.store import params as query_params
from datenschatz.store.query import (
    AggregateQuery,
    Count,
    ExportQuery,
    Format,
    RowsQuery,
    Table,
    export,
    fetch_page,
)
from datenschatz.store.query import aggregate as run_aggregate

Pairs = query_params.Pairs

COUNT_TIME_LIMIT = 1.0  # seconds an exact count may take before it is estimated


@dataclass(frozen=True)
class Source:
    """The version a request reads, resolved by the access policy."""

    dataset: str
    version: int
    table: Table
    # Set for a partner reading a partner dataset under a grant: the read counts against it.
    grant_reader: Principal | None = None
    dataset_id: int | None = None


def _count_grant(hub: Hub, source: Source, *, rows: int = 0, downloads: int = 0) -> None:
    """Count a grant holder's read of a partner dataset (requests, downloads, rows)."""
    if source.grant_reader is None or source.dataset_id is None:
        return
    from datenschatz.governance.grants import count_usage

    with hub.session() as session:
        count_usage(session, source.grant_reader, source.dataset_id, rows=rows, downloads=downloads)


def _source(hub: Hub, principal: Principal, slug: str, version: int | None) -> Source:
    with hub.session() as session:
        found = ensure_version(session, principal, slug, version)
        table = Table.from_schema(
            hub.store.path(found.path),
            sha256=found.sha256,
            row_count=found.row_count,
            table_schema=found.table_schema,
            geometry_column=found.geometry_column,
        )
        dataset = found.dataset
        if (
            dataset.access_level is AccessLevel.PARTNER
            and dataset.id in principal.partner_dataset_ids
        ):
            return Source(slug, found.number, table, principal, dataset.id)
        return Source(slug, found.number, table)


def _fields(columns: Any) -> list[dict[str, Any]]:
    return [dict(c.schema) or {"name": c.name, "type": c.kind.value} for c in columns]


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowsResult:
    dataset: str
    version: int
    fields: list[dict[str, Any]]  # Table Schema entries of the returned columns
    rows_json: list[str]  # one JSON object per row, as text
    count: Count
    next_cursor: str | None  # pass as ``_next`` for the next page; None on the last page

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [json.loads(r) for r in self.rows_json]


@dataclass(frozen=True)
class PreparedRows:
    hub: Hub
    source: Source
    query: RowsQuery

    @property
    def fingerprint(self) -> str:
        q = self.query
        return fingerprint("rows", q.fingerprint(self.source.table), q.limit, q.cursor)

    def run(self) -> RowsResult:
        usage.record(self.hub.engine, self.source.dataset)
        settings = self.hub.settings
        con = self.hub.query_duckdb()
        try:
            page = fetch_page(
                con,
                self.source.table,
                self.query,
                time_limit=settings.query_timeout_seconds,
                count_limit=min(COUNT_TIME_LIMIT, settings.query_timeout_seconds),
            )
        finally:
            con.close()
        _count_grant(self.hub, self.source, rows=len(page.rows))
        return RowsResult(
            dataset=self.source.dataset,
            version=self.source.version,
            fields=_fields(page.columns),
            rows_json=page.rows,
            count=page.count,
            next_cursor=page.next_cursor,
        )


def prepare_rows(
    hub: Hub, principal: Principal, slug: str, params: Pairs, version: int | None = None
) -> PreparedRows:
    """Check access and parameters of a rows request; nothing is read yet."""
    source = _source(hub, principal, slug, version)
    query = query_params.parse_rows(
        params,
        source.table,
        default_limit=hub.settings.rows_per_page,
        max_limit=hub.settings.max_rows_per_page,
    )
    return PreparedRows(hub, source, query)


def rows(
    hub: Hub, principal: Principal, slug: str, params: Pairs, version: int | None = None
) -> RowsResult:
    """One page of rows of the published version (or ``version``) of ``slug``."""
    return prepare_rows(hub, principal, slug, params, version).run()


# --- aggregates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateResultView:
    dataset: str
    version: int
    group_by: list[str]
    metrics: list[str]
    columns: list[dict[str, str]]  # name and type of each result column
    rows_json: list[str]  # one JSON object per group, as text
    truncated: bool  # more groups than the limit

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [json.loads(r) for r in self.rows_json]


@dataclass(frozen=True)
class PreparedAggregate:
    hub: Hub
    source: Source
    query: AggregateQuery

    @property
    def fingerprint(self) -> str:
        return fingerprint("aggregate", self.query.fingerprint(self.source.table))

    def run(self) -> AggregateResultView:
        usage.record(self.hub.engine, self.source.dataset)
        con = self.hub.query_duckdb()
        try:
            result = run_aggregate(
                con,
                self.source.table,
                self.query,
                time_limit=self.hub.settings.query_timeout_seconds,
            )
        finally:
            con.close()
        _count_grant(self.hub, self.source, rows=len(result.rows))
        return AggregateResultView(
            dataset=self.source.dataset,
            version=self.source.version,
            group_by=[g.name for g in self.query.group_by],
            metrics=[m.name for m in self.query.metrics],
            columns=[{"name": c.name, "type": c.kind.value} for c in result.columns],
            rows_json=result.rows,
            truncated=result.truncated,
        )


def prepare_aggregate(
    hub: Hub, principal: Principal, slug: str, params: Pairs, version: int | None = None
) -> PreparedAggregate:
    source = _source(hub, principal, slug, version)
    query = query_params.parse_aggregate(
        params, source.table, max_groups=hub.settings.max_rows_per_page
    )
    return PreparedAggregate(hub, source, query)


def aggregate(
    hub: Hub, principal: Principal, slug: str, params: Pairs, version: int | None = None
) -> AggregateResultView:
    """Groups and metrics over the published version (or ``version``) of ``slug``."""
    return prepare_aggregate(hub, principal, slug, params, version).run()


# --- downloads ------------------------------------------------------------------------------


@dataclass
class Download:
    dataset: str
    version: int
    format: Format
    filename: str
    media_type: str
    chunks: Iterator[bytes]  # the content, produced while it is read
    size: int | None  # known for files, None for streamed formats


@dataclass(frozen=True)
class PreparedDownload:
    hub: Hub
    source: Source
    query: ExportQuery
    format: Format

    @property
    def fingerprint(self) -> str:
        return fingerprint("download", self.query.fingerprint(self.source.table, self.format))

    @property
    def filename(self) -> str:
        return f"{self.source.dataset}-v{self.source.version}.{self.format.value}"

    def run(self) -> Download:
        """Start the download; refusals (e.g. too many rows for XLSX) are raised here."""
        usage.record(self.hub.engine, self.source.dataset)
        settings = self.hub.settings
        result = export(
            lambda: self.hub.query_duckdb(),
            self.source.table,
            self.query,
            self.format,
            time_limit=settings.query_timeout_seconds,
            tmp_dir=settings.tmp_dir / "exports",
        )
        _count_grant(self.hub, self.source, downloads=1)
        return Download(
            dataset=self.source.dataset,
            version=self.source.version,
            format=self.format,
            filename=self.filename,
            media_type=result.media_type,
            chunks=result.chunks,
            size=result.size,
        )


def prepare_download(
    hub: Hub,
    principal: Principal,
    slug: str,
    params: Pairs,
    fmt: Format | str,
    version: int | None = None,
) -> PreparedDownload:
    source = _source(hub, principal, slug, version)
    try:
        format_ = Format(fmt)
    except ValueError:
        known = ", ".join(f.value for f in Format)
        raise InputError(
            f"Unknown download format; use one of {known}.", parameter="format"
        ) from None
    query = query_params.parse_export(params, source.table, format_)
    if format_ is Format.GEOJSON and source.table.geometry is None:
        raise InputError(
            "GeoJSON is only available for datasets with geometry; use JSON or CSV.",
            parameter="format",
        )
    return PreparedDownload(hub, source, query, format_)


def download(
    hub: Hub,
    principal: Principal,
    slug: str,
    params: Pairs,
    fmt: Format | str,
    version: int | None = None,
) -> Download:
    """The published version (or ``version``) of ``slug`` as ``fmt``, whole or filtered."""
    return prepare_download(hub, principal, slug, params, fmt, version).run()
