"""Server-rendered HTML of the feature API: plain pages, every value escaped.

No scripts, no CDN, no map tiles: a small inline SVG sketches the geometries of a page. The
pages show what the JSON shows (links, extents, properties), in German first with the OGC
terms alongside, as the hub's web UI is German.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from datenschatz.ogc.crs import CRS84, Crs
from datenschatz.services.features import Collection

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#fafbfc}
header{background:#17456b;color:#fff;padding:.8rem 1.5rem}
header a{color:#fff}
main{padding:1rem 1.5rem;max-width:80rem}
nav.crumbs{font-size:.9rem;margin-bottom:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #cfd6de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6}
code{font-size:.88rem}
svg{background:#fff;border:1px solid #cfd6de;margin:.5rem 0}
.muted{color:#5b6775}
"""
_SVG_WIDTH = 640
_SVG_HEIGHT = 360


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _a(href: str, text: Any) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>'


def _html_link(href: str) -> str:
    return href + ("&" if "?" in href else "?") + "f=html"


def _page(title: str, crumbs: Sequence[tuple[str, str | None]], body: str, json_href: str) -> str:
    trail = " / ".join(_a(href, label) if href else _e(label) for label, href in crumbs)
    return (
        '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title>"
        f'<link rel="alternate" type="application/json" href="{_e(json_href)}">'
        f"<style>{_STYLE}</style></head><body>"
        f"<header><strong>Datenschatz</strong> · OGC API - Features</header><main>"
        f'<nav class="crumbs">{trail}</nav><h1>{_e(title)}</h1>{body}'
        f'<p class="muted">{_a(json_href, "Als JSON / as JSON")}</p>'
        "</main></body></html>\n"
    )


def _root_crumbs(root: str) -> list[tuple[str, str | None]]:
    return [("Start", _html_link(root))]


def _json_href(links: Sequence[dict[str, str]]) -> str:
    for link in links:
        if link["rel"] in ("self", "alternate") and not link["type"].startswith("text/html"):
            return link["href"]
    return links[0]["href"] if links else ""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table; cells are HTML already (escape values before)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of label and value (HTML already)."""
    body = "".join(f"<tr><th>{_e(label)}</th><td>{value}</td></tr>" for label, value in rows)
    return f"<table><tbody>{body}</tbody></table>"


# --- pages ----------------------------------------------------------------------------------


def landing_page(body: dict[str, Any]) -> str:
    rows = [
        [
            _a(
                _html_link(link["href"]) if link["type"] != "text/html" else link["href"],
                link.get("title", link["rel"]),
            ),
            _e(link["rel"]),
        ]
        for link in body["links"]
        if link["rel"] in ("data", "conformance", "service-doc")
    ]
    rows.append([_a(_json_href(body["links"]), "Startseite als JSON"), "alternate"])
    content = f"<p>{_e(body['description'])}</p>" + _table(["Verweis / link", "rel"], rows)
    return _page(body["title"], [("Start", None)], content, _json_href(body["links"]))


def conformance_page(body: dict[str, Any], root: str) -> str:
    items = "".join(f"<li><code>{_e(uri)}</code></li>" for uri in body["conformsTo"])
    content = f"<p>Umgesetzte Konformitätsklassen (conformance classes):</p><ul>{items}</ul>"
    crumbs = [*_root_crumbs(root), ("Konformität", None)]
    return _page("Konformität / Conformance", crumbs, content, _json_href(body["links"]))


def api_page(spec: dict[str, Any], root: str) -> str:
    rows = []
    for path, item in spec.get("paths", {}).items():
        operation = item.get("get", {})
        names = []
        for parameter in operation.get("parameters", []):
            ref = parameter.get("$ref")
            names.append(ref.rsplit("/", 1)[-1] if ref else parameter.get("name", ""))
        rows.append(
            [
                f"<code>GET {_e(path)}</code>",
                _e(operation.get("summary", "")),
                _e(", ".join(names)),
            ]
        )
    content = (
        f"<p>{_e(spec['info'].get('description', ''))}</p>"
        f"<p>{_a(root + '/api', 'OpenAPI 3.0 (JSON)')}</p>"
        + _table(["Pfad / path", "Zweck / summary", "Parameter"], rows)
    )
    crumbs = [*_root_crumbs(root), ("API", None)]
    return _page("API-Definition / API definition", crumbs, content, root + "/api")


def _extent_text(collection: dict[str, Any]) -> str:
    extent = collection.get("extent", {})
    parts = []
    if "spatial" in extent:
        bbox = extent["spatial"]["bbox"][0]
        parts.append("Raum (lon/lat): " + ", ".join(f"{v:.5f}" for v in bbox))
    if "temporal" in extent:
        start, end = extent["temporal"]["interval"][0]
        parts.append(f"Zeit: {start or '..'} bis {end or '..'}")
    return _e("; ".join(parts)) if parts else '<span class="muted">unbekannt</span>'


def collections_page(body: dict[str, Any], root: str) -> str:
    rows = []
    for c in body["collections"]:
        href = _html_link(f"{root}/collections/{c['id']}")
        items = _html_link(f"{root}/collections/{c['id']}/items")
        rows.append(
            [_a(href, c["title"]), _e(c["description"]), _extent_text(c), _a(items, "Objekte")]
        )
    content = (
        _table(["Sammlung / collection", "Beschreibung", "Ausdehnung / extent", "Features"], rows)
        if rows
        else "<p>Keine Sammlungen veröffentlicht.</p>"
    )
    crumbs = [*_root_crumbs(root), ("Sammlungen", None)]
    return _page("Sammlungen / Collections", crumbs, content, _json_href(body["links"]))


def collection_page(body: dict[str, Any], item: Collection, root: str) -> str:
    items = _html_link(f"{root}/collections/{item.id}/items")
    properties = [
        [_e(c.name), _e(c.schema.get("type") or c.kind.value), _e(c.schema.get("unit", ""))]
        for c in item.properties
    ]
    crs_list = "".join(f"<li><code>{_e(uri)}</code></li>" for uri in body["crs"])
    content = (
        f"<p>{_e(item.description)}</p>"
        + _facts(
            [
                ("Kennung / id", f"<code>{_e(item.id)}</code>"),
                ("Herausgeber", _e(item.organization)),
                ("Version", _e(item.version)),
                ("Objekte / features", _e(f"{item.rows:,}".replace(",", "."))),
                ("Geometrie", _e(", ".join(item.geometry_types) or "?")),
                ("Ausdehnung / extent", _extent_text(body)),
                ("Zeitspalte / datetime", _e(item.time_column or "keine / none")),
            ]
        )
        + f"<p>{_a(items, 'Objekte ansehen / browse features')}</p>"
        + "<h2>Eigenschaften / properties</h2>"
        + _table(["Name", "Typ", "Einheit"], properties)
        + f"<h2>Koordinatensysteme / CRS</h2><ul>{crs_list}</ul>"
        + f"<p class='muted'>Speicherung / storageCrs: <code>{_e(body['storageCrs'])}</code></p>"
    )
    crumbs = [
        *_root_crumbs(root),
        ("Sammlungen", _html_link(root + "/collections")),
        (item.title, None),
    ]
    return _page(item.title, crumbs, content, _json_href(body["links"]))


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return "<code>…</code>"
    if value is None:
        return '<span class="muted">-</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    return _e(value)


def items_page(
    head: dict[str, Any],
    features: list[dict[str, Any]],
    item: Collection,
    crs: Crs,
    base: str,
    first_href: str | None = None,
) -> str:
    """A page of features; ``first_href`` leads to the first page when this is a later one."""
    root = base.rsplit("/collections/", 1)[0]
    names = [c.name for c in item.properties]
    rows = []
    for feature in features:
        href = _html_link(f"{base}/items/{feature['id']}")
        if crs is not CRS84:
            href += "&crs=" + quote(crs.uri, safe="")
        geometry = feature.get("geometry") or {}
        props = feature.get("properties") or {}
        rows.append(
            [_a(href, feature["id"]), _e(geometry.get("type", "-"))]
            + [_value(props.get(n)) for n in names]
        )
    matched = head.get("numberMatched")
    summary = f"{head['numberReturned']} Objekte auf dieser Seite"
    if matched is not None:
        summary += f" von {matched}"
    nav = [
        _a(link["href"], "Nächste Seite / next") for link in head["links"] if link["rel"] == "next"
    ]
    if first_href is not None:
        nav.insert(0, _a(first_href, "Erste Seite / first"))
    content = (
        f"<p>{_e(summary)} · Koordinatensystem: <code>{_e(crs.uri)}</code></p>"
        + svg_preview([f.get("geometry") for f in features], crs)
        + _table(["Objekt", "Geometrie", *names], rows)
        + (f"<p>{' '.join(nav)}</p>" if nav else "")
    )
    crumbs = [
        *_root_crumbs(root),
        ("Sammlungen", _html_link(root + "/collections")),
        (item.title, _html_link(base)),
        ("Objekte", None),
    ]
    return _page(f"{item.title}: Objekte / features", crumbs, content, _json_href(head["links"]))


def item_page(feature: dict[str, Any], item: Collection, crs: Crs, base: str) -> str:
    root = base.rsplit("/collections/", 1)[0]
    props = feature.get("properties") or {}
    geometry = feature.get("geometry")
    rows = [[_e(c.name), _value(props.get(c.name))] for c in item.properties]
    content = (
        f"<p>Geometrie: {_e((geometry or {}).get('type', 'keine'))} · "
        f"Koordinatensystem: <code>{_e(crs.uri)}</code></p>"
        + svg_preview([geometry], crs)
        + _table(["Eigenschaft / property", "Wert / value"], rows)
    )
    crumbs = [
        *_root_crumbs(root),
        ("Sammlungen", _html_link(root + "/collections")),
        (item.title, _html_link(base)),
        ("Objekte", _html_link(base + "/items")),
        (str(feature["id"]), None),
    ]
    return _page(f"{item.title} #{feature['id']}", crumbs, content, _json_href(feature["links"]))


# --- a sketch of the geometries -------------------------------------------------------------


def _rings(geometry: dict[str, Any]) -> Iterator[tuple[str, list[list[float]]]]:
    """(kind, coordinate list) of every part: kind is point, line or ring."""
    kind = geometry.get("type")
    coords: Any = geometry.get("coordinates") or []
    if kind == "Point":
        yield "point", [coords]
    elif kind == "MultiPoint":
        for point in coords:
            yield "point", [point]
    elif kind == "LineString":
        yield "line", coords
    elif kind == "MultiLineString" or kind == "Polygon":
        for part in coords:
            yield ("ring" if kind == "Polygon" else "line"), part
    elif kind == "MultiPolygon":
        for polygon in coords:
            for ring in polygon:
                yield "ring", ring
    elif kind == "GeometryCollection":
        for member in geometry.get("geometries") or []:
            yield from _rings(member)


def svg_preview(geometries: Sequence[dict[str, Any] | None], crs: Crs) -> str:
    """An inline SVG sketch of ``geometries`` (x east, y north), or nothing."""
    parts: list[tuple[str, list[tuple[float, float]]]] = []
    for geometry in geometries:
        if not geometry:
            continue
        for kind, coords in _rings(geometry):
            points = [
                (c[1], c[0]) if crs.lat_first else (c[0], c[1]) for c in coords if len(c) >= 2
            ]
            if points:
                parts.append((kind, points))
    if not parts:
        return ""
    xs = [x for _, pts in parts for x, _ in pts]
    ys = [y for _, pts in parts for _, y in pts]
    minx, maxx, miny, maxy = min(xs), max(xs), min(ys), max(ys)
    span = max(maxx - minx, maxy - miny) or 1.0
    if maxx == minx:  # a single point or a north-south line: centre it
        minx, maxx = minx - span / 2, maxx + span / 2
    if maxy == miny:
        miny, maxy = miny - span / 2, maxy + span / 2
    stretch = math.cos(math.radians((miny + maxy) / 2)) if crs.geographic else 1.0
    width = max((maxx - minx) * stretch, 1e-9)
    height = max(maxy - miny, 1e-9)
    pad = 12
    scale = min((_SVG_WIDTH - 2 * pad) / width, (_SVG_HEIGHT - 2 * pad) / height)
    svg_height = max(120, round(height * scale + 2 * pad))
    left = (_SVG_WIDTH - width * scale) / 2  # centre the drawing
    top = (svg_height - height * scale) / 2

    def px(x: float, y: float) -> str:
        return f"{left + (x - minx) * stretch * scale:.1f},{top + (maxy - y) * scale:.1f}"

    shapes = []
    for kind, points in parts[:20_000]:
        if kind == "point":
            cx, cy = px(*points[0]).split(",")
            shapes.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="#17456b"/>')
        else:
            path = " ".join(px(x, y) for x, y in points)
            fill = "#17456b33" if kind == "ring" else "none"
            shapes.append(
                f'<polyline points="{path}" fill="{fill}" stroke="#17456b" stroke-width="1.2"/>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_SVG_WIDTH}" height="{svg_height}" '
        f'role="img" aria-label="Skizze der Geometrien">{"".join(shapes)}</svg>'
    )
