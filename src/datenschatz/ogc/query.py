"""GeoJSON features over one immutable version file: pages, single features, counts.

The feature id is the row's position in the version file (DuckDB's ``file_row_number``): the
file never changes, so the id is stable for the life of the version, and a look-up by id
reads one row group. Pages run in file order; the ``next`` cursor holds the last row id, so a
deep page costs what the first one does (no OFFSET scan). ``offset`` is supported for
clients that page that way.

The selection is the shared query layer's :class:`Where` (property filters, datetime ranges,
a bbox in WGS 84 degrees) plus, for a bbox in a projected CRS, one exact test in that CRS.
Features are rendered in DuckDB: each comes out as finished GeoJSON text, with the geometry
transformed to the requested CRS, and properties rendered like the rows API renders them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from datenschatz.errors import InputError
from datenschatz.ogc.crs import Crs
from datenschatz.ogc.params import Area, ItemsRequest
from datenschatz.store.query import Table, Where
from datenschatz.store.query.count import exact_count
from datenschatz.store.query.filters import where_sql
from datenschatz.store.query.limits import deadline, fetch_all, interrupted
from datenschatz.store.query.render import json_object
from datenschatz.store.query.table import ROW_ID

CURSOR = "cursor"


@dataclass(frozen=True)
class FeaturePage:
    features: list[str]  # GeoJSON Feature objects, as text, in file order
    number_matched: int | None  # None when counting passed its time limit
    next_cursor: str | None  # None on the last page


def servable(table: Table) -> bool:
    """Whether features of ``table`` can be served: it has geometry, and no real column
    shadows the row number that feature ids are made of."""
    return table.geometry is not None and table.has_row_id


def _geometry_sql(table: Table) -> str:
    assert table.geometry is not None
    column = table.column(table.geometry)
    assert column is not None
    return column.sql


def feature_sql(table: Table, crs: Crs) -> str:
    """A VARCHAR expression: the GeoJSON Feature of a row (with ``file_row_number`` in scope)."""
    properties = [c for c in table.columns if c.name != table.geometry]
    geometry = crs.from_storage(_geometry_sql(table))
    return (
        f"CAST(to_json({{'type': 'Feature', 'id': {ROW_ID}, "
        f"'geometry': CAST(ST_AsGeoJSON({geometry}) AS JSON), "
        f"'properties': CAST({json_object(properties)} AS JSON)}}) AS VARCHAR)"
    )


def area_sql(table: Table, area: Area) -> tuple[str, list[Any]]:
    """A conjunct: the geometry intersects ``area``, tested in CRS84 with the box's corners
    transformed from its CRS."""
    envelope = area.crs.to_storage("ST_MakeEnvelope(?, ?, ?, ?)")
    sql = f"ST_Intersects({_geometry_sql(table)}, {envelope})"
    return sql, [area.minx, area.miny, area.maxx, area.maxy]


def _selection(table: Table, where: Where, area: Area | None, *extra: str) -> tuple[str, list[Any]]:
    """``WHERE ...`` of the selection, then the ``extra`` conjuncts (parameters follow)."""
    conjuncts: list[str] = []
    params: list[Any] = []
    if area is not None:
        sql, params = area_sql(table, area)
        conjuncts.append(sql)
    clause, where_params = where_sql(table, where, *conjuncts, *extra)
    return clause, [*where_params, *params]


# --- counting -------------------------------------------------------------------------------


def count_features(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    where: Where,
    area: Area | None,
    *,
    time_limit: float,
) -> int | None:
    """The exact number of matching features, or None when counting passes ``time_limit``."""
    if area is None:
        return exact_count(con, table, where, time_limit=time_limit)
    clause, params = _selection(table, where, area)
    with deadline(con, time_limit) as clock:
        try:
            row = con.execute(f"SELECT count(*) FROM {table.source} {clause}", params).fetchone()
        except duckdb.Error as exc:
            if clock.fired or interrupted(exc):
                return None
            raise
    return int(row[0]) if row else 0


# --- cursors --------------------------------------------------------------------------------


def _binding(table: Table, request: ItemsRequest) -> str:
    text = json.dumps([table.sha256, request.selection])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _bad_cursor() -> InputError:
    return InputError(
        "The cursor does not belong to this query; follow the next link of the previous page "
        "without changing the other parameters.",
        parameter=CURSOR,
    )


def encode_cursor(binding: str, last_row: int, matched: int | None) -> str:
    raw = json.dumps({"h": binding, "r": last_row, "n": matched}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, binding: str) -> tuple[int, int | None]:
    """(last row id of the previous page, number matched) of a cursor of this query."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not isinstance(data, dict) or data.get("h") != binding:
        raise _bad_cursor()
    row, matched = data.get("r"), data.get("n")
    if not isinstance(row, int) or isinstance(row, bool) or row < 0:
        raise _bad_cursor()
    if matched is not None and (
        not isinstance(matched, int) or isinstance(matched, bool) or matched < 0
    ):
        raise _bad_cursor()
    return row, matched


# --- reading --------------------------------------------------------------------------------


def _page_sql(table: Table, crs: Crs, clause: str) -> str:
    """Rows of the page in the inner query, rendered only in the outer one.

    Takes ``LIMIT ? OFFSET ?`` after the parameters of ``clause``.
    """
    raw = ", ".join([*(c.sql for c in table.columns), ROW_ID])
    inner = f"SELECT {raw} FROM {table.source} {clause} ORDER BY {ROW_ID} LIMIT ? OFFSET ?"
    return f"SELECT {feature_sql(table, crs)}, {ROW_ID} FROM ({inner}) ORDER BY {ROW_ID}"


def fetch_features(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    request: ItemsRequest,
    *,
    time_limit: float,
    count_limit: float,
) -> FeaturePage:
    """One page of features of ``request`` with the count and the next page's cursor.

    Raises InputError (parameter ``cursor``) for a cursor of another query and QueryTimeout
    when reading passes ``time_limit``; a count that passes ``count_limit`` is left out.
    """
    binding = _binding(table, request)
    after: list[str] = []
    after_params: list[Any] = []
    if request.cursor is not None:
        last_row, matched = decode_cursor(request.cursor, binding)
        after, after_params = [f"{ROW_ID} > ?"], [last_row]
    else:
        matched = count_features(con, table, request.where, request.area, time_limit=count_limit)
    if matched == 0:
        return FeaturePage([], 0, None)
    clause, params = _selection(table, request.where, request.area, *after)
    rows = fetch_all(
        con,
        _page_sql(table, request.crs, clause),
        [*params, *after_params, request.limit + 1, request.offset],
        seconds=time_limit,
        what="Reading the features",
    )
    features = [str(r[0]) for r in rows[: request.limit]]
    next_cursor = None
    if len(rows) > request.limit:
        next_cursor = encode_cursor(binding, int(rows[request.limit - 1][1]), matched)
    return FeaturePage(features, matched, next_cursor)


def fetch_feature(
    con: duckdb.DuckDBPyConnection, table: Table, row: int, crs: Crs, *, time_limit: float
) -> str | None:
    """The GeoJSON Feature with id ``row``, or None when the version has no such row."""
    if not 0 <= row < table.row_count:
        return None
    raw = ", ".join([*(c.sql for c in table.columns), ROW_ID])
    inner = f"SELECT {raw} FROM {table.source} WHERE {ROW_ID} = ?"
    sql = f"SELECT {feature_sql(table, crs)} FROM ({inner})"
    rows = fetch_all(con, sql, [row], seconds=time_limit, what="Reading the feature")
    return str(rows[0][0]) if rows else None
