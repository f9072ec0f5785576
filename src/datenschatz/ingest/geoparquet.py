"""Parquet and GeoParquet sources.

A Parquet file is spatial when it has GeoParquet ``geo`` metadata or columns of Parquet's own
GEOMETRY logical type; otherwise it passes through unchanged, with its types. A plain binary
column without such metadata is never guessed to be WKB.

The file is inspected with DuckDB's automatic GeoParquet conversion switched off, so that the
``geo`` metadata is interpreted here (CRS absent means OGC:CRS84, ``null`` means unknown, as the
GeoParquet specification says) and a damaged WKB value is found with its row instead of failing
the whole read. Spatial files are materialised into a temporary table for the shared checks in
:mod:`datenschatz.ingest.geometry`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from datenschatz.coded import coded
from datenschatz.errors import IngestError, UnsupportedFormat
from datenschatz.ingest import crs as crsmod
from datenschatz.ingest.crs import Crs
from datenschatz.ingest.geometry import FeatureTable, feature_list, finish
from datenschatz.ingest.model import IngestOptions, Staged
from datenschatz.store.duck import sql_ident, sql_string

log = logging.getLogger(__name__)

_SETTING = "enable_geoparquet_conversion"


def read_parquet(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> Staged:
    """Plain Parquet (passed through) or GeoParquet (geometry checked and put in EPSG:4326)."""
    shown = options.display_name or path.name
    source = f"read_parquet({sql_string(str(path))})"
    try:
        with _without_geoparquet_conversion(con):
            geo = _geo_metadata(con, path, shown)
            described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        log.info("Parquet read of %s failed: %s", shown, exc)
        raise IngestError(
            "The file cannot be read as Parquet.",
            key="ingest.unreadable_format",
            params={"format": "Parquet"},
            file=shown,
        ) from None
    types = {str(r[0]): str(r[1]) for r in described}
    geo_columns: dict[str, Any] = geo.get("columns", {}) if geo else {}
    if not isinstance(geo_columns, dict):
        raise IngestError(
            "The file's GeoParquet metadata is malformed.",
            key="ingest.geoparquet_metadata",
            file=shown,
        )
    spatial = [c for c, t in types.items() if t.startswith("GEOMETRY") or c in geo_columns]
    if not spatial:
        return Staged(
            select_sql=f"SELECT * FROM {source}",
            format="parquet",
            details={"columns": len(types)},
        )
    for name in spatial:
        _check_encoding(name, types[name], geo_columns.get(name), shown)
    primary_name = geo.get("primary_column") if geo else None
    primary = primary_name if primary_name in spatial else spatial[0]
    crs = _column_crs(primary, types[primary], geo_columns.get(primary), shown)
    return _stage(con, source, types, spatial, primary, crs, geo, options, shown)


def _geo_metadata(con: duckdb.DuckDBPyConnection, path: Path, shown: str) -> dict[str, Any] | None:
    row = con.execute(
        "SELECT value FROM parquet_kv_metadata(?) WHERE decode(key) = 'geo' LIMIT 1",
        [str(path)],
    ).fetchone()
    if row is None:
        return None
    try:
        parsed = json.loads(bytes(row[0]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise IngestError(
            "The file's GeoParquet metadata ('geo') is not valid JSON.",
            key="ingest.geoparquet_metadata",
            file=shown,
        ) from None
    if not isinstance(parsed, dict):
        raise IngestError(
            "The file's GeoParquet metadata is malformed.",
            key="ingest.geoparquet_metadata",
            file=shown,
        )
    return parsed


@contextmanager
def _without_geoparquet_conversion(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    row = con.execute(f"SELECT current_setting('{_SETTING}')").fetchone()
    before = bool(row[0]) if row else True
    con.execute(f"SET {_SETTING} = false")
    try:
        yield
    finally:
        con.execute(f"SET {_SETTING} = {'true' if before else 'false'}")


def _check_encoding(name: str, dtype: str, meta: Any, shown: str) -> None:
    if dtype.startswith("GEOMETRY"):
        return
    encoding = str(meta.get("encoding", "")) if isinstance(meta, dict) else ""
    if encoding.upper() != "WKB" or dtype != "BLOB":
        raise UnsupportedFormat(
            f"The GeoParquet geometry column '{name}' uses the encoding "
            f"'{encoding or 'unknown'}'; only WKB is supported.",
            key="ingest.geoparquet_encoding",
            params={"encoding": encoding or "?"},
            file=shown,
            column=name,
        )


def _column_crs(name: str, dtype: str, meta: Any, shown: str) -> Crs | None:
    """The CRS of a geometry column: GeoParquet metadata first, then the column type."""
    if isinstance(meta, dict):
        if "crs" not in meta:
            return crsmod.of_code("OGC:CRS84")  # the GeoParquet default
        value = meta["crs"]
        if value is None:
            return None  # explicitly unknown
        if isinstance(value, dict):
            return crsmod.from_projjson(value)
        if isinstance(value, str) and crsmod.from_text(value) is not None:
            return crsmod.from_text(value)
        raise IngestError(
            f"The GeoParquet metadata gives no usable CRS for column '{name}'.",
            key="ingest.geoparquet_crs",
            file=shown,
            column=name,
        )
    return crsmod.from_geometry_type(dtype)


def _geometry_sql(name: str, dtype: str) -> str:
    col = sql_ident(name)
    return f"{col}::GEOMETRY" if dtype.startswith("GEOMETRY") else f"TRY(ST_GeomFromWKB({col}))"


def _stage(
    con: duckdb.DuckDBPyConnection,
    source: str,
    types: dict[str, str],
    spatial: list[str],
    primary: str,
    crs: Crs | None,
    geo: dict[str, Any] | None,
    options: IngestOptions,
    shown: str,
) -> Staged:
    suffix = uuid.uuid4().hex
    raw, table = f"ds_raw_{suffix}", f"ds_geo_{suffix}"
    index, geom, unreadable = (f"ds_{name}_{suffix[:8]}" for name in ("idx", "geom", "bad"))
    warnings: list[str] = []
    select = [f"rowid AS {sql_ident(index)}"]
    attributes = []
    for name, dtype in types.items():
        if name == primary:
            continue
        attributes.append(name)
        if name in spatial:
            select.append(f"ST_AsText({_geometry_sql(name, dtype)}) AS {sql_ident(name)}")
            warnings.append(
                coded(
                    f"Column '{name}' holds a second geometry; it is stored as WKT text.",
                    "second_geometry",
                    column=name,
                )
            )
        else:
            select.append(sql_ident(name))
    parsed = _geometry_sql(primary, types[primary])
    select.append(f"{parsed} AS {sql_ident(geom)}")
    select.append(
        f"({sql_ident(primary)} IS NOT NULL AND {parsed} IS NULL) AS {sql_ident(unreadable)}"
    )
    try:
        try:
            with _without_geoparquet_conversion(con):
                con.execute(f"CREATE TEMP TABLE {sql_ident(raw)} AS SELECT * FROM {source}")
            # WKB is parsed from the table, not inside the Parquet scan: there TRY() turns a
            # whole chunk to NULL when one value is damaged (DuckDB 1.5.5).
            con.execute(
                f"CREATE TEMP TABLE {sql_ident(table)} AS SELECT {', '.join(select)} "
                f"FROM {sql_ident(raw)}"
            )
        except duckdb.Error as exc:
            log.info("GeoParquet read of %s failed: %s", shown, exc)
            raise IngestError(
                "The file cannot be read as GeoParquet; it may be damaged.",
                key="ingest.unreadable_format",
                params={"format": "GeoParquet"},
                file=shown,
            ) from None
        finally:
            con.execute(f"DROP TABLE IF EXISTS {sql_ident(raw)}")
        _refuse_unreadable(con, table, index, unreadable, shown)
        details: dict[str, Any] = {"geoparquet": geo is not None}
        if geo is not None and geo.get("version"):
            details["geoparquet_version"] = str(geo["version"])
        if primary != "geometry":
            details["source_geometry_column"] = primary
        return finish(
            con,
            FeatureTable(
                file=shown,
                table=table,
                geometry=geom,
                attributes=attributes,
                crs=crs,
                format="geoparquet",
                index=sql_ident(index),
                warnings=warnings,
                details=details,
            ),
            options,
        )
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {sql_ident(table)}")
        raise


def _refuse_unreadable(
    con: duckdb.DuckDBPyConnection, table: str, index: str, flag: str, shown: str
) -> None:
    idx = sql_ident(index)
    row = con.execute(
        f"SELECT count(*), list({idx} ORDER BY {idx})[1:5] FROM {sql_ident(table)} "
        f"WHERE {sql_ident(flag)}"
    ).fetchone()
    count = int(row[0]) if row else 0
    if not count:
        return
    assert row is not None
    first = [int(i) for i in row[1]]
    raise IngestError(
        f"{count} feature(s) have a geometry that is not valid WKB: "
        f"feature{'s' if count > 1 else ''} {feature_list(first, count)}.",
        key="ingest.geometry_not_wkb",
        file=shown,
        feature=first[0],
        features=first,
        count=count,
    )
