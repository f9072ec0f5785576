"""Readers for geodata: GeoJSON, zipped Shapefile, GeoPackage (GDAL) and (Geo)Parquet.

GDAL formats are read with DuckDB spatial's ST_Read, restricted to the one GDAL driver the
format needs, into a temporary table (one row per feature, in file order); the checks and the
final SELECT are shared with GeoParquet in :mod:`datenschatz.ingest.geometry`.

Facts about the GDAL readers this module relies on (DuckDB spatial 1.5.5):

- ST_Read_Meta crashes the process on a file GDAL cannot open, so every file is first opened
  with ST_Read (which raises cleanly) before ST_Read_Meta is asked for layers and CRS.
- The GeoJSON driver honours a legacy ``crs`` member (``urn:ogc:def:crs:EPSG::25832`` or
  ``EPSG:25832``) and otherwise reports EPSG:4326 (EPSG:4979 for 3D data). It keeps Z and
  silently drops a fourth (M) coordinate. A geometry it cannot parse (unknown type, text
  coordinates) comes back as NULL, exactly like ``"geometry": null``; the two are told apart by
  looking at the raw JSON.
- GeoJSON and Shapefile layers get a synthetic ``OGC_FID`` column and a geometry column named
  ``geom``; a property called ``geom`` would clash, so such files are read through a small OGR
  VRT wrapper that names the geometry column differently. Numeric, unique GeoJSON feature
  ``id`` members become the FID; they are kept as an ``id`` column when they are not simply
  the feature positions.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import duckdb

from datenschatz.coded import coded
from datenschatz.errors import IngestError
from datenschatz.ingest import crs as crsmod
from datenschatz.ingest.archive import extract_zip
from datenschatz.ingest.geometry import FeatureTable, feature_list, finish, output_names
from datenschatz.ingest.geoparquet import read_parquet
from datenschatz.ingest.model import IngestOptions, Staged
from datenschatz.store.duck import sql_ident

__all__ = ["read_geojson", "read_gpkg", "read_parquet", "read_shapefile_zip"]

log = logging.getLogger(__name__)

_DRIVERS = {
    "geojson": ("GeoJSON", "GeoJSON"),
    "shapefile": ("ESRI Shapefile", "a Shapefile"),
    "gpkg": ("GPKG", "a GeoPackage"),
}
_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
_SYNTHETIC_FID = "OGC_FID"
_JSON_LINE_LOOKUP_LIMIT = 64 * 1024 * 1024


@dataclass
class _Layer:
    name: str
    feature_count: int
    geometry_field: str | None  # None: the layer has no geometry
    crs: crsmod.Crs | None
    fields: list[str]


def read_geojson(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> Staged:
    """A GeoJSON FeatureCollection, Feature or geometry (RFC 7946, legacy ``crs`` honoured)."""
    return _read_gdal(con, path, options, fmt="geojson", shown=_shown(path, options))


def read_gpkg(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> Staged:
    """The first layer of a GeoPackage (first spatial layer when there is one)."""
    return _read_gdal(con, path, options, fmt="gpkg", shown=_shown(path, options))


def read_shapefile_zip(
    con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions
) -> Staged:
    """A zipped Shapefile; extracted safely (zip-bomb limits) into a temp dir, then read."""
    shown = _shown(path, options)
    tmp = Path(tempfile.mkdtemp(prefix="datenschatz-shp-", dir=temp_base(con)))
    try:
        files = extract_zip(path, tmp, options, select=_is_shapefile_part)
        shps = sorted(
            (f for f in files if f.suffix.lower() == ".shp"),
            key=lambda f: f.relative_to(tmp).as_posix().lower(),
        )
        if not shps:
            raise IngestError(
                "The zip archive holds no Shapefile (.shp).",
                key="ingest.zip_without_shapefile",
                file=shown,
            )
        chosen = shps[0]
        member = chosen.relative_to(tmp).as_posix()
        warnings: list[str] = []
        if len(shps) > 1:
            others = ", ".join(f.relative_to(tmp).as_posix() for f in shps[1:])
            warnings.append(
                coded(
                    f"The archive holds {len(shps)} Shapefiles; only {member} was read, "
                    f"not: {others}.",
                    "shapefiles_many",
                    count=len(shps),
                    member=member,
                    others=others,
                )
            )
        missing = [ext for ext in (".shx", ".dbf") if _sibling(chosen, ext) is None]
        if missing:
            raise IngestError(
                f"The Shapefile {member} has no {' and no '.join(missing)} part in the archive; "
                "zip all parts (.shp, .shx, .dbf, .prj).",
                key="ingest.shapefile_parts_missing",
                params={"shapefile": member, "parts": ", ".join(missing)},
                file=shown,
            )
        details: dict[str, Any] = {
            "member": member,
            "has_prj": _sibling(chosen, ".prj") is not None,
        }
        return _read_gdal(
            con, chosen, options, fmt="shapefile", shown=shown, warnings=warnings, details=details
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def temp_base(con: duckdb.DuckDBPyConnection) -> Path | None:
    """DuckDB's temp directory when it is an absolute path, else None (system temp)."""
    row = con.execute("SELECT current_setting('temp_directory')").fetchone()
    setting = str(row[0]) if row and row[0] else ""
    base = Path(setting) if setting else None
    if base is None or not base.is_absolute():
        return None
    base.mkdir(parents=True, exist_ok=True)
    return base


def _shown(path: Path, options: IngestOptions) -> str:
    return options.display_name or path.name


def _is_shapefile_part(relpath: PurePosixPath) -> bool:
    if relpath.parts[0] == "__MACOSX" or relpath.name.startswith("._"):
        return False
    return relpath.suffix.lower() in _SHAPEFILE_PARTS


def _sibling(shp: Path, ext: str) -> Path | None:
    for candidate in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if candidate.is_file():
            return candidate
    return None


def _read_gdal(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: IngestOptions,
    *,
    fmt: str,
    shown: str,
    warnings: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> Staged:
    driver, label = _DRIVERS[fmt]
    _probe(con, path, driver, label, shown)
    layers = _layers(con, path, driver, label, shown)
    layer = _choose_layer(layers)
    warnings = list(warnings or [])
    if len(layers) > 1:
        others = ", ".join(f"'{other.name}'" for other in layers if other is not layer)
        warnings.append(
            coded(
                f"The file has {len(layers)} layers; only layer '{layer.name}' was read, "
                f"not: {others}.",
                "layers_many",
                count=len(layers),
                layer=layer.name,
                others=others,
            )
        )
    table = f"ds_geo_{uuid.uuid4().hex}"
    vrt: Path | None = None
    try:
        source, allowed = path, driver
        geometry = None if layer.geometry_field is None else layer.geometry_field or "geom"
        if geometry is not None and any(f.lower() == geometry.lower() for f in layer.fields):
            geometry = f"ds_geometry_{uuid.uuid4().hex[:8]}"
            vrt = _write_vrt(con, path, layer.name, geometry)
            source, allowed = vrt, "OGR_VRT"
        _materialise(con, table, source, layer.name, allowed, label, shown)
        columns = [str(r[0]) for r in con.execute(f"DESCRIBE {sql_ident(table)}").fetchall()]
        attributes = _attributes(con, table, columns, layer, geometry, fmt)
        info = {"layer": layer.name, "feature_count": layer.feature_count, **(details or {})}
        if geometry is None or geometry not in columns:
            return _non_spatial(table, attributes, fmt, warnings, info)
        if fmt == "geojson":
            _refuse_unreadable_geojson(con, path, table, geometry, shown)
        feature_table = FeatureTable(
            file=shown,
            table=table,
            geometry=geometry,
            attributes=attributes,
            crs=layer.crs,
            format=fmt,
            layer=layer.name,
            warnings=warnings,
            details=details or {},
        )
        return finish(con, feature_table, options)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {sql_ident(table)}")
        raise
    finally:
        if vrt is not None:
            vrt.unlink(missing_ok=True)


def _probe(con: duckdb.DuckDBPyConnection, path: Path, driver: str, label: str, shown: str) -> None:
    """Open the file with GDAL, restricted to ``driver``; must come before ST_Read_Meta."""
    try:
        con.execute(
            "DESCRIBE SELECT * FROM ST_Read(?, allowed_drivers := [?])", [str(path), driver]
        )
    except duckdb.BinderException as exc:
        if "duplicate column name" in str(exc):
            return  # GDAL opened it; the clash is resolved (or reported) when reading
        raise _binder_error(exc, label, shown) from None
    except duckdb.Error as exc:
        log.info("GDAL could not open %s: %s", shown, exc)
        raise _unreadable(path, label, shown) from None


def _unreadable(path: Path, label: str, shown: str) -> IngestError:
    """The error for a file GDAL cannot read; for JSON with the line of the syntax error."""
    if label == "GeoJSON" and path.stat().st_size <= _JSON_LINE_LOOKUP_LIMIT:
        try:
            json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            return IngestError("The file is not UTF-8 encoded; GeoJSON must be.", file=shown)
        except json.JSONDecodeError as exc:
            return IngestError(
                f"The file is not valid JSON: {exc.msg}.",
                file=shown,
                line=exc.lineno,
                position=exc.colno,
            )
    return IngestError(f"The file cannot be read as {label}.", file=shown)


def _binder_error(exc: duckdb.Error, label: str, shown: str) -> IngestError:
    log.info("GDAL layer of %s cannot be bound: %s", shown, exc)
    if "duplicate column name" in str(exc):
        return IngestError(
            "The file has two attributes whose names differ only in upper/lower case "
            f"(or one called {_SYNTHETIC_FID}); column names must be unique ignoring case.",
            file=shown,
        )
    return IngestError(f"The file cannot be read as {label}.", file=shown)


def _layers(
    con: duckdb.DuckDBPyConnection, path: Path, driver: str, label: str, shown: str
) -> list[_Layer]:
    try:
        row = con.execute(
            "SELECT driver_short_name, layers FROM ST_Read_Meta(?)", [str(path)]
        ).fetchone()
    except duckdb.Error as exc:
        log.info("ST_Read_Meta failed on %s: %s", shown, exc)
        raise IngestError(
            f"The file cannot be read as {label}.",
            key="ingest.unreadable_format",
            params={"format": label},
            file=shown,
        ) from None
    if row is None or row[0] != driver:
        raise IngestError(
            f"The file cannot be read as {label}.",
            key="ingest.unreadable_format",
            params={"format": label},
            file=shown,
        )
    layers = []
    for raw in row[1] or []:
        geometry_fields = raw.get("geometry_fields") or []
        first = geometry_fields[0] if geometry_fields else None
        layers.append(
            _Layer(
                name=str(raw.get("name") or ""),
                feature_count=int(raw.get("feature_count") or 0),
                geometry_field=None if first is None else str(first.get("name") or ""),
                crs=None if first is None else crsmod.from_gdal(first.get("crs")),
                fields=[str(f.get("name")) for f in raw.get("fields") or []],
            )
        )
    if not layers:
        raise IngestError("The file has no layers.", key="ingest.no_layers", file=shown)
    return layers


def _choose_layer(layers: list[_Layer]) -> _Layer:
    spatial = [layer for layer in layers if layer.geometry_field is not None]
    return (spatial or layers)[0]


def _write_vrt(con: duckdb.DuckDBPyConnection, path: Path, layer: str, geometry: str) -> Path:
    """An OGR VRT that exposes ``layer`` of ``path`` with the geometry column ``geometry``."""
    text = (
        f"<OGRVRTDataSource><OGRVRTLayer name={quoteattr(layer)}>"
        f"<SrcDataSource>{escape(str(path.resolve()))}</SrcDataSource>"
        f"<SrcLayer>{escape(layer)}</SrcLayer>"
        f"<GeometryField name={quoteattr(geometry)}/>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    )
    fd, name = tempfile.mkstemp(prefix="datenschatz-", suffix=".vrt", dir=temp_base(con))
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(name)


def _materialise(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: Path,
    layer: str,
    driver: str,
    label: str,
    shown: str,
) -> None:
    try:
        con.execute(
            f"CREATE TEMP TABLE {sql_ident(table)} AS SELECT * FROM "
            "ST_Read(?, layer := ?, allowed_drivers := [?])",
            [str(source), layer, driver],
        )
    except duckdb.BinderException as exc:
        raise _binder_error(exc, label, shown) from None
    except duckdb.Error as exc:
        log.info("GDAL failed reading %s: %s", shown, exc)
        raise IngestError(
            f"The file cannot be read as {label}; it may be damaged.",
            key="ingest.unreadable_format",
            params={"format": label},
            file=shown,
        ) from None


def _attributes(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    layer: _Layer,
    geometry: str | None,
    fmt: str,
) -> list[str]:
    """The attribute columns to keep; GDAL's synthetic FID only when it carries feature ids."""
    keep = [c for c in columns if c != geometry]
    if _SYNTHETIC_FID not in keep or _SYNTHETIC_FID in layer.fields:
        return keep
    keep.remove(_SYNTHETIC_FID)
    if fmt != "geojson":
        return keep
    fid = sql_ident(_SYNTHETIC_FID)
    row = con.execute(
        f"SELECT coalesce(bool_and({fid} = rowid), true) FROM {sql_ident(table)}"
    ).fetchone()
    if row is None or row[0]:
        return keep
    if any(c.lower() == "id" for c in keep):
        return keep
    con.execute(f"ALTER TABLE {sql_ident(table)} RENAME COLUMN {fid} TO id")
    return ["id", *keep]


def _non_spatial(
    table: str, attributes: list[str], fmt: str, warnings: list[str], info: dict[str, Any]
) -> Staged:
    pairs, notes = output_names(attributes)
    columns = ", ".join(
        sql_ident(s) if s == o else f"{sql_ident(s)} AS {sql_ident(o)}" for s, o in pairs
    )
    plain = coded("The layer has no geometry; it was read as a plain table.", "no_geometry")
    warnings = [*warnings, plain]
    return Staged(
        select_sql=f"SELECT {columns} FROM {sql_ident(table)} ORDER BY rowid",
        format=fmt,
        notes=notes,
        warnings=warnings,
        details=info,
    )


def _refuse_unreadable_geojson(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, geometry: str, shown: str
) -> None:
    """IngestError for features whose geometry GDAL could not parse (not for null ones)."""
    row = con.execute(
        f"SELECT list(rowid ORDER BY rowid), count(*) FROM {sql_ident(table)} "
        f"WHERE {sql_ident(geometry)} IS NULL"
    ).fetchone()
    nulls = [int(i) for i in (row[0] or [])] if row else []
    if not nulls:
        return
    present = _raw_geometry_presence(con, path)
    if present is None:
        return
    bad = [i for i in nulls if i < len(present) and present[i]]
    if bad:
        raise IngestError(
            f"{len(bad)} feature(s) have a geometry that cannot be read (not a valid GeoJSON "
            "geometry, e.g. coordinates that are not numbers or an unknown type): "
            f"feature{'s' if len(bad) > 1 else ''} {feature_list(bad, len(bad))}.",
            key="ingest.geometry_unreadable",
            file=shown,
            feature=bad[0],
            features=bad[:5],
            count=len(bad),
        )


def _raw_geometry_presence(con: duckdb.DuckDBPyConnection, path: Path) -> list[bool] | None:
    """Per feature, whether the raw GeoJSON has a non-null geometry; None if undeterminable."""
    limit = min(path.stat().st_size + 1024, 2**31 - 1)
    try:
        row = con.execute(
            "SELECT type, list_transform(features, lambda f: "
            "coalesce(json_type(json_extract(f, '$.geometry')) <> 'NULL', false)), "
            "coalesce(json_type(geometry) <> 'NULL', false) "
            "FROM read_json(?, format = 'unstructured', records = true, "
            "columns = {'type': 'VARCHAR', 'features': 'JSON[]', 'geometry': 'JSON'}, "
            f"maximum_object_size = {limit})",
            [str(path)],
        ).fetchone()
    except duckdb.Error as exc:
        log.info("raw GeoJSON pass failed: %s", exc)
        return None
    if row is None:
        return None
    kind, features, geometry = row
    if kind == "FeatureCollection":
        return [bool(v) for v in features or []]
    if kind == "Feature":
        return [bool(geometry)]
    return [True]
