"""Coordinate reference systems of the feature API (OGC API - Features Part 2).

Version files store geometry in WGS 84 longitude/latitude (EPSG:4326 coordinates in x = lon,
y = lat order, which is CRS84). Output in another CRS is computed in DuckDB with PROJ
(``ST_Transform(..., always_xy := true)``), and then put into the axis order the CRS defines:
EPSG:4326 and EPSG:4258 are latitude first, so their coordinates are flipped; CRS84 and the
projected systems (UTM, Web Mercator) are easting first.

CRS are named by their OGC URIs (``http://www.opengis.net/def/crs/EPSG/0/25832``); safe
CURIEs (``[EPSG:25832]``) are accepted as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from datenschatz.errors import InputError
from datenschatz.store.duck import sql_string

_OGC = "http://www.opengis.net/def/crs/"


@dataclass(frozen=True)
class Crs:
    uri: str
    proj: str  # the identifier PROJ knows: "OGC:CRS84", "EPSG:25832"
    title: str
    lat_first: bool = False  # the first axis is latitude (EPSG:4326, EPSG:4258)
    geographic: bool = False  # coordinates in degrees

    @property
    def header(self) -> str:
        """The value of the ``Content-Crs`` header."""
        return f"<{self.uri}>"

    @property
    def lonlat(self) -> bool:
        """Coordinates are WGS 84 degrees, so no transformation is needed (only axis order)."""
        return self.proj in ("OGC:CRS84", "EPSG:4326")

    def from_storage(self, geometry_sql: str) -> str:
        """An SQL expression: stored geometry (CRS84) in this CRS, in its axis order."""
        expr = geometry_sql
        if not self.lonlat:
            expr = f"ST_Transform({expr}, 'OGC:CRS84', {sql_string(self.proj)}, true)"
        if self.lat_first:
            expr = f"ST_FlipCoordinates({expr})"
        return expr

    def to_storage(self, xy_geometry_sql: str) -> str:
        """An SQL expression: a geometry in this CRS, x/y = easting/northing or lon/lat
        (axis order already normalised), as CRS84."""
        if self.lonlat:
            return xy_geometry_sql
        return f"ST_Transform({xy_geometry_sql}, {sql_string(self.proj)}, 'OGC:CRS84', true)"


CRS84 = Crs(
    _OGC + "OGC/1.3/CRS84", "OGC:CRS84", "WGS 84 longitude/latitude (CRS84)", geographic=True
)
EPSG_4326 = Crs(
    _OGC + "EPSG/0/4326",
    "EPSG:4326",
    "WGS 84 latitude/longitude (EPSG:4326)",
    lat_first=True,
    geographic=True,
)
EPSG_4258 = Crs(
    _OGC + "EPSG/0/4258",
    "EPSG:4258",
    "ETRS89 latitude/longitude (EPSG:4258)",
    lat_first=True,
    geographic=True,
)
EPSG_25832 = Crs(_OGC + "EPSG/0/25832", "EPSG:25832", "ETRS89 / UTM zone 32N (EPSG:25832)")
EPSG_25833 = Crs(_OGC + "EPSG/0/25833", "EPSG:25833", "ETRS89 / UTM zone 33N (EPSG:25833)")
EPSG_3857 = Crs(_OGC + "EPSG/0/3857", "EPSG:3857", "WGS 84 / Pseudo-Mercator (EPSG:3857)")

# CRS84 first, as Part 2 asks for the collections' ``crs`` lists.
SUPPORTED: tuple[Crs, ...] = (CRS84, EPSG_4326, EPSG_4258, EPSG_25832, EPSG_25833, EPSG_3857)
STORAGE = CRS84

_BY_NAME: dict[str, Crs] = {}
for _crs in SUPPORTED:
    _BY_NAME[_crs.uri] = _crs
    _BY_NAME["https" + _crs.uri.removeprefix("http")] = _crs
    _BY_NAME[f"[{_crs.proj}]"] = _crs


def parse_crs(text: str, parameter: str) -> Crs:
    """The supported CRS named by ``text`` (a URI or a safe CURIE), else InputError."""
    found = _BY_NAME.get(text.strip())
    if found is None:
        known = ", ".join(c.uri for c in SUPPORTED)
        raise InputError(
            f"Unsupported coordinate reference system in {parameter}; use one of {known}.",
            parameter=parameter,
        )
    return found
