"""Native REST: a version's content — rows, aggregates, downloads (/api/v1/datasets/{slug}/...).

Thin: the query string goes as (key, value) pairs to :mod:`datenschatz.services.data`, the
result comes back as JSON or a stream. ETags come from the service's fingerprint, so a
matching If-None-Match is answered with 304 before any query runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.api.http import etag_for, matches
from datenschatz.hub import Hub
from datenschatz.services import data
from datenschatz.store.query import CURSOR_PARAMETER, Format

router = APIRouter(prefix="/api/v1", tags=["data"])

HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

_FILTERS_DOC = """
**Filters** (the same for rows, aggregates and downloads; all must hold):

| parameter | meaning |
|---|---|
| `col=value` | equal (`col__eq=value` for a column named like a parameter, e.g. `q__eq`) |
| `col__ne=value` | not equal (rows where `col` is empty count as not equal) |
| `col__lt`, `col__lte`, `col__gt`, `col__gte` | less / greater than (numbers, dates, times, text) |
| `col__in=a,b,c` | one of the comma-separated values |
| `col__contains=text`, `col__startswith=text` | text columns, case-insensitive |
| `col__isnull=true` / `false` | empty / not empty |
| `q=words` | every word occurs (case-insensitive) in some text column |
| `bbox=minx,miny,maxx,maxy` | geometry intersects the box (WGS 84 longitude/latitude) |

Values are read as the column's type: integers, numbers with a decimal point, `true`/`false`,
dates `YYYY-MM-DD`, timestamps in ISO 8601 (`2024-05-01T10:00`; without an offset, a
timestamp-with-time-zone column reads it as UTC). A value that does not fit the column, an
unknown column or operator is a 400 naming the parameter.
"""

ROWS_DOC = (
    """
One page of rows of the published version (or `version=N`), as JSON:

```json
{"dataset": "luft", "version": 3,
 "fields": [{"name": "pm10", "type": "number", "duckdb_type": "DOUBLE", ...}, ...],
 "count": {"value": 1234, "estimated": false},
 "next": "https://.../rows?...&_next=eyJo...",
 "rows": [{"station": "DEHE001", "pm10": 21.5, "zeit": "2024-05-01T10:00:00",
           "geometry": {"type": "Point", "coordinates": [7.2, 51.5]}}, ...]}
```

- `count` is exact when counting finishes within about a second; otherwise
  `estimated: true` with an estimate from evenly spread samples of the file (or `null`).
- `next` is the absolute URL of the next page (keyset cursor, `_next`), `null` on the last.
  Paging costs the same at any depth. A cursor only works with the query it came from.
- Timestamps are ISO 8601 (`timestamptz` in UTC with `Z`), geometry is a GeoJSON object.
- `_sort=a,b` / `_sort_desc=c`: sort keys in the order given, nulls last; ties keep file order.
- `_fields=a,b`: only these columns. `_limit`: rows per page (default and maximum are
  settings, 100 and 10,000 out of the box).
"""
    + _FILTERS_DOC
)

AGGREGATE_DOC = (
    """
Groups and metrics over the published version (or `version=N`):

- `group_by=station,zeit:day`: columns, and time buckets `col:hour|day|week|month|year` on
  date and timestamp columns (weeks start on Monday; `timestamptz` buckets are UTC).
- `metrics=count,avg:pm10,p90:pm10`: `count` (rows), `count:col` (non-empty values),
  `count_distinct:col`, `min:col`, `max:col` (numbers, text, dates, times) and `sum`, `avg`,
  `median`, `p1`..`p99` (numeric columns only; a text column is a 400). Default: `count`.
- `_sort=name` / `_sort_desc=name` over result names (e.g. `_sort_desc=count`); groups are
  otherwise ordered by the group keys.
- At most `_limit` groups (default and maximum 10,000); `truncated: true` when there were more.

Result: `{"dataset", "version", "group_by", "metrics", "columns": [{"name", "type"}],
"rows": [{"station": "A", "zeit:day": "2024-05-01T00:00:00", "count": 24, ...}],
"truncated": false}`.
"""
    + _FILTERS_DOC
)

DOWNLOAD_DOC = (
    """
The published version (or `version=N`), whole or filtered with the parameters of `rows`
(`_sort`, `_fields` and `_limit` apply too), streamed with bounded memory.
Sent with `Content-Disposition` (file name `<dataset>-v<version>.<format>`) and an `ETag`.

- **csv**: UTF-8, comma, header row; timestamps `2024-05-01 10:00:00`, geometry as WKT.
  `dialect=excel-de` for German Excel: `;`, decimal comma, CRLF and a UTF-8 BOM (dates stay
  ISO `YYYY-MM-DD`, which German Excel reads as dates).
- **json**: one array of row objects; **ndjson**: one object per line.
- **geojson**: a FeatureCollection; only for datasets with geometry (else 400).
- **parquet**: the version file itself when unfiltered, else a new (Geo)Parquet file.
- **xlsx**: at most 1,048,575 rows (Excel's limit; more is a 400); `timestamptz` in UTC.
"""
    + _FILTERS_DOC
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the ETag in If-None-Match still matches."},
    400: {"description": "A parameter is wrong; `error.details.parameter` names it."},
    404: {"description": "No such dataset or version (or not visible to you)."},
}


class CountBody(BaseModel):
    value: int | None = Field(description="Number of matching rows; null if not even estimated")
    estimated: bool = Field(description="True when counting passed its time limit")


class RowsBody(BaseModel):
    dataset: str
    version: int
    fields: list[dict[str, Any]] = Field(description="Table Schema entries of the columns")
    count: CountBody
    next: str | None = Field(description="Absolute URL of the next page, null on the last")
    rows: list[dict[str, Any]]


class AggregateBody(BaseModel):
    dataset: str
    version: int
    group_by: list[str]
    metrics: list[str]
    columns: list[dict[str, str]] = Field(description="Name and type of each result column")
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="True when there were more groups than _limit")


def _pairs(request: Request) -> list[tuple[str, str]]:
    """The query parameters in the client's order, without ``version`` (a separate argument)."""
    return [(k, v) for k, v in request.query_params.multi_items() if k != "version"]


def _cache_headers(etag: str, principal: Principal) -> dict[str, str]:
    scope = "public" if principal.anonymous else "private"
    return {"ETag": etag, "Cache-Control": f"{scope}, max-age=60"}


VersionQuery = Annotated[
    int | None, Query(ge=1, description="Read this (published) version instead of the current.")
]
QQuery = Annotated[str | None, Query(description="Full-text words, all must occur.")]
BBoxQuery = Annotated[
    str | None,
    Query(description="minx,miny,maxx,maxy in WGS 84 degrees; geometry intersects the box."),
]
SortQuery = Annotated[
    str | None, Query(alias="_sort", description="Columns to sort by, ascending (a,b).")
]
SortDescQuery = Annotated[
    str | None, Query(alias="_sort_desc", description="Columns to sort by, descending.")
]
FieldsQuery = Annotated[
    str | None, Query(alias="_fields", description="Columns to return, comma-separated.")
]


@router.get(
    "/datasets/{slug}/rows",
    summary="Rows of a dataset: filters, full text, bbox, sort, keyset paging, total count",
    description=ROWS_DOC,
    response_class=Response,
    responses={200: {"model": RowsBody, "description": "One page of rows."}, **_ERRORS},
)
def get_rows(
    slug: str,
    request: Request,
    hub: HubDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    q: QQuery = None,
    bbox: BBoxQuery = None,
    sort: SortQuery = None,
    sort_desc: SortDescQuery = None,
    fields: FieldsQuery = None,
    limit: Annotated[int | None, Query(alias="_limit", ge=1, description="Rows per page.")] = None,
    cursor: Annotated[
        str | None,
        Query(alias=CURSOR_PARAMETER, description="Cursor of the next page (from `next`)."),
    ] = None,
) -> Response:
    del q, bbox, sort, sort_desc, fields, limit, cursor  # parsed from the query string as is
    prepared = data.prepare_rows(hub, principal, slug, _pairs(request), version)
    headers = _cache_headers(etag_for("rows", prepared.fingerprint), principal)
    if matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    result = prepared.run()
    next_url = None
    if result.next_cursor is not None:
        next_url = str(request.url.include_query_params(**{CURSOR_PARAMETER: result.next_cursor}))
    head = json.dumps(
        {
            "dataset": result.dataset,
            "version": result.version,
            "fields": result.fields,
            "count": result.count.to_dict(),
            "next": next_url,
        },
        separators=(",", ":"),
    )
    body = head[:-1] + ',"rows":[' + ",".join(result.rows_json) + "]}"
    return Response(body.encode(), media_type="application/json", headers=headers)


@router.get(
    "/datasets/{slug}/aggregate",
    summary="Group-by aggregates with time buckets: count, distinct, sum, avg, median, p90 ...",
    description=AGGREGATE_DOC,
    response_class=Response,
    responses={200: {"model": AggregateBody, "description": "The groups."}, **_ERRORS},
)
def get_aggregate(
    slug: str,
    request: Request,
    hub: HubDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    group_by: Annotated[
        str | None, Query(description="Columns and time buckets: station,zeit:day")
    ] = None,
    metrics: Annotated[
        str | None, Query(description="Metrics: count,avg:pm10,p90:pm10 (default count)")
    ] = None,
    q: QQuery = None,
    bbox: BBoxQuery = None,
    sort: SortQuery = None,
    sort_desc: SortDescQuery = None,
    limit: Annotated[int | None, Query(alias="_limit", ge=1, description="Most groups.")] = None,
) -> Response:
    del group_by, metrics, q, bbox, sort, sort_desc, limit  # parsed from the query string
    prepared = data.prepare_aggregate(hub, principal, slug, _pairs(request), version)
    headers = _cache_headers(etag_for("aggregate", prepared.fingerprint), principal)
    if matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    result = prepared.run()
    head = json.dumps(
        {
            "dataset": result.dataset,
            "version": result.version,
            "group_by": result.group_by,
            "metrics": result.metrics,
            "columns": result.columns,
            "truncated": result.truncated,
        },
        separators=(",", ":"),
    )
    body = head[:-1] + ',"rows":[' + ",".join(result.rows_json) + "]}"
    return Response(body.encode(), media_type="application/json", headers=headers)


def _download_route(fmt: Format) -> Callable[..., Response]:
    def get_download(
        slug: str,
        request: Request,
        hub: HubDep,
        principal: PrincipalDep,
        version: VersionQuery = None,
        q: QQuery = None,
        bbox: BBoxQuery = None,
        sort: SortQuery = None,
        sort_desc: SortDescQuery = None,
        fields: FieldsQuery = None,
        limit: Annotated[
            int | None, Query(alias="_limit", ge=1, description="At most this many rows.")
        ] = None,
        dialect: Annotated[
            str | None, Query(description="CSV only: `excel-de` for German Excel.")
        ] = None,
    ) -> Response:
        del q, bbox, sort, sort_desc, fields, limit, dialect  # parsed from the query string
        prepared = data.prepare_download(hub, principal, slug, _pairs(request), fmt, version)
        headers = _cache_headers(etag_for("download", prepared.fingerprint), principal)
        if matches(request, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        result = prepared.run()
        headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        if result.size is not None:
            headers["Content-Length"] = str(result.size)
        return StreamingResponse(result.chunks, media_type=result.media_type, headers=headers)

    get_download.__name__ = f"download_{fmt.value}"
    return get_download


for _fmt in Format:
    router.add_api_route(
        f"/datasets/{{slug}}/download.{_fmt.value}",
        _download_route(_fmt),
        methods=["GET"],
        summary=f"Download as {_fmt.value.upper()}, whole or filtered (streamed)",
        description=DOWNLOAD_DOC,
        response_class=Response,
        responses={
            200: {"content": {_fmt.media_type.split(";")[0]: {}}, "description": "The file."},
            **_ERRORS,
        },
    )
