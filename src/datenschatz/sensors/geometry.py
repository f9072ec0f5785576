"""Plane geometry on GeoJSON for SensorThings: WKT literals, bounding boxes, predicates, hulls.

Coordinates are taken as planar (longitude, latitude) degrees, as a geometry (not geography)
type in PostGIS would. Predicates work on the parts of a geometry — points, segments and
polygon rings:

- ``intersects``: a point of one lies in or on the other, or two segments cross;
- ``within(a, b)``: every vertex of ``a`` lies in or on ``b`` (exact for points, and for
  convex ``b``; for a concave ``b`` an edge of ``a`` may leave it between two vertices);
- ``distance``: the smallest distance between the parts (0 when they intersect).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from typing import Any

from datenschatz.errors import InputError

Point = tuple[float, float]
Geometry = dict[str, Any]

_WKT_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
}
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def parse_wkt(text: str) -> Geometry:
    """A GeoJSON geometry from WKT (``SRID=4326;`` prefix allowed; Z values are dropped)."""
    body = text.strip()
    if body.upper().startswith("SRID="):
        body = body.partition(";")[2].strip()
    match = re.match(r"([A-Za-z]+)\s*(Z|M|ZM)?\s*", body)
    kind = _WKT_TYPES.get(match.group(1).upper()) if match else None
    if match is None or kind is None:
        raise InputError(f"Unsupported geometry literal {text[:60]!r}.", parameter="$filter")
    rest = body[match.end() :]
    try:
        nested = _parse_nested(rest)
    except (ValueError, IndexError) as exc:
        raise InputError(f"Malformed geometry literal {text[:60]!r}.", parameter="$filter") from exc
    if kind == "Point":
        return {"type": kind, "coordinates": nested[0]}
    if kind == "MultiPoint":
        points = [p[0] if isinstance(p[0], list) else p for p in nested]
        return {"type": kind, "coordinates": points}
    return {"type": kind, "coordinates": nested}


def _parse_nested(text: str) -> Any:
    """``((1 2, 3 4), (5 6))`` into nested lists; positions become [x, y]."""
    stack: list[list[Any]] = [[]]
    i = 0
    while i < len(text):
        char = text[i]
        if char == "(":
            stack.append([])
            i += 1
        elif char == ")":
            done = stack.pop()
            stack[-1].append(done)
            i += 1
        elif char in ", \t\n":
            i += 1
        else:
            numbers = []
            while True:
                match = _NUMBER.match(text, i)
                if match is None:
                    raise ValueError(text[i : i + 10])
                numbers.append(float(match.group(0)))
                i = match.end()
                while i < len(text) and text[i] in " \t\n":
                    i += 1
                if i >= len(text) or text[i] in ",)":
                    break
            stack[-1].append(numbers[:2])
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError("unbalanced parentheses")
    return stack[0][0]


def geometry_of(value: Any) -> Geometry | None:
    """The geometry inside a GeoJSON geometry, Feature or FeatureCollection (first feature)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "Feature":
        return geometry_of(value.get("geometry"))
    if kind == "FeatureCollection":
        features = value.get("features") or []
        parts = [geometry_of(f) for f in features]
        geometries = [g for g in parts if g is not None]
        if not geometries:
            return None
        return {"type": "GeometryCollection", "geometries": geometries}
    if kind in _WKT_TYPES.values() and "coordinates" in value:
        return value
    if kind == "GeometryCollection" and isinstance(value.get("geometries"), list):
        return value
    return None


def check_geometry(value: Any, field: str) -> Geometry:
    """``value`` as a usable GeoJSON geometry, or an InputError naming ``field``."""
    geometry = geometry_of(value)
    if geometry is None:
        raise InputError(f"{field} must be a GeoJSON geometry or Feature.", field=field)
    try:
        points = list(_points(geometry))
    except (TypeError, ValueError, IndexError) as exc:
        raise InputError(f"{field} has malformed coordinates.", field=field) from exc
    if not points:
        raise InputError(f"{field} has no coordinates.", field=field)
    return geometry


def _points(geometry: Geometry) -> Iterator[Point]:
    kind = geometry["type"]
    coords: Any = geometry.get("coordinates")
    if kind == "Point":
        yield (float(coords[0]), float(coords[1]))
    elif kind in ("MultiPoint", "LineString"):
        for c in coords:
            yield (float(c[0]), float(c[1]))
    elif kind in ("Polygon", "MultiLineString"):
        for ring in coords:
            for c in ring:
                yield (float(c[0]), float(c[1]))
    elif kind == "MultiPolygon":
        for polygon in coords:
            for ring in polygon:
                for c in ring:
                    yield (float(c[0]), float(c[1]))
    elif kind == "GeometryCollection":
        for part in geometry["geometries"]:
            yield from _points(part)


def points(geometry: Geometry) -> list[Point]:
    return list(_points(geometry))


def bbox(geometry: Geometry) -> tuple[float, float, float, float]:
    xs, ys = zip(*_points(geometry), strict=True)
    return (min(xs), min(ys), max(xs), max(ys))


class _Parts:
    """A geometry broken into points, segments and polygons (lists of rings)."""

    def __init__(self, geometry: Geometry) -> None:
        self.points: list[Point] = []
        self.segments: list[tuple[Point, Point]] = []
        self.polygons: list[list[list[Point]]] = []
        self._add(geometry)

    def _add(self, geometry: Geometry) -> None:
        kind = geometry["type"]
        coords: Any = geometry.get("coordinates")
        if kind == "Point":
            self.points.append((float(coords[0]), float(coords[1])))
        elif kind == "MultiPoint":
            self.points.extend((float(c[0]), float(c[1])) for c in coords)
        elif kind == "LineString":
            self._line([(float(c[0]), float(c[1])) for c in coords])
        elif kind == "MultiLineString":
            for line in coords:
                self._line([(float(c[0]), float(c[1])) for c in line])
        elif kind == "Polygon":
            self._polygon(coords)
        elif kind == "MultiPolygon":
            for polygon in coords:
                self._polygon(polygon)
        elif kind == "GeometryCollection":
            for part in geometry["geometries"]:
                self._add(part)

    def _line(self, line: list[Point]) -> None:
        self.points.extend(line)
        self.segments.extend(itertools.pairwise(line))

    def _polygon(self, rings: list[list[Any]]) -> None:
        polygon = [[(float(c[0]), float(c[1])) for c in ring] for ring in rings]
        self.polygons.append(polygon)
        for ring in polygon:
            self._line(ring)


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(p: Point, a: Point, b: Point, eps: float = 1e-12) -> bool:
    if abs(_orientation(a, b, p)) > eps * max(1.0, abs(b[0] - a[0]) + abs(b[1] - a[1])):
        return False
    return (
        min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
        and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps
    )


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if ((o1 > 0 > o2) or (o1 < 0 < o2)) and ((o3 > 0 > o4) or (o3 < 0 < o4)):
        return True
    return any(
        (
            _on_segment(c, a, b),
            _on_segment(d, a, b),
            _on_segment(a, c, d),
            _on_segment(b, c, d),
        )
    )


def _in_ring(p: Point, ring: list[Point]) -> bool:
    inside = False
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        if (a[1] > p[1]) != (b[1] > p[1]):
            x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if p[0] < x:
                inside = not inside
    return inside


def _in_polygon(p: Point, polygon: list[list[Point]]) -> bool:
    """Inside or on the boundary of a polygon with holes."""
    for ring in polygon:
        for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
            if _on_segment(p, a, b):
                return True
    if not polygon or not _in_ring(p, polygon[0]):
        return False
    return not any(_in_ring(p, hole) for hole in polygon[1:])


def _covers_point(parts: _Parts, p: Point) -> bool:
    if any(q == p for q in parts.points):
        return True
    if any(_on_segment(p, a, b) for a, b in parts.segments):
        return True
    return any(_in_polygon(p, polygon) for polygon in parts.polygons)


def intersects(a: Geometry, b: Geometry) -> bool:
    pa, pb = _Parts(a), _Parts(b)
    if any(_covers_point(pb, p) for p in pa.points):
        return True
    if any(_covers_point(pa, p) for p in pb.points):
        return True
    return any(_segments_cross(s[0], s[1], t[0], t[1]) for s in pa.segments for t in pb.segments)


def within(a: Geometry, b: Geometry) -> bool:
    pa, pb = _Parts(a), _Parts(b)
    return bool(pa.points) and all(_covers_point(pb, p) for p in pa.points)


def equals(a: Geometry, b: Geometry) -> bool:
    return within(a, b) and within(b, a)


def _point_segment_distance(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))


def distance(a: Geometry, b: Geometry) -> float:
    if intersects(a, b):
        return 0.0
    pa, pb = _Parts(a), _Parts(b)
    best = math.inf
    for p in pa.points:
        best = min(best, *(math.dist(p, q) for q in pb.points))
        for s, t in pb.segments:
            best = min(best, _point_segment_distance(p, s, t))
    for p in pb.points:
        for s, t in pa.segments:
            best = min(best, _point_segment_distance(p, s, t))
    return best


def length(a: Geometry) -> float:
    return sum(math.dist(s, t) for s, t in _Parts(a).segments)


def convex_hull(geometries: list[Geometry]) -> Geometry | None:
    """A Point for one distinct position, else a Polygon (never a MultiPolygon).

    Collinear positions give their bounding rectangle, widened by 1e-7 degrees where it
    has no width, so that the answer is always a valid Polygon.
    """
    unique = sorted({p for g in geometries for p in _points(g)})
    if not unique:
        return None
    if len(unique) == 1:
        return {"type": "Point", "coordinates": list(unique[0])}

    def half(points: list[Point]) -> list[Point]:
        chain: list[Point] = []
        for p in points:
            while len(chain) >= 2 and _orientation(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(unique), half(list(reversed(unique)))
    hull = lower[:-1] + upper[:-1]
    if len(hull) < 3:
        xs, ys = [p[0] for p in unique], [p[1] for p in unique]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        if x1 - x0 < 1e-7:
            x0, x1 = x0 - 1e-7, x1 + 1e-7
        if y1 - y0 < 1e-7:
            y0, y1 = y0 - 1e-7, y1 + 1e-7
        hull = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    ring = [list(p) for p in hull] + [list(hull[0])]
    return {"type": "Polygon", "coordinates": [ring]}
