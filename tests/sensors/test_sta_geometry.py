"""Plane geometry for geo filters and observedArea, and the JSON Patch applier."""

from __future__ import annotations

import pytest

from datenschatz.errors import CheckFailed, InputError
from datenschatz.sensors import geometry
from datenschatz.sensors.json_patch import apply_patch

SQUARE = geometry.parse_wkt("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))")


def pt(x: float, y: float) -> dict[str, object]:
    return {"type": "Point", "coordinates": [x, y]}


def test_wkt_kinds() -> None:
    assert geometry.parse_wkt("SRID=4326;POINT (7.1 51.5)") == pt(7.1, 51.5)
    assert geometry.parse_wkt("POINT Z (1 2 3)") == pt(1, 2)
    assert geometry.parse_wkt("MULTIPOINT((1 2),(3 4))")["coordinates"] == [[1, 2], [3, 4]]
    assert geometry.parse_wkt("LINESTRING(0 0, 1 1)")["coordinates"] == [[0, 0], [1, 1]]
    multi = geometry.parse_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))")
    assert len(multi["coordinates"]) == 2
    for bad in ("CIRCLE(1 2)", "POINT(1 2", "POINT(a b)"):
        with pytest.raises(InputError):
            geometry.parse_wkt(bad)


def test_point_in_polygon_with_hole_and_boundary() -> None:
    assert geometry.intersects(pt(3, 3), SQUARE)
    assert not geometry.intersects(pt(1.5, 1.5), SQUARE)  # in the hole
    assert geometry.intersects(pt(4, 2), SQUARE)  # on the boundary
    assert not geometry.intersects(pt(5, 5), SQUARE)
    assert geometry.within(pt(3, 3), SQUARE)


def test_lines_and_polygons() -> None:
    crossing = geometry.parse_wkt("LINESTRING(-1 2, 5 2)")
    assert geometry.intersects(crossing, SQUARE)
    assert not geometry.within(crossing, SQUARE)
    outside = geometry.parse_wkt("POLYGON((10 10, 11 10, 11 11, 10 10))")
    assert geometry.distance(outside, SQUARE) == pytest.approx(2**0.5 * 6)
    assert geometry.length(crossing) == 6


def test_convex_hull_is_a_point_or_a_polygon() -> None:
    assert geometry.convex_hull([pt(1, 1), pt(1, 1)]) == pt(1, 1)
    hull = geometry.convex_hull([pt(0, 0), pt(2, 0), pt(1, 1), pt(2, 2), pt(0, 2)])
    assert hull is not None
    assert hull["type"] == "Polygon"
    assert sorted(map(tuple, hull["coordinates"][0][:-1])) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    line = geometry.convex_hull([pt(0, 0), pt(0, 3)])
    assert line is not None
    assert line["type"] == "Polygon"
    assert geometry.convex_hull([]) is None


def test_features_and_invalid_geometries() -> None:
    feature = {"type": "Feature", "geometry": pt(1, 2), "properties": {}}
    assert geometry.check_geometry(feature, "location") == pt(1, 2)
    with pytest.raises(InputError, match="location must be a GeoJSON"):
        geometry.check_geometry({"type": "Point"}, "location")
    with pytest.raises(InputError, match="malformed"):
        geometry.check_geometry({"type": "Point", "coordinates": ["a"]}, "location")


def test_json_patch_operations() -> None:
    document = {"name": "a", "properties": {"tags": ["x"]}}
    patched = apply_patch(
        document,
        [
            {"op": "add", "path": "/properties/tags/-", "value": "y"},
            {"op": "copy", "from": "/name", "path": "/description"},
            {"op": "move", "from": "/properties/tags/0", "path": "/properties/first"},
            {"op": "remove", "path": "/name"},
            {"op": "test", "path": "/description", "value": "a"},
        ],
    )
    assert patched == {"description": "a", "properties": {"tags": ["y"], "first": "x"}}
    assert document == {"name": "a", "properties": {"tags": ["x"]}}
    with pytest.raises(CheckFailed):
        apply_patch(document, [{"op": "test", "path": "/name", "value": "b"}])
    for bad in (
        {"op": "remove", "path": "/missing"},
        {"op": "add", "path": "name", "value": 1},
        {"op": "jump", "path": "/name"},
        {"op": "replace", "path": "/name"},
    ):
        with pytest.raises(InputError):
            apply_patch(document, [bad])
