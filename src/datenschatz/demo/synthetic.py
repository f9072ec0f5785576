"""Seeded synthetic demo data for Herne: everything the city and Stadtwerke could not publish.

No district boundaries, solar cadastre, grid data, consumption figures or waste sensor data of
Herne were available as open files, so the demo invents them here. The numbers are made up but
plausible; the geometry follows Herne's real outline (from the public-domain German districts
file shipped in ``demo/files``). Every generator draws from its own ``random.Random`` stream
derived from one seed, so the same seed always gives byte-identical files, and changing one
generator does not change the others.

Polygon work (Voronoi cells, clipping, reprojection) runs on DuckDB spatial; the rest is plain
Python.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from datenschatz.store.duck import connect

SEED = 5916  # from Herne's municipality key 05916000
GENERATOR = "datenschatz.demo.synthetic"
FILES = Path(__file__).parent / "files"
KREISE_FILE = FILES / "3_mittel.geo.json"
HERNE_NAME_3 = "Herne Städte"
BERLIN = ZoneInfo("Europe/Berlin")
UTM_32N = "urn:ogc:def:crs:EPSG::25832"

# Stadtbezirk number, name, and a rough centre (lon, lat) that seeds its Voronoi cell.
STADTBEZIRKE: tuple[tuple[int, str, tuple[float, float]], ...] = (
    (1, "Herne-Mitte", (7.230, 51.527)),
    (2, "Wanne", (7.172, 51.542)),
    (3, "Eickel", (7.180, 51.505)),
    (4, "Sodingen", (7.276, 51.544)),
)

Point = tuple[float, float]
Ring = list[Point]
Polygons = list[list[Ring]]  # a MultiPolygon: polygons, each a list of rings


@dataclass(frozen=True)
class District:
    nr: int
    name: str
    geometry: dict[str, Any]  # GeoJSON Polygon or MultiPolygon, WGS84


@dataclass(frozen=True)
class GeneratedFile:
    """One generated file and the number of data rows (features) it holds."""

    path: Path
    rows: int


def rng_for(seed: int, name: str) -> random.Random:
    """An independent, reproducible random stream per generator."""
    return random.Random(f"{seed}:{name}")


# --- geometry helpers --------------------------------------------------------------------


def polygons_of(geometry: dict[str, Any]) -> Polygons:
    """The polygons of a GeoJSON Polygon or MultiPolygon as tuples of floats."""
    parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [[[(float(x), float(y)) for x, y in ring] for ring in polygon] for polygon in parts]


def contains(polygons: Polygons, point: Point) -> bool:
    """Point in (multi)polygon by the even-odd rule; holes count as outside."""
    x, y = point
    inside = False
    for polygon in polygons:
        for ring in polygon:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
    return inside


def bounds(polygons: Polygons) -> tuple[float, float, float, float]:
    xs = [x for polygon in polygons for x, _ in polygon[0]]
    ys = [y for polygon in polygons for _, y in polygon[0]]
    return min(xs), min(ys), max(xs), max(ys)


def random_point_in(rng: random.Random, polygons: Polygons) -> Point:
    xmin, ymin, xmax, ymax = bounds(polygons)
    while True:
        point = (rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
        if contains(polygons, point):
            return point


def _rounded(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, list | tuple):
        return [_rounded(v, digits) for v in value]
    return value


def to_utm(con: duckdb.DuckDBPyConnection, geometry: dict[str, Any]) -> dict[str, Any]:
    """A WGS84 GeoJSON geometry in EPSG:25832 (x = easting, y = northing)."""
    row = con.execute(
        "SELECT ST_AsGeoJSON(ST_Transform(ST_GeomFromGeoJSON(?), 'EPSG:4326', 'EPSG:25832', "
        "always_xy := true))",
        [json.dumps(geometry)],
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError("the geometry could not be transformed")
    result: dict[str, Any] = json.loads(row[0])
    return result


def voronoi_clipped(
    con: duckdb.DuckDBPyConnection, sites: Sequence[Point], area: dict[str, Any]
) -> list[dict[str, Any]]:
    """For each site, its Voronoi cell among ``sites`` clipped to ``area`` (GeoJSON, same CRS).

    Coordinates are kept at full precision: rounding the vertices that clipping puts on a
    shared edge would make neighbouring cells overlap in slivers.
    """
    if len(sites) < 2:
        return [area]
    multipoint = json.dumps({"type": "MultiPoint", "coordinates": [list(p) for p in sites]})
    rows = con.execute(
        """
        WITH cells AS (
            SELECT unnest(ST_Dump(ST_VoronoiDiagram(ST_GeomFromGeoJSON(?)))).geom AS cell
        ), sites AS (
            SELECT unnest(ST_Dump(ST_GeomFromGeoJSON(?))).geom AS site
        )
        SELECT ST_AsGeoJSON(ST_CollectionExtract(
            ST_Intersection(cell, ST_GeomFromGeoJSON(?)), 3)), ST_X(site), ST_Y(site)
        FROM sites JOIN cells ON ST_Contains(cell, site)
        """,
        [multipoint, multipoint, json.dumps(area)],
    ).fetchall()
    by_site = {(float(x), float(y)): json.loads(geom) for geom, x, y in rows}
    if len(by_site) != len(sites):
        raise ValueError("every Voronoi site must fall into exactly one cell")
    return [by_site[(float(x), float(y))] for x, y in sites]


def _feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _collection(
    features: list[dict[str, Any]], name: str, crs: str | None = None
) -> dict[str, Any]:
    collection: dict[str, Any] = {"type": "FeatureCollection", "name": name}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    collection["features"] = features
    return collection


# --- generators ----------------------------------------------------------------------------


def herne_outline(kreise: Path = KREISE_FILE) -> dict[str, Any]:
    """Herne's outline (GeoJSON geometry, WGS84) from the German districts file."""
    with kreise.open(encoding="utf-8") as fh:
        collection = json.load(fh)
    for feature in collection["features"]:
        if feature["properties"].get("NAME_3") == HERNE_NAME_3:
            geometry: dict[str, Any] = feature["geometry"]
            return geometry
    raise ValueError(f"{kreise.name} has no feature named {HERNE_NAME_3!r}")


def make_districts(
    con: duckdb.DuckDBPyConnection, outline: dict[str, Any], seed: int = SEED
) -> list[District]:
    """Herne's four Stadtbezirke: Voronoi cells of jittered centres, clipped to the outline."""
    rng = rng_for(seed, "districts")
    centres = [
        (round(x + rng.uniform(-0.004, 0.004), 6), round(y + rng.uniform(-0.003, 0.003), 6))
        for _nr, _name, (x, y) in STADTBEZIRKE
    ]
    cells = voronoi_clipped(con, centres, outline)
    return [
        District(nr, name, cell)
        for (nr, name, _centre), cell in zip(STADTBEZIRKE, cells, strict=True)
    ]


def districts_collection(
    con: duckdb.DuckDBPyConnection, districts: list[District]
) -> dict[str, Any]:
    features = []
    for district in districts:
        area_m2 = _polygon_area(polygons_of(to_utm(con, district.geometry)))
        properties = {
            "bezirk_nr": district.nr,
            "name": district.name,
            "flaeche_km2": round(area_m2 / 1e6, 2),
        }
        features.append(_feature(properties, district.geometry))
    return _collection(features, "stadtbezirke_herne")


# Building type: weight, width range (m), length range (m), share of flat roofs.
_BUILDING_TYPES: tuple[tuple[str, float, tuple[float, float], tuple[float, float], float], ...] = (
    ("Einfamilienhaus", 0.45, (8.0, 11.0), (9.0, 13.0), 0.05),
    ("Reihen-/Doppelhaus", 0.20, (6.0, 8.0), (9.0, 12.0), 0.05),
    ("Mehrfamilienhaus", 0.25, (11.0, 14.0), (18.0, 35.0), 0.30),
    ("Gewerbe/Halle", 0.10, (20.0, 40.0), (30.0, 70.0), 0.90),
)
# Orientation of the better roof face: specific yield in kWh per kWp and year.
_SPECIFIC_YIELD = {"Süd": 950.0, "Südost": 900.0, "Südwest": 900.0, "Ost-West": 800.0}
_FLAT_YIELD = 880.0


def _orientation(azimuth: float) -> str:
    """Class of a pitched roof whose faces look to ``azimuth`` and ``azimuth + 180`` degrees."""
    south_face = (azimuth - 90) % 180 + 90  # the face between 90 (east) and 270 (west)
    deviation = south_face - 180  # negative: east of south
    if abs(deviation) <= 22.5:
        return "Süd"
    if abs(deviation) <= 67.5:
        return "Südost" if deviation < 0 else "Südwest"
    return "Ost-West"


def _roof(rng: random.Random, footprint: float, flat: bool, azimuth: float) -> dict[str, Any]:
    """Roof and PV figures of one building, plausible for the Ruhr area."""
    shading = rng.uniform(0.82, 1.0) if rng.random() < 0.85 else rng.uniform(0.45, 0.82)
    if flat:
        pitch = rng.uniform(0.0, 5.0)
        roof = footprint
        suitable = roof * rng.uniform(0.5, 0.75)
        kwp = suitable / 8.0  # raised modules need spacing
        orientation, yield_per_kwp = "Flachdach", _FLAT_YIELD
    else:
        pitch = rng.uniform(25.0, 45.0)
        roof = footprint / math.cos(math.radians(pitch))
        orientation = _orientation(azimuth)
        faces = 1.0 if orientation == "Ost-West" else 0.5
        suitable = roof * faces * rng.uniform(0.6, 0.9)
        kwp = suitable / 5.5
        yield_per_kwp = _SPECIFIC_YIELD[orientation]
    yield_per_kwp *= shading * rng.uniform(0.97, 1.03)
    if yield_per_kwp < 550 or suitable < 8.0:
        suitable, kwp, rating = 0.0, 0.0, "nicht geeignet"
    elif yield_per_kwp >= 850:
        rating = "sehr gut geeignet"
    elif yield_per_kwp >= 750:
        rating = "gut geeignet"
    else:
        rating = "bedingt geeignet"
    return {
        "dachform": "Flachdach" if flat else "Satteldach",
        "dachneigung_grad": round(pitch, 1),
        "ausrichtung": orientation,
        "dachflaeche_m2": round(roof, 1),
        "eignungsflaeche_m2": round(suitable, 1),
        "leistung_kwp": round(kwp, 2),
        "jahresertrag_kwh": round(kwp * yield_per_kwp),
        "eignung": rating,
    }


def make_solar_cadastre(
    con: duckdb.DuckDBPyConnection,
    districts: list[District],
    seed: int = SEED,
    count: int = 3000,
) -> dict[str, Any]:
    """Rooftop solar potential of ``count`` buildings as footprints in EPSG:25832."""
    rng = rng_for(seed, "solar")
    areas = [polygons_of(to_utm(con, d.geometry)) for d in districts]
    weights = [_polygon_area(a) for a in areas]
    type_weights = [t[1] for t in _BUILDING_TYPES]
    grid: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
    cell = 100.0
    features: list[dict[str, Any]] = []
    while len(features) < count:
        index = rng.choices(range(len(districts)), weights)[0]
        kind, _w, widths, lengths, flat_share = rng.choices(_BUILDING_TYPES, type_weights)[0]
        width, length = rng.uniform(*widths), rng.uniform(*lengths)
        azimuth = rng.uniform(0.0, 180.0)  # direction the long side points to, from north
        cx, cy = random_point_in(rng, areas[index])
        radius = math.hypot(width, length) / 2
        corners = _rectangle(cx, cy, width, length, azimuth)
        if not all(contains(areas[index], c) for c in corners):
            continue
        key = (int(cx // cell), int(cy // cell))
        near = (
            other
            for gx in (key[0] - 1, key[0], key[0] + 1)
            for gy in (key[1] - 1, key[1], key[1] + 1)
            for other in grid.get((gx, gy), [])
        )
        if any(math.hypot(cx - ox, cy - oy) < radius + orad + 2.0 for ox, oy, orad in near):
            continue
        grid.setdefault(key, []).append((cx, cy, radius))
        flat = rng.random() < flat_share
        district = districts[index]
        properties = {
            "gebaeude_id": f"HER-{len(features) + 1:06d}",
            "bezirk_nr": district.nr,
            "stadtbezirk": district.name,
            "gebaeudetyp": kind,
            "grundflaeche_m2": round(width * length, 1),
            **_roof(rng, width * length, flat, azimuth + 90.0),
        }
        ring = [*corners, corners[0]]
        geometry = {"type": "Polygon", "coordinates": [_rounded(ring, 2)]}
        features.append(_feature(properties, geometry))
    return _collection(features, "solarkataster_herne", crs=UTM_32N)


def _rectangle(cx: float, cy: float, width: float, length: float, azimuth: float) -> Ring:
    """Corners (counter-clockwise) of a rectangle whose long side points to ``azimuth``."""
    a = math.radians(azimuth)
    along = (math.sin(a) * length / 2, math.cos(a) * length / 2)
    across = (math.cos(a) * width / 2, -math.sin(a) * width / 2)
    corners = [
        (cx + sa * along[0] + sb * across[0], cy + sa * along[1] + sb * across[1])
        for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    if _ring_area([*corners, corners[0]]) < 0:
        corners.reverse()
    return corners


def _ring_area(ring: Ring) -> float:
    """Signed area (positive: counter-clockwise)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring)) / 2


def _polygon_area(polygons: Polygons) -> float:
    return sum(abs(_ring_area(p[0])) - sum(abs(_ring_area(h)) for h in p[1:]) for p in polygons)


# Transformer ratings of Ortsnetzstationen (kVA) and how common they are.
_TRANSFORMERS = ((250, 0.15), (400, 0.30), (630, 0.35), (800, 0.10), (1000, 0.10))
_COS_PHI = 0.95


def make_grid_areas(
    con: duckdb.DuckDBPyConnection,
    districts: list[District],
    seed: int = SEED,
    per_km2: float = 1.6,
) -> dict[str, Any]:
    """Supply areas of Ortsnetzstationen (WGS84 polygons) with transformer capacity and load."""
    rng = rng_for(seed, "grid")
    features = []
    for district in districts:
        utm = polygons_of(to_utm(con, district.geometry))
        wanted = max(3, round(_polygon_area(utm) / 1e6 * per_km2))
        polygons = polygons_of(district.geometry)
        stations: list[Point] = []
        while len(stations) < wanted:
            x, y = random_point_in(rng, polygons)
            if all(_metres(x, y, sx, sy) > 300.0 for sx, sy in stations):
                stations.append((round(x, 6), round(y, 6)))
        cells = voronoi_clipped(con, stations, district.geometry)
        for number, cell in enumerate(cells, start=1):
            kva = rng.choices([t[0] for t in _TRANSFORMERS], [t[1] for t in _TRANSFORMERS])[0]
            rated_kw = kva * _COS_PHI
            load = rated_kw * min(0.98, max(0.2, rng.gauss(0.62, 0.17)))
            properties = {
                "station_id": f"ONS-{district.nr}{number:03d}",
                "bezirk_nr": district.nr,
                "stadtbezirk": district.name,
                "trafo_nennleistung_kva": kva,
                "spitzenlast_kw": round(load, 1),
                "freie_kapazitaet_kw": round(rated_kw - load, 1),
                "auslastung_prozent": round(100 * load / rated_kw, 1),
            }
            features.append(_feature(properties, cell))
    return _collection(features, "netzgebiete_ortsnetzstationen_herne")


def _metres(x1: float, y1: float, x2: float, y2: float) -> float:
    """Approximate distance in metres between two nearby WGS84 points."""
    dy = (y2 - y1) * 111_200.0
    dx = (x2 - x1) * 111_200.0 * math.cos(math.radians((y1 + y2) / 2))
    return math.hypot(dx, dy)


# Households per Stadtbezirk in the standard customer group, roughly Herne's 80,000.
_HOUSEHOLDS = {1: 24_000, 2: 21_000, 3: 16_000, 4: 14_000}
# Share of the annual amount used in each calendar month.
_HEATING_PROFILE = (0.17, 0.15, 0.12, 0.08, 0.05, 0.03, 0.02, 0.02, 0.04, 0.08, 0.11, 0.13)
_POWER_PROFILE = (
    0.095,
    0.088,
    0.088,
    0.080,
    0.076,
    0.070,
    0.070,
    0.072,
    0.076,
    0.086,
    0.095,
    0.104,
)
_WATER_PROFILE = (
    0.080,
    0.075,
    0.080,
    0.083,
    0.088,
    0.092,
    0.095,
    0.093,
    0.085,
    0.080,
    0.074,
    0.075,
)
CONSUMPTION_HEADER = [
    "Monat",
    "Bezirk-Nr",
    "Stadtbezirk",
    "Kundengruppe",
    "Anzahl Haushalte",
    "Strom [kWh]",
    "Gas [kWh]",
    "Wasser [m³]",
]
MIN_HOUSEHOLDS = 5  # privacy floor per published group (§ 52 Abs. 3 MsbG)


def _german_number(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def make_consumption(
    districts: list[District], seed: int = SEED, years: Sequence[int] = (2022, 2023, 2024)
) -> list[list[str]]:
    """Monthly electricity, gas and water per Stadtbezirk and customer group, as text cells."""
    rng = rng_for(seed, "consumption")
    rows = []
    heat_pumps = {d.nr: rng.randint(6, 15) for d in districts}
    for year in years:
        for month in range(1, 13):
            for district in districts:
                households = round(_HOUSEHOLDS[district.nr] * rng.uniform(0.995, 1.005))
                gas_share = rng.uniform(0.52, 0.58)
                heat_pumps[district.nr] += rng.randint(0, 3)
                groups = (
                    ("Haushaltskunden", households, 2_400.0, 11_500.0 * gas_share, 45.0),
                    ("Wärmepumpen-Tarif", heat_pumps[district.nr], 6_200.0, None, 50.0),
                )
                for group, count, power, gas, water in groups:
                    count = max(count, MIN_HOUSEHOLDS)
                    noise = rng.uniform(0.96, 1.04)
                    power_month = count * power * noise
                    power_month *= (
                        _HEATING_PROFILE[month - 1]
                        if group == "Wärmepumpen-Tarif"
                        else _POWER_PROFILE[month - 1]
                    )
                    rows.append(
                        [
                            f"01.{month:02d}.{year}",
                            str(district.nr),
                            district.name,
                            group,
                            str(count),
                            _german_number(power_month),
                            ""
                            if gas is None
                            else _german_number(count * gas * _HEATING_PROFILE[month - 1] * noise),
                            _german_number(count * water * _WATER_PROFILE[month - 1] * noise),
                        ]
                    )
    return rows


_CONTAINER_TYPES = (
    # kind, volume in litres, mean fill rate in percent per hour, weight
    ("Altglas", 3000, 0.18, 0.5),
    ("Altpapier", 3200, 0.30, 0.3),
    ("Altkleider", 2500, 0.12, 0.2),
)


def make_waste_containers(
    districts: list[District], seed: int = SEED, count: int = 50
) -> dict[str, Any]:
    """Locations of sensor-equipped waste containers (WGS84 points)."""
    rng = rng_for(seed, "waste-containers")
    areas = [polygons_of(d.geometry) for d in districts]
    weights = [_polygon_area(a) for a in areas]
    features = []
    for number in range(1, count + 1):
        index = rng.choices(range(len(districts)), weights)[0]
        kind, volume, rate, _w = rng.choices(_CONTAINER_TYPES, [t[3] for t in _CONTAINER_TYPES])[0]
        x, y = random_point_in(rng, areas[index])
        properties = {
            "behaelter_id": f"AB-{number:03d}",
            "art": kind,
            "volumen_l": volume,
            "bezirk_nr": districts[index].nr,
            "stadtbezirk": districts[index].name,
            "leerungstag": rng.choice(["Mo", "Di", "Mi", "Do", "Fr"]),
            "fuellrate_prozent_h": round(rate * rng.uniform(0.6, 1.5), 3),
        }
        geometry = {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}
        features.append(_feature(properties, geometry))
    return _collection(features, "abfallbehaelter_herne")


FILL_LEVEL_HEADER = ["behaelter_id", "zeitpunkt", "fuellstand_prozent"]
_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def make_fill_levels(
    containers: dict[str, Any],
    seed: int = SEED,
    start: datetime = datetime(2024, 10, 14, tzinfo=BERLIN),
    days: int = 21,
) -> list[list[str]]:
    """Hourly fill levels with local time and UTC offset; about 1 % of readings are missing."""
    rng = rng_for(seed, "waste-fill-levels")
    first = start.astimezone(UTC)
    hours = int((start + timedelta(days=days)).astimezone(UTC).timestamp() - first.timestamp())
    hours //= 3600
    rows = []
    for feature in containers["features"]:
        props = feature["properties"]
        level = rng.uniform(5.0, 60.0)
        for hour in range(hours):
            local = (first + timedelta(hours=hour)).astimezone(BERLIN)
            if _WEEKDAYS[local.weekday()] == props["leerungstag"] and local.hour == 9:
                level = rng.uniform(0.0, 3.0)
            activity = 1.6 if 8 <= local.hour < 20 else 0.3
            if local.weekday() >= 5:
                activity *= 1.3
            level = min(100.0, level + props["fuellrate_prozent_h"] * activity * rng.uniform(0, 2))
            if rng.random() < 0.01:
                continue  # sensor did not report
            reading = min(100.0, max(0.0, level + rng.gauss(0.0, 0.8)))
            rows.append([props["behaelter_id"], local.isoformat(), f"{reading:.1f}"])
    return rows


# --- writing -------------------------------------------------------------------------------


def write_geojson(path: Path, collection: dict[str, Any]) -> GeneratedFile:
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return GeneratedFile(path, len(collection["features"]))


def write_csv(
    path: Path,
    header: list[str],
    rows: Iterable[list[str]],
    *,
    german: bool = False,
) -> GeneratedFile:
    """A CSV file; ``german``: ``;`` separated, CRLF, UTF-8 with BOM, as Excel writes it."""
    count = 0
    encoding = "utf-8-sig" if german else "utf-8"
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(
            fh, delimiter=";" if german else ",", lineterminator="\r\n" if german else "\n"
        )
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return GeneratedFile(path, count)


# --- PM10 at measuring stations -------------------------------------------------------------

PM10_HEADER = ["station", "ort", "tag", "pm10_ug_m3"]
# Treated: two stations on Herne's Bahnhofstraße; controls: comparable Dortmund streets.
PM10_STATIONS = (
    ("HER-BHF-1", "Herne, Bahnhofstraße Nord", True, 3.0),
    ("HER-BHF-2", "Herne, Bahnhofstraße Süd", True, 1.0),
    ("DO-BRA-1", "Dortmund, Brackeler Straße", False, 2.0),
    ("DO-RHE-1", "Dortmund, Rheinlanddamm", False, 0.0),
)
PM10_FIRST_DAY = date(2023, 4, 1)
PM10_MEASURE_START = date(2024, 4, 1)  # the demo measure (Tempo 30) takes effect
PM10_EFFECT = -4.0  # µg/m³ at the treated stations from that day (the truth to recover)


def make_pm10_stations(seed: int = SEED, days: int = 610) -> Iterator[list[str]]:
    """Daily PM10 means: season, shared weather (autocorrelated wind), station noise, effect."""
    rng = rng_for(seed, "feinstaub")
    wind = 0.0
    noise = {station: 0.0 for station, *_ in PM10_STATIONS}
    for offset in range(days):
        day = PM10_FIRST_DAY + timedelta(days=offset)
        wind = 0.7 * wind + rng.gauss(0.0, 1.0)
        season = 6.0 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)
        for station, place, treated, level in PM10_STATIONS:
            noise[station] = 0.5 * noise[station] + rng.gauss(0.0, 2.5)
            value = 22.0 + season - 2.5 * wind + level + noise[station]
            if treated and day >= PM10_MEASURE_START:
                value += PM10_EFFECT
            yield [station, place, day.isoformat(), f"{max(value, 2.0):.1f}"]


SYNTHETIC_FILES = {
    "districts": "stadtbezirke_herne.geojson",
    "solar": "solarkataster_herne_epsg25832.geojson",
    "grid": "netzgebiete_ortsnetzstationen_herne.geojson",
    "consumption": "verbrauch_bezirke_monatlich.csv",
    "containers": "abfallbehaelter_standorte.geojson",
    "fill_levels": "abfallbehaelter_fuellstaende.csv",
    "pm10": "pm10_messstationen_tagesmittel.csv",
}


def generate_all(
    out_dir: Path, *, seed: int = SEED, kreise: Path = KREISE_FILE
) -> dict[str, GeneratedFile]:
    """Write every synthetic demo file into ``out_dir``; keys as in :data:`SYNTHETIC_FILES`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = connect(threads=1)
    try:
        districts = make_districts(con, herne_outline(kreise), seed)
        containers = make_waste_containers(districts, seed)
        path = {key: out_dir / name for key, name in SYNTHETIC_FILES.items()}
        return {
            "districts": write_geojson(path["districts"], districts_collection(con, districts)),
            "solar": write_geojson(path["solar"], make_solar_cadastre(con, districts, seed)),
            "grid": write_geojson(path["grid"], make_grid_areas(con, districts, seed)),
            "consumption": write_csv(
                path["consumption"],
                CONSUMPTION_HEADER,
                make_consumption(districts, seed),
                german=True,
            ),
            "containers": write_geojson(path["containers"], containers),
            "fill_levels": write_csv(
                path["fill_levels"], FILL_LEVEL_HEADER, make_fill_levels(containers, seed)
            ),
            "pm10": write_csv(path["pm10"], PM10_HEADER, make_pm10_stations(seed)),
        }
    finally:
        con.close()
