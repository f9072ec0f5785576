"""Geodata readers: GeoJSON, zipped Shapefile, GeoPackage, (Geo)Parquet → EPSG:4326."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datenschatz.errors import IngestError, TooLarge
from datenschatz.ingest import geo
from datenschatz.ingest.geometry import PROJECTED_HINT
from datenschatz.ingest.model import IngestOptions, Staged
from datenschatz.store.duck import connect, sql_string
from datenschatz.store.versions import VersionStore

Reader = Callable[[duckdb.DuckDBPyConnection, Path, IngestOptions], Staged]

HERNE = (7.2197, 51.5389)  # Herne city hall, lon/lat
TOLERANCE = 1e-5
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SQUARE = [[[7.0, 51.0], [7.1, 51.0], [7.1, 51.1], [7.0, 51.1], [7.0, 51.0]]]
BOWTIE = [[[7.0, 51.0], [7.1, 51.1], [7.1, 51.0], [7.0, 51.1], [7.0, 51.0]]]


@pytest.fixture(scope="module")
def duck_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("duck")


@pytest.fixture(scope="module")
def con(duck_tmp: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One connection for the module (loading spatial is the slow part); readers name their
    temporary tables uniquely, so tests do not see each other's tables."""
    connection = connect(temp_dir=duck_tmp)
    yield connection
    connection.close()


def project(con: duckdb.DuckDBPyConnection, code: str, lon: float, lat: float) -> list[float]:
    row = con.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Point(?, ?), 'EPSG:4326', ?, "
        "always_xy := true) AS p)",
        [lon, lat, code],
    ).fetchone()
    assert row is not None
    return [float(row[0]), float(row[1])]


def feature(geometry: dict[str, Any] | None, /, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def point(*coordinates: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(coordinates)}


def polygon(rings: list[list[list[float]]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": rings}


def write_geojson(path: Path, features: list[dict[str, Any]], crs_name: str | None = None) -> Path:
    document: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs_name is not None:
        document["crs"] = {"type": "name", "properties": {"name": crs_name}}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def coordinates(con: duckdb.DuckDBPyConnection, staged: Staged) -> list[tuple[float, float]]:
    return [
        (float(r[0]), float(r[1]))
        for r in con.execute(
            f"SELECT ST_X(geometry), ST_Y(geometry) FROM ({staged.select_sql})"
        ).fetchall()
    ]


def assert_herne(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    [(lon, lat)] = coordinates(con, staged)
    assert lon == pytest.approx(HERNE[0], abs=TOLERANCE)
    assert lat == pytest.approx(HERNE[1], abs=TOLERANCE)


def output_types(con: duckdb.DuckDBPyConnection, staged: Staged) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {staged.select_sql}").fetchall()}


def shapefile_zip(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    select_sql: str,
    srs: str | None,
    names: tuple[str, ...] = ("parking",),
    leave_out: str | None = None,
) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    srs_option = f", SRS {sql_string(srs)}" if srs else ""
    for name in names:
        target = sql_string(str(folder / f"{name}.shp"))
        con.execute(
            f"COPY ({select_sql}) TO {target} (FORMAT GDAL, DRIVER 'ESRI Shapefile'{srs_option})"
        )
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            if leave_out is None or part.suffix != leave_out:
                zf.write(part, f"data/{part.name}")
    return archive


def write_gpkg(
    con: duckdb.DuckDBPyConnection, path: Path, select_sql: str, srs: str, layer: str
) -> Path:
    con.execute(
        f"COPY ({select_sql}) TO {sql_string(str(path))} "
        f"(FORMAT GDAL, DRIVER 'GPKG', SRS {sql_string(srs)}, LAYER_NAME {sql_string(layer)})"
    )
    return path


def add_gpkg_layer(target: Path, other: Path, layer: str) -> None:
    """Copy ``layer`` of the GeoPackage ``other`` into ``target`` (same SRS in both)."""
    db = sqlite3.connect(target)
    try:
        db.execute("ATTACH DATABASE ? AS other", (str(other),))
        (ddl,) = db.execute(
            "SELECT sql FROM other.sqlite_master WHERE type = 'table' AND name = ?", (layer,)
        ).fetchone()
        db.execute(ddl)
        db.execute(f'INSERT INTO "{layer}" SELECT * FROM other."{layer}"')
        for table in ("gpkg_contents", "gpkg_geometry_columns"):
            db.execute(
                f"INSERT INTO {table} SELECT * FROM other.{table} WHERE table_name = ?", (layer,)
            )
        db.commit()
    finally:
        db.close()


def write_geoparquet(path: Path, columns: dict[str, list[Any]], geo: dict[str, Any] | None) -> Path:
    table = pa.table(columns)
    if geo is not None:
        table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path)
    return path


_ABSENT: Any = object()


def wkb_column(crs: Any = _ABSENT) -> dict[str, Any]:
    """GeoParquet column metadata; without ``crs`` the key is left out (meaning OGC:CRS84)."""
    column: dict[str, Any] = {"encoding": "WKB", "geometry_types": []}
    if crs is not _ABSENT:
        column["crs"] = crs
    return column


def geo_metadata(
    primary: str, columns: dict[str, dict[str, Any]], version: str = "1.1.0"
) -> dict[str, Any]:
    return {"version": version, "primary_column": primary, "columns": columns}


def wkb(con: duckdb.DuckDBPyConnection, wkt: str) -> bytes:
    row = con.execute("SELECT ST_AsWKB(ST_GeomFromText(?))", [wkt]).fetchone()
    assert row is not None
    return bytes(row[0])


def ingest(reader: Reader, con: duckdb.DuckDBPyConnection, path: Path, **options: Any) -> Staged:
    return reader(con, path, IngestOptions(**options))


def refused(
    reader: Reader, con: duckdb.DuckDBPyConnection, path: Path, **options: Any
) -> IngestError:
    with pytest.raises(IngestError) as err:
        reader(con, path, IngestOptions(**options))
    assert str(path.parent) not in str(err.value.to_dict())  # never a full path
    return err.value


# --- GeoJSON --------------------------------------------------------------------------------


def test_geojson_is_written_as_geoparquet_in_epsg4326(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "parks.geojson",
        [feature(point(*HERNE), name="Rathaus", places=120), feature(point(7.2, 51.5), name="B")],
    )
    staged = ingest(geo.read_geojson, con, path)
    assert staged.geometry_column == "geometry"
    assert staged.format == "geojson"
    assert staged.source_crs == "EPSG:4326"
    assert output_types(con, staged) == {
        "name": "VARCHAR",
        "places": "INTEGER",
        "geometry": "GEOMETRY('EPSG:4326')",
    }
    store = VersionStore(tmp_path / "versions", tmp_path / "versions-tmp")
    stored = store.write(con, staged.select_sql, prefix="parks")
    metadata = pq.read_metadata(store.path(stored.relpath)).metadata
    column = json.loads(metadata[b"geo"])["columns"]["geometry"]
    assert column["crs"]["id"] == {"authority": "EPSG", "code": 4326}
    assert column["geometry_types"] == ["Point"]
    assert stored.row_count == 2


def test_details_record_layer_count_crs_and_geometry_types(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [feature(point(*HERNE)), feature(polygon(SQUARE)), feature(None)],
    )
    staged = ingest(geo.read_geojson, con, path)
    assert staged.details["layer"] == "mixed"
    assert staged.details["feature_count"] == 3
    assert staged.details["source_crs"] == "EPSG:4326"
    assert staged.details["geometry_types"] == ["POINT", "POLYGON"]
    assert staged.details["features_without_geometry"] == 1


@pytest.mark.parametrize(
    "crs_name", ["urn:ogc:def:crs:EPSG::25832", "EPSG:25832"], ids=["urn", "short"]
)
def test_legacy_crs_member_is_honoured(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, crs_name: str
) -> None:
    xy = project(con, "EPSG:25832", *HERNE)
    path = write_geojson(tmp_path / "utm.geojson", [feature(point(*xy), name="Rathaus")], crs_name)
    staged = ingest(geo.read_geojson, con, path)
    assert staged.source_crs == "EPSG:25832"
    assert staged.details["crs_from"] == "file"
    assert_herne(con, staged)


@pytest.mark.parametrize(
    "code",
    ["EPSG:25832", "EPSG:25833", "EPSG:4647", "EPSG:31466", "EPSG:31467", "EPSG:3857", "EPSG:4326"],
)
@pytest.mark.parametrize("declared_by", ["crs_member", "option"])
def test_herne_city_hall_round_trips_from_each_supported_crs(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, code: str, declared_by: str
) -> None:
    xy = project(con, code, *HERNE)
    if code != "EPSG:4326":
        assert abs(xy[0]) > 180 or abs(xy[1]) > 90  # really projected
    member = f"urn:ogc:def:crs:EPSG::{code.split(':')[1]}" if declared_by == "crs_member" else None
    path = write_geojson(tmp_path / "herne.geojson", [feature(point(*xy))], member)
    options = {"crs": code} if declared_by == "option" else {}
    staged = ingest(geo.read_geojson, con, path, **options)
    assert staged.source_crs == code
    assert_herne(con, staged)


def test_crs_option_overrides_the_file_and_says_so(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    xy = project(con, "EPSG:25832", *HERNE)
    path = write_geojson(tmp_path / "wrong.geojson", [feature(point(*xy))], "EPSG:31467")
    staged = ingest(geo.read_geojson, con, path, crs="EPSG:25832")
    assert staged.source_crs == "EPSG:25832"
    assert staged.details["crs_from"] == "option"
    assert any("EPSG:31467" in w and "EPSG:25832" in w for w in staged.warnings)
    assert_herne(con, staged)


def test_projected_coordinates_without_crs_are_refused_with_a_hint(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    xy = project(con, "EPSG:25832", *HERNE)
    path = write_geojson(tmp_path / "nocrs.geojson", [feature(point(*xy))])
    err = refused(geo.read_geojson, con, path)
    assert PROJECTED_HINT in err.message
    assert err.details["file"] == "nocrs.geojson"


def test_single_stray_projected_feature_is_named(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    xy = project(con, "EPSG:25832", *HERNE)
    features = [feature(point(*HERNE)), feature(point(7.0, 51.0)), feature(point(*xy))]
    err = refused(geo.read_geojson, con, write_geojson(tmp_path / "stray.geojson", features))
    assert err.details["feature"] == 2
    assert "1 of 3 features: 2" in err.message


def test_lonlat_coordinates_under_a_projected_crs_are_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path / "lonlat.geojson", [feature(point(*HERNE))])
    err = refused(geo.read_geojson, con, path, crs="EPSG:25832")
    assert "--crs EPSG:4326" in err.message


def test_unknown_epsg_code_is_refused_naming_the_crs_parameter(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path / "a.geojson", [feature(point(*HERNE))])
    err = refused(geo.read_geojson, con, path, crs="EPSG:99999")
    assert err.details == {"parameter": "crs"}


def test_malformed_crs_option_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "a.geojson", [feature(point(*HERNE))])
    err = refused(geo.read_geojson, con, path, crs="25832")
    assert err.details == {"parameter": "crs"}


def test_z_values_are_kept(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    xy = project(con, "EPSG:25832", *HERNE)
    path = write_geojson(tmp_path / "z.geojson", [feature(point(*xy, 61.5))], "EPSG:25832")
    staged = ingest(geo.read_geojson, con, path)
    assert staged.details["has_z"] is True
    row = con.execute(
        f"SELECT ST_Z(geometry), ST_X(geometry) FROM ({staged.select_sql})"
    ).fetchone()
    assert row is not None
    assert row[0] == pytest.approx(61.5, abs=1e-6)
    assert row[1] == pytest.approx(HERNE[0], abs=TOLERANCE)


def test_4d_coordinates_do_not_fail_and_keep_z(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path / "zm.geojson", [feature(point(*HERNE, 61.5, 3.0))])
    staged = ingest(geo.read_geojson, con, path)
    row = con.execute(
        f"SELECT ST_Z(geometry), ST_HasM(geometry) FROM ({staged.select_sql})"
    ).fetchone()
    assert row == (pytest.approx(61.5), False)  # GDAL's GeoJSON driver drops M


def test_self_intersecting_polygon_is_refused_with_its_feature_index(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    features = [feature(polygon(SQUARE)), feature(polygon(BOWTIE)), feature(polygon(SQUARE))]
    err = refused(geo.read_geojson, con, write_geojson(tmp_path / "bow.geojson", features))
    assert err.details["feature"] == 1
    assert "1 of 3 features have an invalid geometry" in err.message
    assert "--make-valid" in err.message


def test_many_invalid_features_are_counted_and_the_first_named(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    features = [feature(polygon(SQUARE))] + [feature(polygon(BOWTIE)) for _ in range(7)]
    features.append(feature(polygon(SQUARE)))
    err = refused(geo.read_geojson, con, write_geojson(tmp_path / "bows.geojson", features))
    assert "7 of 9 features" in err.message
    assert "features 1, 2, 3, 4, 5 and 2 more" in err.message
    assert err.details["features"] == [1, 2, 3, 4, 5]
    assert err.details["count"] == 7


def test_make_valid_repairs_invalid_polygons_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    features = [feature(polygon(SQUARE), n=0), feature(polygon(BOWTIE), n=1)]
    path = write_geojson(tmp_path / "bow.geojson", features)
    staged = ingest(geo.read_geojson, con, path, make_valid=True)
    assert staged.details["repaired_geometries"] == 1
    assert any("1 invalid geometry was repaired" in w for w in staged.warnings)
    rows = con.execute(
        f"SELECT n, ST_IsValid(geometry), ST_GeometryType(geometry)::VARCHAR "
        f"FROM ({staged.select_sql})"
    ).fetchall()
    assert rows == [(0, True, "POLYGON"), (1, True, "MULTIPOLYGON")]


@pytest.mark.parametrize("make_valid", [False, True])
def test_unclosed_ring_is_refused_naming_the_feature(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, make_valid: bool
) -> None:
    unclosed = [[[7.0, 51.0], [7.1, 51.0], [7.1, 51.1], [7.0, 51.05]]]
    features = [feature(polygon(SQUARE)), feature(polygon(SQUARE)), feature(polygon(unclosed))]
    path = write_geojson(tmp_path / "open.geojson", features)
    err = refused(geo.read_geojson, con, path, make_valid=make_valid)
    assert err.details["feature"] == 2
    assert "not closed" in err.message


def test_polygon_with_two_coordinates_is_refused_naming_the_feature(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    features = [feature(polygon([[[7.0, 51.0], [7.1, 51.0]]])), feature(polygon(SQUARE))]
    path = write_geojson(tmp_path / "two.geojson", features)
    err = refused(geo.read_geojson, con, path, make_valid=True)
    assert err.details["feature"] == 0
    assert "broken beyond repair" in err.message


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "Point", "coordinates": ["a", "b"]},
        {"type": "Polygon", "coordinates": "nonsense"},
        {"type": "Blob", "coordinates": [7, 51]},
    ],
    ids=["text-coordinates", "string-coordinates", "unknown-type"],
)
def test_unparseable_geometry_is_refused_naming_the_feature(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, broken: dict[str, Any]
) -> None:
    features = [feature(point(*HERNE)), feature(None), feature(broken), feature(point(*HERNE))]
    err = refused(geo.read_geojson, con, write_geojson(tmp_path / "bad.geojson", features))
    assert err.details["feature"] == 2  # the null geometry of feature 1 is fine
    assert "cannot be read" in err.message


def test_null_geometry_is_kept_as_null(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    features = [feature(point(*HERNE), n=0), feature(None, n=1)]
    staged = ingest(geo.read_geojson, con, write_geojson(tmp_path / "null.geojson", features))
    rows = con.execute(f"SELECT n, geometry IS NULL FROM ({staged.select_sql})").fetchall()
    assert rows == [(0, False), (1, True)]


def test_json_syntax_error_names_the_line(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [\n'
        '{"type": "Feature", "properties": {}, "geometry": null},\n'
        '{"type": }\n]}',
        encoding="utf-8",
    )
    err = refused(geo.read_geojson, con, path)
    assert err.details["line"] == 3
    assert "not valid JSON" in err.message


def test_properties_named_geometry_and_geom_are_kept(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, duck_tmp: Path
) -> None:
    features = [feature(point(*HERNE), geometry="Punkt", geom=7)]
    staged = ingest(geo.read_geojson, con, write_geojson(tmp_path / "names.geojson", features))
    assert output_types(con, staged) == {
        "geometry_attribute": "VARCHAR",
        "geom": "INTEGER",
        "geometry": "GEOMETRY('EPSG:4326')",
    }
    assert staged.notes["geometry_attribute"].source_name == "geometry"
    row = con.execute(f"SELECT geometry_attribute, geom FROM ({staged.select_sql})").fetchone()
    assert row == ("Punkt", 7)
    assert list(duck_tmp.glob("*.vrt")) == []  # the helper VRT is gone


def test_numeric_feature_ids_are_kept_as_id_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    features = [dict(feature(point(*HERNE), n=i), id=100 + i) for i in range(2)]
    staged = ingest(geo.read_geojson, con, write_geojson(tmp_path / "ids.geojson", features))
    rows = con.execute(f"SELECT id, n FROM ({staged.select_sql})").fetchall()
    assert rows == [(100, 0), (101, 1)]


# --- Shapefile --------------------------------------------------------------------------------


def _herne_sql(con: duckdb.DuckDBPyConnection, code: str) -> str:
    x, y = project(con, code, *HERNE)
    return f"SELECT 'Rathaus' AS name, 120 AS places, ST_Point({x}, {y}) AS geom"


def test_zipped_shapefile_takes_its_crs_from_the_prj(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, duck_tmp: Path
) -> None:
    archive = shapefile_zip(con, tmp_path, _herne_sql(con, "EPSG:25832"), "EPSG:25832")
    staged = ingest(geo.read_shapefile_zip, con, archive)
    assert staged.format == "shapefile"
    assert staged.source_crs == "EPSG:25832"
    assert staged.details["member"] == "data/parking.shp"
    assert output_types(con, staged) == {
        "name": "VARCHAR",
        "places": "INTEGER",
        "geometry": "GEOMETRY('EPSG:4326')",
    }
    assert_herne(con, staged)
    assert list(duck_tmp.glob("datenschatz-*")) == []  # the extracted parts are gone


def test_shapefile_without_prj_and_projected_coordinates_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    archive = shapefile_zip(con, tmp_path, _herne_sql(con, "EPSG:25832"), None)
    err = refused(geo.read_shapefile_zip, con, archive)
    assert PROJECTED_HINT in err.message
    assert err.details["file"] == "upload.zip"


def test_shapefile_without_prj_is_read_with_crs_option(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    archive = shapefile_zip(con, tmp_path, _herne_sql(con, "EPSG:31467"), None)
    staged = ingest(geo.read_shapefile_zip, con, archive, crs="EPSG:31467")
    assert staged.source_crs == "EPSG:31467"
    assert_herne(con, staged)


def test_shapefile_without_prj_in_lonlat_is_assumed_wgs84_with_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    archive = shapefile_zip(con, tmp_path, _herne_sql(con, "EPSG:4326"), None)
    staged = ingest(geo.read_shapefile_zip, con, archive)
    assert staged.source_crs == "EPSG:4326"
    assert staged.details["crs_from"] == "assumed"
    assert any("declares no coordinate reference system" in w for w in staged.warnings)
    assert_herne(con, staged)


def test_second_shapefile_in_archive_is_named_in_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    archive = shapefile_zip(
        con, tmp_path, _herne_sql(con, "EPSG:25832"), "EPSG:25832", names=("a", "b")
    )
    staged = ingest(geo.read_shapefile_zip, con, archive)
    assert staged.details["member"] == "data/a.shp"
    assert any("data/b.shp" in w for w in staged.warnings)


def test_shapefile_without_dbf_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    archive = shapefile_zip(
        con, tmp_path, _herne_sql(con, "EPSG:25832"), "EPSG:25832", leave_out=".dbf"
    )
    err = refused(geo.read_shapefile_zip, con, archive)
    assert ".dbf" in err.message


def test_zip_bomb_instead_of_shapefile_is_refused_and_leaves_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, duck_tmp: Path
) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("roads.shp", bytes(20 * 1000 * 1000))
    with pytest.raises(TooLarge) as err:
        geo.read_shapefile_zip(con, archive, IngestOptions(max_unpacked_bytes=5 * 1000 * 1000))
    assert err.value.details == {"file": "bomb.zip", "member": "roads.shp"}
    assert [p for p in duck_tmp.rglob("*") if p.name.startswith("datenschatz-")] == []


# --- GeoPackage -----------------------------------------------------------------------------


def test_geopackage_takes_its_crs_from_the_metadata(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_gpkg(con, tmp_path / "a.gpkg", _herne_sql(con, "EPSG:25833"), "EPSG:25833", "hall")
    staged = ingest(geo.read_gpkg, con, path)
    assert staged.format == "gpkg"
    assert staged.source_crs == "EPSG:25833"
    assert staged.details["layer"] == "hall"
    assert_herne(con, staged)


def test_geopackage_with_several_layers_reads_the_first_and_names_the_others(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sql = _herne_sql(con, "EPSG:25832")
    first = write_gpkg(con, tmp_path / "multi.gpkg", sql, "EPSG:25832", "rathaus")
    other = write_gpkg(
        con, tmp_path / "other.gpkg", sql.replace("'Rathaus'", "'Other'"), "EPSG:25832", "andere"
    )
    add_gpkg_layer(first, other, "andere")
    staged = ingest(geo.read_gpkg, con, first)
    assert staged.details["layer"] == "rathaus"
    assert any("'andere'" in w and "2 layers" in w for w in staged.warnings)
    assert con.execute(f"SELECT name FROM ({staged.select_sql})").fetchall() == [("Rathaus",)]


def test_geopackage_with_only_an_attribute_table_is_read_as_plain_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_gpkg(con, tmp_path / "t.gpkg", _herne_sql(con, "EPSG:25832"), "EPSG:25832", "x")
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE notes (fid INTEGER PRIMARY KEY, txt TEXT, n INTEGER)")
        db.execute("INSERT INTO notes (txt, n) VALUES ('a', 1), ('b', 2)")
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('notes', 'attributes', 'notes')"
        )
        for table in ("gpkg_geometry_columns", "gpkg_contents"):
            db.execute(f"DELETE FROM {table} WHERE table_name = 'x'")
        db.commit()
    finally:
        db.close()
    staged = ingest(geo.read_gpkg, con, path)
    assert staged.geometry_column is None
    assert staged.details["layer"] == "notes"
    assert any("no geometry" in w for w in staged.warnings)
    assert con.execute(f"SELECT txt, n FROM ({staged.select_sql})").fetchall() == [
        ("a", 1),
        ("b", 2),
    ]


def test_file_that_is_not_a_geopackage_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "fake.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + bytes(200))
    err = refused(geo.read_gpkg, con, path)
    assert "GeoPackage" in err.message


# --- Parquet / GeoParquet ------------------------------------------------------------------


def test_plain_parquet_passes_through_with_its_types(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "plain.parquet"
    con.execute(
        f"COPY (SELECT 1::INTEGER AS n, DATE '2024-05-01' AS day, 1.5::DECIMAL(6,2) AS v, "
        f"ST_AsWKB(ST_Point(7, 51)) AS geometry) TO {sql_string(str(path))} (FORMAT parquet)"
    )
    staged = ingest(geo.read_parquet, con, path)
    assert staged.format == "parquet"
    assert staged.geometry_column is None
    assert staged.source_crs is None
    assert output_types(con, staged) == {
        "n": "INTEGER",
        "day": "DATE",
        "v": "DECIMAL(6,2)",
        "geometry": "BLOB",  # WKB without metadata is not guessed
    }


def test_geoparquet_takes_its_crs_from_the_geo_metadata(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    x, y = project(con, "EPSG:25832", *HERNE)
    projjson = {"type": "ProjectedCRS", "id": {"authority": "EPSG", "code": 25832}}
    geo_meta = geo_metadata("geom", {"geom": wkb_column(crs=projjson)})
    path = write_geoparquet(
        tmp_path / "utm.parquet",
        {"name": ["Rathaus"], "geom": [wkb(con, f"POINT ({x} {y})")]},
        geo_meta,
    )
    staged = ingest(geo.read_parquet, con, path)
    assert staged.format == "geoparquet"
    assert staged.source_crs == "EPSG:25832"
    assert staged.details["source_geometry_column"] == "geom"
    assert output_types(con, staged) == {"name": "VARCHAR", "geometry": "GEOMETRY('EPSG:4326')"}
    assert_herne(con, staged)


def test_geoparquet_written_by_duckdb_round_trips(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    x, y = project(con, "EPSG:3857", *HERNE)
    path = tmp_path / "web.parquet"
    con.execute(
        f"COPY (SELECT 'Rathaus' AS name, ST_SetCRS(ST_Point({x}, {y}), 'EPSG:3857') AS geometry) "
        f"TO {sql_string(str(path))} (FORMAT parquet)"
    )
    staged = ingest(geo.read_parquet, con, path)
    assert staged.source_crs == "EPSG:3857"
    assert_herne(con, staged)


def test_geoparquet_without_crs_means_crs84(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    geo_meta = geo_metadata("geometry", {"geometry": wkb_column()}, version="1.0.0")
    path = write_geoparquet(
        tmp_path / "crs84.parquet",
        {"geometry": [wkb(con, f"POINT ({HERNE[0]} {HERNE[1]})")]},
        geo_meta,
    )
    staged = ingest(geo.read_parquet, con, path)
    assert staged.source_crs == "OGC:CRS84"
    assert_herne(con, staged)


@pytest.mark.parametrize("crs_entry", ["absent", "null"])
def test_geoparquet_with_projected_coordinates_but_no_crs_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, crs_entry: str
) -> None:
    x, y = project(con, "EPSG:25832", *HERNE)
    column = wkb_column(crs=None) if crs_entry == "null" else wkb_column()
    geo_meta = geo_metadata("geometry", {"geometry": column})
    path = write_geoparquet(
        tmp_path / "p.parquet", {"geometry": [wkb(con, f"POINT ({x} {y})")]}, geo_meta
    )
    err = refused(geo.read_parquet, con, path)
    assert PROJECTED_HINT in err.message
    staged = ingest(geo.read_parquet, con, path, crs="EPSG:25832")
    assert_herne(con, staged)


def test_geoparquet_damaged_wkb_is_refused_naming_the_feature(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    good = wkb(con, "POINT (7 51)")
    geo_meta = geo_metadata("geometry", {"geometry": wkb_column()})
    path = write_geoparquet(
        tmp_path / "bad.parquet", {"geometry": [good, None, good, b"\x01\x01garbage"]}, geo_meta
    )
    err = refused(geo.read_parquet, con, path)
    assert err.details["feature"] == 3
    assert "not valid WKB" in err.message


def test_geoparquet_m_values_are_dropped_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    geo_meta = geo_metadata("geometry", {"geometry": wkb_column()})
    values = [wkb(con, "POINT ZM (7 51 60 3)"), wkb(con, "POINT M (7 51 3)")]
    path = write_geoparquet(tmp_path / "m.parquet", {"geometry": values}, geo_meta)
    staged = ingest(geo.read_parquet, con, path)
    assert staged.details["m_values_dropped"] == 2
    assert any("M values of 2" in w for w in staged.warnings)
    rows = con.execute(f"SELECT ST_AsText(geometry) FROM ({staged.select_sql})").fetchall()
    assert rows == [("POINT Z (7 51 60)",), ("POINT (7 51)",)]
    store = VersionStore(tmp_path / "versions", tmp_path / "versions-tmp")
    stored = store.write(con, staged.select_sql, prefix="m")
    assert b"geo" in (pq.read_metadata(store.path(stored.relpath)).metadata or {})


def test_second_geometry_column_is_kept_as_wkt(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    geo_meta = geo_metadata("site", {"site": wkb_column(), "entrance": wkb_column()})
    point_wkb = wkb(con, "POINT (7 51)")
    path = write_geoparquet(
        tmp_path / "two.parquet", {"site": [point_wkb], "entrance": [point_wkb]}, geo_meta
    )
    staged = ingest(geo.read_parquet, con, path)
    assert output_types(con, staged) == {"entrance": "VARCHAR", "geometry": "GEOMETRY('EPSG:4326')"}
    assert any("entrance" in w for w in staged.warnings)


# --- real open data -----------------------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"shared demo data not found at {SHARED_DATA}"
)


@needs_shared
def test_dortmund_car_parks_are_read_as_twenty_points(
    con: duckdb.DuckDBPyConnection,
) -> None:
    staged = ingest(geo.read_geojson, con, SHARED_DATA / "dortmund-parking" / "Dortmund.geojson")
    assert staged.details["feature_count"] == 20
    assert staged.details["geometry_types"] == ["POINT"]
    assert staged.warnings == []
    types = output_types(con, staged)
    assert types["total"] == "INTEGER"
    assert types["geometry"] == "GEOMETRY('EPSG:4326')"
    for lon, lat in coordinates(con, staged):
        assert 7.4 < lon < 7.5
        assert 51.49 < lat < 51.53


@needs_shared
def test_german_districts_are_all_valid_and_herne_contains_its_city_hall(
    con: duckdb.DuckDBPyConnection,
) -> None:
    path = SHARED_DATA / "geo-germany-kreise" / "3_mittel.geo.json"
    staged = ingest(geo.read_geojson, con, path)
    assert staged.details["feature_count"] == 434
    assert staged.details["geometry_types"] == ["MULTIPOLYGON", "POLYGON"]
    assert "repaired_geometries" not in staged.details
    assert staged.warnings == []
    row = con.execute(
        f"SELECT list(NAME_3) FROM ({staged.select_sql}) "
        f"WHERE ST_Contains(geometry, ST_Point({HERNE[0]}, {HERNE[1]}))"
    ).fetchone()
    assert row is not None
    assert [name.startswith("Herne") for name in row[0]] == [True]
