"""The seeded synthetic demo data: deterministic, geometrically sound, plausible, private."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from datenschatz.demo import synthetic
from datenschatz.store.duck import connect

TO_UTM = "'EPSG:4326', 'EPSG:25832', always_xy := true"
M2_PER_DEG2 = 111_320.0**2 * math.cos(math.radians(51.53))  # at Herne's latitude


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, synthetic.GeneratedFile]:
    return synthetic.generate_all(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(threads=2)
    yield connection
    connection.close()


def _load(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def _table(
    con: duckdb.DuckDBPyConnection, name: str, collection: dict[str, Any], *props: str
) -> None:
    """A DuckDB table ``name`` with ``id``, the given properties and ``geom``."""
    features = collection["features"]
    columns: dict[str, list[Any]] = {"id": list(range(len(features)))}
    for prop in props:
        columns[prop] = [f["properties"][prop] for f in features]
    columns["geojson"] = [json.dumps(f["geometry"]) for f in features]
    con.register("features_arrow", pa.table(columns))
    con.execute(
        f"CREATE OR REPLACE TABLE {name} AS "
        "SELECT * EXCLUDE (geojson), ST_GeomFromGeoJSON(geojson) AS geom FROM features_arrow"
    )
    con.unregister("features_arrow")


def _districts_utm(con: duckdb.DuckDBPyConnection, generated: dict[str, Any]) -> None:
    _table(con, "districts", _load(generated["districts"].path), "bezirk_nr", "name")
    con.execute(
        f"CREATE OR REPLACE TABLE districts_utm AS "
        f"SELECT bezirk_nr, name, ST_Transform(geom, {TO_UTM}) AS geom FROM districts"
    )


def test_same_seed_gives_byte_identical_files(
    generated: dict[str, synthetic.GeneratedFile], tmp_path: Path
) -> None:
    again = synthetic.generate_all(tmp_path)
    for key, first in generated.items():
        assert again[key].path.read_bytes() == first.path.read_bytes(), key
        assert again[key].rows == first.rows


def test_other_seed_gives_other_districts(
    con: duckdb.DuckDBPyConnection, generated: dict[str, synthetic.GeneratedFile]
) -> None:
    outline = synthetic.herne_outline()
    default = synthetic.make_districts(con, outline, synthetic.SEED)
    other = synthetic.make_districts(con, outline, synthetic.SEED + 1)
    assert [d.name for d in other] == [d.name for d in default]
    assert [d.geometry for d in other] != [d.geometry for d in default]


def test_row_counts_match_the_files(generated: dict[str, synthetic.GeneratedFile]) -> None:
    for key in ("districts", "solar", "grid", "containers"):
        assert generated[key].rows == len(_load(generated[key].path)["features"]), key
    for key in ("consumption", "fill_levels"):
        lines = generated[key].path.read_text(encoding="utf-8-sig").splitlines()
        assert generated[key].rows == len(lines) - 1, key
    assert generated["districts"].rows == 4
    assert generated["solar"].rows == 3000
    assert generated["containers"].rows == 50


def test_districts_are_herne_stadtbezirke_in_wgs84(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    collection = _load(generated["districts"].path)
    assert "crs" not in collection
    names = {f["properties"]["bezirk_nr"]: f["properties"]["name"] for f in collection["features"]}
    assert names == {1: "Herne-Mitte", 2: "Wanne", 3: "Eickel", 4: "Sodingen"}
    for feature in collection["features"]:
        xmin, ymin, xmax, ymax = synthetic.bounds(synthetic.polygons_of(feature["geometry"]))
        assert 7.13 <= xmin < xmax <= 7.31
        assert 51.49 <= ymin < ymax <= 51.58
        assert 5 < feature["properties"]["flaeche_km2"] < 25


def test_districts_are_valid_disjoint_and_cover_herne(
    con: duckdb.DuckDBPyConnection, generated: dict[str, synthetic.GeneratedFile]
) -> None:
    # Measured in WGS84: reprojected, a long straight edge bends, and a vertex on it then
    # leaves a centimetre sliver against the neighbour's edge that is not in the data.
    _table(con, "districts", _load(generated["districts"].path), "bezirk_nr")
    invalid = con.execute("SELECT count(*) FROM districts WHERE NOT ST_IsValid(geom)").fetchone()
    assert invalid == (0,)
    overlap = con.execute(
        "SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom))), 0) "
        "FROM districts a JOIN districts b ON a.bezirk_nr < b.bezirk_nr"
    ).fetchone()
    assert overlap is not None
    assert overlap[0] * M2_PER_DEG2 < 0.01
    areas = con.execute(
        "SELECT (SELECT sum(ST_Area(geom)) FROM districts), ST_Area(ST_GeomFromGeoJSON(?))",
        [json.dumps(synthetic.herne_outline())],
    ).fetchone()
    assert areas is not None
    assert areas[0] == pytest.approx(areas[1], rel=1e-9)
    assert 45e6 < areas[1] * M2_PER_DEG2 < 56e6  # Herne has about 51 km²


def test_solar_cadastre_declares_utm_and_uses_metres(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    collection = _load(generated["solar"].path)
    assert collection["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::25832"
    for feature in collection["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]
        for x, y in ring:
            assert 360_000 < x < 385_000
            assert 5_700_000 < y < 5_720_000


def test_solar_buildings_lie_in_their_district_and_do_not_overlap(
    con: duckdb.DuckDBPyConnection, generated: dict[str, synthetic.GeneratedFile]
) -> None:
    _districts_utm(con, generated)
    _table(con, "buildings", _load(generated["solar"].path), "bezirk_nr")
    outside = con.execute(
        "SELECT count(*) FROM buildings b JOIN districts_utm d USING (bezirk_nr) "
        "WHERE NOT ST_Within(b.geom, d.geom) OR NOT ST_IsValid(b.geom)"
    ).fetchone()
    assert outside == (0,)
    overlapping = con.execute(
        "SELECT count(*) FROM buildings a JOIN buildings b "
        "ON ST_Intersects(a.geom, b.geom) AND a.id < b.id"
    ).fetchone()
    assert overlapping == (0,)
    per_district = dict(
        con.execute("SELECT bezirk_nr, count(*) FROM buildings GROUP BY 1").fetchall()
    )
    assert set(per_district) == {1, 2, 3, 4}
    assert min(per_district.values()) > 300


def test_solar_figures_are_physically_consistent(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    features = _load(generated["solar"].path)["features"]
    ratings: Counter[str] = Counter()
    for feature in features:
        p = feature["properties"]
        ratings[p["eignung"]] += 1
        assert p["grundflaeche_m2"] <= p["dachflaeche_m2"] + 0.1
        assert 0 <= p["eignungsflaeche_m2"] <= p["dachflaeche_m2"]
        if p["eignung"] == "nicht geeignet":
            assert p["leistung_kwp"] == 0
            assert p["jahresertrag_kwh"] == 0
            continue
        # Modules need at least 5 m² per kWp; below 550 kWh per kWp a roof counts as unsuitable.
        assert 0 < p["leistung_kwp"] <= p["eignungsflaeche_m2"] / 5.0
        assert 550 <= p["jahresertrag_kwh"] / p["leistung_kwp"] <= 1050
        if p["dachform"] == "Flachdach":
            assert p["ausrichtung"] == "Flachdach"
            assert p["dachneigung_grad"] <= 5
        else:
            assert p["ausrichtung"] in {"Süd", "Südost", "Südwest", "Ost-West"}
    assert set(ratings) == {
        "sehr gut geeignet",
        "gut geeignet",
        "bedingt geeignet",
        "nicht geeignet",
    }
    assert ratings["nicht geeignet"] < len(features) / 4


@pytest.mark.parametrize(
    ("face_azimuth", "expected"),
    [(180.0, "Süd"), (0.0, "Süd"), (135.0, "Südost"), (225.0, "Südwest"), (90.0, "Ost-West")],
)
def test_pitched_roof_orientation_names_the_face_towards_south(
    face_azimuth: float, expected: str
) -> None:
    assert synthetic._orientation(face_azimuth) == expected


def test_grid_areas_tile_each_district_without_overlap(
    con: duckdb.DuckDBPyConnection, generated: dict[str, synthetic.GeneratedFile]
) -> None:
    _table(con, "districts", _load(generated["districts"].path), "bezirk_nr")
    collection = _load(generated["grid"].path)
    _table(con, "grid", collection, "bezirk_nr", "station_id")
    invalid = con.execute("SELECT count(*) FROM grid WHERE NOT ST_IsValid(geom)").fetchone()
    assert invalid == (0,)
    overlap = con.execute(
        "SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom))), 0) FROM grid a "
        "JOIN grid b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"
    ).fetchone()
    assert overlap is not None
    assert overlap[0] * M2_PER_DEG2 < 0.01
    coverage = con.execute(
        "SELECT d.bezirk_nr, ST_Area(d.geom), sum(ST_Area(g.geom)) "
        "FROM districts d JOIN grid g USING (bezirk_nr) GROUP BY ALL"
    ).fetchall()
    assert len(coverage) == 4
    for _nr, district_area, cells_area in coverage:
        assert cells_area == pytest.approx(district_area, rel=1e-9)
    ids = [f["properties"]["station_id"] for f in collection["features"]]
    assert len(ids) == len(set(ids)) >= 40


def test_grid_capacity_is_rating_minus_load(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    for feature in _load(generated["grid"].path)["features"]:
        p = feature["properties"]
        assert p["trafo_nennleistung_kva"] in {250, 400, 630, 800, 1000}
        rated_kw = p["trafo_nennleistung_kva"] * 0.95
        assert 0 < p["spitzenlast_kw"] < rated_kw
        assert p["freie_kapazitaet_kw"] == pytest.approx(rated_kw - p["spitzenlast_kw"], abs=0.11)
        assert p["auslastung_prozent"] == pytest.approx(
            100 * p["spitzenlast_kw"] / rated_kw, abs=0.11
        )


def _consumption(generated: dict[str, synthetic.GeneratedFile]) -> list[dict[str, str]]:
    text = generated["consumption"].path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_consumption_csv_is_german_excel_style(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    raw = generated["consumption"].path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert header == ";".join(synthetic.CONSUMPTION_HEADER)
    for row in _consumption(generated):
        assert re.fullmatch(r"01\.(0[1-9]|1[0-2])\.20(22|23|24)", row["Monat"])
        assert re.fullmatch(r"\d+,\d", row["Strom [kWh]"])
        assert re.fullmatch(r"\d+,\d", row["Wasser [m³]"])
        assert re.fullmatch(r"(\d+,\d)?", row["Gas [kWh]"])


def test_consumption_covers_every_month_district_and_group(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    rows = _consumption(generated)
    keys = {(r["Monat"], r["Bezirk-Nr"], r["Kundengruppe"]) for r in rows}
    assert len(keys) == len(rows) == 36 * 4 * 2


def test_consumption_groups_never_have_fewer_than_five_households(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    counts = [int(r["Anzahl Haushalte"]) for r in _consumption(generated)]
    assert min(counts) >= synthetic.MIN_HOUSEHOLDS
    # the small heat-pump group is the one the floor is about
    assert min(counts) < 20


def test_consumption_per_household_is_plausible_and_seasonal(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    def number(text: str) -> float:
        return float(text.replace(",", "."))

    rows = [r for r in _consumption(generated) if r["Kundengruppe"] == "Haushaltskunden"]
    yearly_power: defaultdict[str, float] = defaultdict(float)
    gas_by_month: defaultdict[str, float] = defaultdict(float)
    for row in rows:
        households = int(row["Anzahl Haushalte"])
        yearly_power[row["Monat"][-4:] + row["Bezirk-Nr"]] += (
            number(row["Strom [kWh]"]) / households
        )
        gas_by_month[row["Monat"][3:5]] += number(row["Gas [kWh]"])
        assert 2.5 < number(row["Wasser [m³]"]) / households < 5.0
    assert all(2_000 < kwh < 2_900 for kwh in yearly_power.values())
    assert gas_by_month["01"] > 5 * gas_by_month["07"]


def _fill_levels(generated: dict[str, synthetic.GeneratedFile]) -> list[dict[str, str]]:
    with generated["fill_levels"].path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_fill_levels_carry_offsets_across_the_dst_change(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    rows = _fill_levels(generated)
    offsets = Counter(r["zeitpunkt"][-6:] for r in rows)
    assert set(offsets) == {"+02:00", "+01:00"}
    by_container: dict[str, list[datetime]] = {}
    for row in rows:
        by_container.setdefault(row["behaelter_id"], []).append(
            datetime.fromisoformat(row["zeitpunkt"])
        )
    assert len(by_container) == 50
    for times in by_container.values():
        steps = {b - a for a, b in itertools.pairwise(times)}
        # strictly increasing in real time, hourly apart from the odd missing reading
        assert min(steps) == timedelta(hours=1)
        assert max(steps) <= timedelta(hours=6)
    # the repeated local hour 02:00 on 27 October exists twice, once per offset
    repeated = {r["zeitpunkt"] for r in rows if r["zeitpunkt"].startswith("2024-10-27T02:00")}
    assert repeated == {"2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00"}


def test_fill_levels_stay_between_empty_and_full_and_get_emptied(
    generated: dict[str, synthetic.GeneratedFile],
) -> None:
    rows = _fill_levels(generated)
    levels = [float(r["fuellstand_prozent"]) for r in rows]
    assert min(levels) >= 0.0
    assert max(levels) <= 100.0
    assert len(rows) > 0.97 * 50 * 505  # about 1 % missing
    first_container = [
        float(r["fuellstand_prozent"]) for r in rows if r["behaelter_id"] == "AB-001"
    ]
    drops = sum(1 for a, b in itertools.pairwise(first_container) if b < a - 10)
    assert drops >= 3  # emptied once a week over three weeks
