"""From a staged feature table to the final SELECT: CRS, validity and coordinate checks.

Every geodata reader materialises its source as a temporary DuckDB table with one row per
feature in file order (:class:`FeatureTable`). :func:`finish` then does what all geo formats
share:

- decide the source CRS (``IngestOptions.crs`` wins over the file) and refuse coordinates that
  do not fit it: projected-looking numbers without a CRS or under a geographic CRS, degree-like
  numbers under a projected CRS, anything that does not transform into longitude/latitude;
- refuse invalid geometries with their 0-based feature indexes, or repair them with
  ST_MakeValid when ``make_valid`` is set; geometries that cannot be repaired are always refused;
- drop M values (GeoParquet cannot store them) and keep Z;
- build ``select_sql``: the attribute columns plus one ``geometry`` column of type
  ``GEOMETRY('EPSG:4326')``, x = longitude, y = latitude.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb

from datenschatz.coded import coded
from datenschatz.errors import IngestError
from datenschatz.ingest import crs as crsmod
from datenschatz.ingest.crs import WGS84, Crs
from datenschatz.ingest.model import ColumnNote, IngestOptions, Staged
from datenschatz.store.duck import sql_ident, sql_string

log = logging.getLogger(__name__)

GEOMETRY = "geometry"
SHOWN_FEATURES = 5
PROJECTED_HINT = "coordinates look projected (e.g. UTM); give the CRS with --crs EPSG:25832"


@dataclass
class FeatureTable:
    """A geodata source staged as a DuckDB table: one row per feature, in file order."""

    file: str  # the file name shown in messages
    table: str  # unquoted name of a (temporary) table on the reader's connection
    geometry: str  # its GEOMETRY column
    attributes: list[str]  # its attribute columns to keep, in order
    crs: Crs | None  # the CRS the file declares, None when it declares none
    format: str
    index: str = "rowid"  # SQL expression of the 0-based feature index
    layer: str | None = None
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def feature_list(indexes: list[int], total: int) -> str:
    """'3, 7 and 12' or '3, 7, 12, 20, 31 and 4 more'."""
    shown = [str(i) for i in indexes[:SHOWN_FEATURES]]
    rest = total - len(shown)
    if rest > 0:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) > 1:
        return f"{', '.join(shown[:-1])} and {shown[-1]}"
    return shown[0] if shown else ""


def output_names(columns: list[str]) -> tuple[list[tuple[str, str]], dict[str, ColumnNote]]:
    """(source, output) names; an attribute called 'geometry' is renamed, with a note."""
    taken = {c.lower() for c in columns} | {GEOMETRY}
    pairs: list[tuple[str, str]] = []
    notes: dict[str, ColumnNote] = {}
    for name in columns:
        if name.lower() != GEOMETRY:
            pairs.append((name, name))
            continue
        new, n = f"{name}_attribute", 2
        while new.lower() in taken:
            new, n = f"{name}_attribute_{n}", n + 1
        taken.add(new.lower())
        pairs.append((name, new))
        notes[new] = ColumnNote(
            source_name=name,
            message=coded(
                f"renamed from '{name}': that name is kept for the geometry column",
                "renamed_geometry",
                name=name,
            ),
        )
    return pairs, notes


def finish(con: duckdb.DuckDBPyConnection, src: FeatureTable, options: IngestOptions) -> Staged:
    """The Staged result for a feature table, after all checks (IngestError when one fails)."""
    shown = src.file
    table, geom, idx = sql_ident(src.table), sql_ident(src.geometry), src.index
    stats = _stats(con, table, geom, idx)
    warnings = list(src.warnings)
    source, origin = _decide_crs(con, src, options, stats, shown, warnings)
    invalid = _check_validity(con, table, geom, idx, options, shown, stats["count"])
    geom_sql = f"{geom}::GEOMETRY"
    if invalid:
        geom_sql = (
            f"CASE WHEN ST_IsValid({geom_sql}) THEN {geom_sql} ELSE ST_MakeValid({geom_sql}) END"
        )
        warnings.append(
            coded(
                f"{invalid} invalid geometr{'y was' if invalid == 1 else 'ies were'} repaired "
                "with ST_MakeValid (make_valid).",
                "geometries_repaired",
                count=invalid,
            )
        )
    if stats["with_m"]:
        geom_sql = (
            f"CASE WHEN ST_HasM({geom_sql}) THEN (CASE WHEN ST_HasZ({geom_sql}) "
            f"THEN ST_Force3DZ({geom_sql}, 0) ELSE ST_Force2D({geom_sql}) END) "
            f"ELSE {geom_sql} END"
        )
        warnings.append(
            coded(
                f"M values of {stats['with_m']} feature(s) were dropped: GeoParquet cannot "
                "store them.",
                "m_dropped",
                count=stats["with_m"],
            )
        )
    if source is not None and not source.is_wgs84_lonlat:
        geom_sql = (
            f"ST_Transform({geom_sql}, {sql_string(source.definition)}, "
            f"{sql_string(WGS84)}, always_xy := true)"
        )
        _check_transformed(con, table, geom_sql, idx, source, shown)
    final_geom = f"ST_SetCRS({geom_sql}, {sql_string(WGS84)}) AS {sql_ident(GEOMETRY)}"
    pairs, notes = output_names(src.attributes)
    columns = [sql_ident(s) if s == o else f"{sql_ident(s)} AS {sql_ident(o)}" for s, o in pairs]
    select_sql = f"SELECT {', '.join([*columns, final_geom])} FROM {table} ORDER BY {idx}"
    details: dict[str, Any] = {
        "layer": src.layer,
        "feature_count": stats["count"],
        "source_crs": source.label if source else None,
        "crs_from": origin,
        "geometry_types": stats["types"],
        "has_z": stats["with_z"] > 0,
    }
    if stats["nulls"]:
        details["features_without_geometry"] = stats["nulls"]
    if invalid:
        details["repaired_geometries"] = invalid
    if stats["with_m"]:
        details["m_values_dropped"] = stats["with_m"]
    details.update(src.details)
    return Staged(
        select_sql=select_sql,
        format=src.format,
        notes=notes,
        geometry_column=GEOMETRY,
        source_crs=source.label if source else None,
        warnings=warnings,
        details={k: v for k, v in details.items() if v is not None},
    )


def _stats(con: duckdb.DuckDBPyConnection, table: str, geom: str, idx: str) -> dict[str, Any]:
    in_range = (
        f"ST_XMin({geom}) >= -180 AND ST_XMax({geom}) <= 180 "
        f"AND ST_YMin({geom}) >= -90 AND ST_YMax({geom}) <= 90"
    )
    row = con.execute(
        f"SELECT count(*), count(*) - count({geom}), "
        f"min(ST_XMin({geom})), min(ST_YMin({geom})), max(ST_XMax({geom})), max(ST_YMax({geom})), "
        f"count(*) FILTER (ST_HasZ({geom})), count(*) FILTER (ST_HasM({geom})), "
        f"list_sort(list_distinct(list(ST_GeometryType({geom})::VARCHAR))), "
        f"count(*) FILTER (NOT ({in_range})), "
        f"list({idx} ORDER BY {idx}) FILTER (NOT ({in_range}))[1:{SHOWN_FEATURES}] "
        f"FROM {table}"
    ).fetchone()
    assert row is not None
    bbox = None if row[2] is None else (float(row[2]), float(row[3]), float(row[4]), float(row[5]))
    return {
        "count": int(row[0]),
        "nulls": int(row[1]),
        "bbox": bbox,
        "with_z": int(row[6]),
        "with_m": int(row[7]),
        "types": list(row[8] or []),
        "outside": int(row[9]),
        "outside_first": [int(i) for i in (row[10] or [])],
    }


def _decide_crs(
    con: duckdb.DuckDBPyConnection,
    src: FeatureTable,
    options: IngestOptions,
    stats: dict[str, Any],
    shown: str,
    warnings: list[str],
) -> tuple[Crs | None, str | None]:
    """(source CRS, where it came from: 'option', 'file' or 'assumed')."""
    given = crsmod.parse_option(options.crs) if options.crs else None
    if given is not None:
        geographic = crsmod.is_geographic(con, given, file=shown, from_option=True)
        if src.crs is not None and not src.crs.same_as(given):
            warnings.append(
                coded(
                    f"The file declares {src.crs.label}; {given.label} given with --crs was used.",
                    "crs_overridden",
                    declared=src.crs.label,
                    given=given.label,
                )
            )
        source, origin = given, "option"
    elif src.crs is not None:
        geographic = crsmod.is_geographic(con, src.crs, file=shown, from_option=False)
        source, origin = src.crs, "file"
    else:
        source, origin, geographic = None, None, True
    if stats["bbox"] is None:  # no geometry at all: nothing to check or transform
        return source, origin
    if geographic and stats["outside"]:
        _refuse_outside(stats, source, origin, shown)
    if not geographic and stats["outside"] == 0 and source is not None:
        raise IngestError(
            f"The coordinates look like longitude/latitude, but {source.label} is a projected "
            "CRS; if they are longitude/latitude, give the CRS with --crs EPSG:4326.",
            key="ingest.lonlat_but_projected_crs",
            params={"crs": source.label},
            file=shown,
        )
    if source is None:
        warnings.append(
            coded(
                "The file declares no coordinate reference system; its coordinates look like "
                "longitude/latitude and were taken as EPSG:4326 (WGS 84). "
                "Give the CRS with --crs if that is wrong.",
                "crs_assumed",
            )
        )
        return crsmod.of_code(WGS84), "assumed"
    return source, origin


def _refuse_outside(
    stats: dict[str, Any], source: Crs | None, origin: str | None, shown: str
) -> None:
    count, total, first = stats["outside"], stats["count"] - stats["nulls"], stats["outside_first"]
    where = (
        "" if count == total else f" ({count} of {total} features: {feature_list(first, count)})"
    )
    if origin == "option":
        assert source is not None
        message = (
            f"The coordinates do not fit {source.label} given with --crs{where}: {PROJECTED_HINT}."
        )
    elif source is None:
        message = f"The file declares no coordinate reference system and its {PROJECTED_HINT}."
        if where:
            message = (
                "The file declares no coordinate reference system and some features have "
                f"coordinates beyond longitude/latitude{where}: {PROJECTED_HINT}."
            )
    else:
        message = (
            f"The coordinates are beyond ±180/±90{where}, so they are not longitude/latitude "
            f"as the file declares or implies ({source.label}): {PROJECTED_HINT}."
        )
    raise IngestError(
        message,
        key="ingest.projected_without_crs" if source is None else "ingest.coordinates_outside",
        params={"crs": source.label if source else ""},
        file=shown,
        feature=first[0] if first else None,
    )


def _check_transformed(
    con: duckdb.DuckDBPyConnection,
    table: str,
    geom_sql: str,
    idx: str,
    source: Crs,
    shown: str,
) -> None:
    """Refuse coordinates that do not land on the globe when transformed."""
    sql = (
        f"SELECT count(*) FILTER (NOT ok), min(i) FILTER (NOT ok) FROM (SELECT i, "
        f"coalesce(isfinite(ST_XMin(g)) AND isfinite(ST_YMax(g)) AND ST_XMin(g) >= -180 "
        f"AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90, g IS NULL) AS ok "
        f"FROM (SELECT {idx} AS i, {geom_sql} AS g FROM {table}))"
    )
    try:
        row = con.execute(sql).fetchone()
    except duckdb.Error as exc:
        log.info("transform from %s failed: %s", source.label, exc)
        raise IngestError(
            f"The coordinates cannot be transformed from {source.label} to EPSG:4326; "
            "check the CRS (give it with --crs).",
            key="ingest.transform_failed",
            params={"crs": source.label},
            file=shown,
        ) from None
    if row and row[0]:
        raise IngestError(
            f"{row[0]} feature(s) do not lie on the globe after transformation from "
            f"{source.label} to EPSG:4326 (first: feature {row[1]}); check the CRS "
            "(give it with --crs).",
            key="ingest.transform_failed",
            params={"crs": source.label},
            file=shown,
            feature=int(row[1]),
        )


def _check_validity(
    con: duckdb.DuckDBPyConnection,
    table: str,
    geom: str,
    idx: str,
    options: IngestOptions,
    shown: str,
    total: int,
) -> int:
    """Number of invalid geometries to repair; IngestError when they may not or cannot be."""
    g = f"{geom}::GEOMETRY"
    made = f"TRY(ST_MakeValid({g}))"
    broken = (
        f"({made} IS NULL OR (ST_IsEmpty({made}) AND NOT ST_IsEmpty({g})) "
        f"OR ST_Dimension({made}) < ST_Dimension({g}))"
    )
    row = con.execute(
        f"SELECT count(*), list(i ORDER BY i)[1:{SHOWN_FEATURES}], count(*) FILTER (broken), "
        f"list(i ORDER BY i) FILTER (broken)[1:{SHOWN_FEATURES}] FROM ("
        f"SELECT {idx} AS i, {broken} AS broken FROM {table} "
        f"WHERE {geom} IS NOT NULL AND NOT coalesce(TRY(ST_IsValid({g})), false))"
    ).fetchone()
    assert row is not None
    count, first = int(row[0]), [int(i) for i in (row[1] or [])]
    broken_count, broken_first = int(row[2]), [int(i) for i in (row[3] or [])]
    if broken_count:
        raise IngestError(
            f"{broken_count} of {total} features have a geometry that is broken beyond repair "
            "(e.g. a polygon ring with fewer than four points or a ring that is not closed): "
            f"feature{'s' if broken_count > 1 else ''} {feature_list(broken_first, broken_count)}."
            " Fix them in the source.",
            key="ingest.geometry_broken",
            params={"total": total},
            file=shown,
            feature=broken_first[0],
            features=broken_first,
            count=broken_count,
        )
    if count and not options.make_valid:
        raise IngestError(
            f"{count} of {total} features have an invalid geometry (e.g. a self-intersecting "
            f"polygon): feature{'s' if count > 1 else ''} {feature_list(first, count)}. "
            "Fix them in the source, or ingest with --make-valid to repair them.",
            key="ingest.geometry_invalid",
            params={"total": total},
            file=shown,
            feature=first[0],
            features=first,
            count=count,
        )
    return count
