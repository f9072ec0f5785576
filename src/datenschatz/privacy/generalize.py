"""Generalization: DuckDB expressions that coarsen one column so it identifies fewer people.

- postcode → district, by a mapping (the bundled Herne/Dortmund table or one the steward
  declares);
- address → street (the house number and everything after a comma is cut off);
- point geometry → 100 m grid cell (INSPIRE grid cell id in EPSG:3035, e.g.
  ``CRS3035RES100mN3210100E4123400``);
- date or timestamp → month (``YYYY-MM``);
- number → band (``[1000, 2000)``), by a fixed width or by declared edges.

Every function returns a SQL expression over the given (already quoted) column expression;
the caller selects it under the output column name.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from datenschatz.store.duck import sql_string

MAPPING_FILE = Path(__file__).parent / "data" / "plz_stadtbezirk.csv"
BUILTIN_MAPPING = "herne-dortmund"
GRID_SIZES = (100, 250, 500, 1000)


@cache
def builtin_postcode_mapping() -> dict[str, str]:
    """The bundled postcode → Stadtbezirk table of Herne and Dortmund (see its header)."""
    with MAPPING_FILE.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return {row["plz"]: row["district"] for row in csv.DictReader(lines)}


def _postcode(expr: str) -> str:
    return f"lpad(trim(CAST({expr} AS VARCHAR)), 5, '0')"


def postcode_to_district(expr: str, mapping: Mapping[str, str]) -> str:
    """District of a postcode; NULL for a postcode the mapping does not know."""
    if not mapping:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(
        f"WHEN {sql_string(str(plz).strip().zfill(5))} THEN {sql_string(district)}"
        for plz, district in sorted(mapping.items())
    )
    return f"CASE {_postcode(expr)} {cases} ELSE NULL END"


def address_to_street(expr: str) -> str:
    """The street of a German address line: 'Bahnhofstr. 12a, 44623 Herne' → 'Bahnhofstr.'."""
    # Cut at the first comma, then cut the house number (with letter, range or suffix).
    street = f"split_part(CAST({expr} AS VARCHAR), ',', 1)"
    number = r"\s+\d+\s*[a-zA-Z]?(\s*[-/]\s*\d+\s*[a-zA-Z]?)?\s*$"
    return f"nullif(trim(regexp_replace({street}, {sql_string(number)}, '')), '')"


def point_to_grid(expr: str, size: int = 100) -> str:
    """INSPIRE grid cell id (EPSG:3035) of a point in EPSG:4326; needs the spatial extension."""
    if size not in GRID_SIZES:
        raise ValueError(f"grid size must be one of {GRID_SIZES}")
    point = f"ST_Transform(ST_Centroid({expr}), 'EPSG:4326', 'EPSG:3035', always_xy := true)"
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE "
        f"'CRS3035RES{size}mN' || CAST(CAST(floor(ST_Y({point}) / {size}) * {size} AS BIGINT) "
        f"AS VARCHAR) || 'E' || CAST(CAST(floor(ST_X({point}) / {size}) * {size} AS BIGINT) "
        "AS VARCHAR) END"
    )


def date_to_month(expr: str) -> str:
    """'2024-03-17' → '2024-03'."""
    return f"strftime(CAST({expr} AS DATE), '%Y-%m')"


def _num(value: float) -> str:
    return f"{value:g}"


def number_to_bands(
    expr: str, *, width: float | None = None, edges: Sequence[float] | None = None
) -> str:
    """A band label for a number: by ``width`` ('[1000, 2000)') or by sorted ``edges``."""
    value = f"CAST({expr} AS DOUBLE)"
    if width is not None:
        low = f"floor({value} / {width!r}) * {width!r}"
        cast = "BIGINT" if float(width).is_integer() else "DOUBLE"
        return (
            f"CASE WHEN {value} IS NULL THEN NULL ELSE "
            f"'[' || CAST(CAST({low} AS {cast}) AS VARCHAR) || ', ' || "
            f"CAST(CAST({low} + {width!r} AS {cast}) AS VARCHAR) || ')' END"
        )
    if not edges:
        raise ValueError("bands need a width or edges")
    bounds = sorted(float(e) for e in edges)
    cases = [f"WHEN {value} < {bounds[0]!r} THEN {sql_string('< ' + _num(bounds[0]))}"]
    for lower, upper in itertools.pairwise(bounds):
        label = f"[{_num(lower)}, {_num(upper)})"
        cases.append(f"WHEN {value} < {upper!r} THEN {sql_string(label)}")
    cases.append(f"ELSE {sql_string('>= ' + _num(bounds[-1]))}")
    return f"CASE WHEN {value} IS NULL THEN NULL {' '.join(cases)} END"
