"""Coordinate reference systems of geodata sources.

Every version stores its geometry in EPSG:4326 with x = longitude, y = latitude. A source's CRS
comes from the file (GeoJSON ``crs`` member, Shapefile ``.prj``, GeoPackage metadata, GeoParquet
``geo`` metadata) or from the caller (``IngestOptions.crs``, which wins). This module turns those
into a :class:`Crs`, checks that PROJ knows it and tells geographic from projected systems; the
coordinate plausibility checks live in :mod:`datenschatz.ingest.geometry`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import duckdb

from datenschatz.errors import IngestError

WGS84 = "EPSG:4326"

# Stored x/y are longitude/latitude on (practically) WGS 84: no transformation needed.
_LONLAT_WGS84 = frozenset({"EPSG:4326", "OGC:CRS84", "EPSG:4979", "OGC:CRS84h"})

_OPTION_FORMS = (
    re.compile(r"^EPSG:(\d{1,6})$", re.IGNORECASE),
    re.compile(r"^urn:ogc:def:crs:EPSG:[0-9.]*:(\d{1,6})$", re.IGNORECASE),
)
_AUTHORITY_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.]+$")
_TYPED_GEOMETRY = re.compile(r"^GEOMETRY\('(.*)'\)$", re.DOTALL)
_WKT_NAME = re.compile(r'^[A-Z_]+\[\s*"([^"]{1,100})"')


@dataclass(frozen=True)
class Crs:
    """A coordinate reference system as PROJ understands it and as we record it."""

    label: str  # "EPSG:25832"; the CRS name when it has no authority code
    definition: str  # given to PROJ: "EPSG:25832", or a WKT / PROJJSON text

    @property
    def is_wgs84_lonlat(self) -> bool:
        """True when coordinates are already what a version stores."""
        return self.label.upper() in {c.upper() for c in _LONLAT_WGS84}

    def same_as(self, other: Crs) -> bool:
        return self.label.upper() == other.label.upper() or (
            self.is_wgs84_lonlat and other.is_wgs84_lonlat
        )


def of_code(code: str) -> Crs:
    return Crs(code, code)


def parse_option(text: str) -> Crs:
    """The CRS a caller gave (``--crs``); only the EPSG forms are accepted."""
    cleaned = text.strip()
    for form in _OPTION_FORMS:
        match = form.match(cleaned)
        if match:
            return of_code(f"EPSG:{int(match.group(1))}")
    raise IngestError(
        "The CRS must be given as an EPSG code, e.g. EPSG:25832.",
        key="ingest.crs_parameter",
        parameter="crs",
    )


def from_text(text: str) -> Crs | None:
    """A CRS from an authority code, PROJJSON or WKT text as found in a file."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if _AUTHORITY_CODE.match(cleaned):
        return of_code(cleaned.upper() if cleaned.upper().startswith("EPSG:") else cleaned)
    for form in _OPTION_FORMS:
        match = form.match(cleaned)
        if match:
            return of_code(f"EPSG:{int(match.group(1))}")
    if cleaned.startswith("{"):
        try:
            parsed = json.loads(cleaned)
        except ValueError:
            return None
        return from_projjson(parsed) if isinstance(parsed, dict) else None
    name = _WKT_NAME.match(cleaned)
    return Crs(name.group(1) if name else "custom CRS", cleaned)


def from_projjson(obj: dict[str, Any]) -> Crs | None:
    """A CRS from a PROJJSON object (GeoParquet ``crs``): its id if it has one."""
    ident = obj.get("id")
    if isinstance(ident, dict) and ident.get("authority") and ident.get("code") is not None:
        code = f"{ident['authority']}:{ident['code']}"
        return of_code(code.upper() if code.upper().startswith("EPSG:") else code)
    if not obj:
        return None
    name = obj.get("name")
    return Crs(str(name) if name else "custom CRS", json.dumps(obj))


def from_gdal(crs: dict[str, Any] | None) -> Crs | None:
    """A CRS from the ``crs`` struct of ST_Read_Meta (auth_name, auth_code, name, wkt)."""
    if not crs:
        return None
    auth, code = crs.get("auth_name"), crs.get("auth_code")
    if auth and code:
        return of_code(f"{str(auth).upper()}:{code}")
    wkt = crs.get("wkt") or crs.get("projjson")
    if wkt:
        return Crs(str(crs.get("name") or "custom CRS"), str(wkt))
    return None


def from_geometry_type(duckdb_type: str) -> Crs | None:
    """The CRS of a typed DuckDB geometry column: ``GEOMETRY('EPSG:25832')``."""
    match = _TYPED_GEOMETRY.match(duckdb_type.strip())
    return from_text(match.group(1).replace("''", "'")) if match else None


def is_geographic(
    con: duckdb.DuckDBPyConnection,
    crs: Crs,
    *,
    file: str,
    from_option: bool,
) -> bool:
    """Whether ``crs`` has degree coordinates; an IngestError when PROJ does not know it.

    PROJ is asked where 10° E, 50° N lies in ``crs``: a geographic system answers with about
    those degrees, a projected one with metres (hundreds of thousands and more).
    """
    if crs.is_wgs84_lonlat:
        return True
    try:
        row = con.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Point(10, 50), ?, ?, "
            "always_xy := true) AS p)",
            [WGS84, crs.definition],
        ).fetchone()
    except duckdb.Error:
        row = None
    if row is None or row[0] is None or row[1] is None:
        if from_option:
            raise IngestError(
                f"{crs.label} is not a coordinate reference system known here.",
                key="ingest.crs_parameter",
                parameter="crs",
            )
        raise IngestError(
            f"The file's coordinate reference system ({crs.label}) is not known here; "
            "give the CRS with --crs, e.g. --crs EPSG:25832.",
            key="ingest.crs_unknown",
            params={"crs": crs.label},
            file=file,
        )
    x, y = float(row[0]), float(row[1])
    return abs(x) <= 360 and abs(y) <= 90
