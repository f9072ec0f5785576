"""CRS parsing and classification for geodata ingest."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from datenschatz.errors import IngestError
from datenschatz.ingest import crs
from datenschatz.store.duck import connect


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect()
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("EPSG:25832", "EPSG:25832"),
        ("epsg:4326", "EPSG:4326"),
        (" EPSG:3857 ", "EPSG:3857"),
        ("urn:ogc:def:crs:EPSG::31467", "EPSG:31467"),
        ("urn:ogc:def:crs:EPSG:9.8.15:4647", "EPSG:4647"),
    ],
)
def test_option_accepts_epsg_forms(given: str, expected: str) -> None:
    assert crs.parse_option(given).label == expected
    assert crs.parse_option(given).definition == expected


@pytest.mark.parametrize("given", ["25832", "EPSG:", "EPSG:abc", "WGS84", "+proj=utm +zone=32", ""])
def test_option_in_another_form_is_refused_naming_the_parameter(given: str) -> None:
    with pytest.raises(IngestError) as err:
        crs.parse_option(given)
    assert err.value.details == {"parameter": "crs"}
    assert "EPSG:25832" in err.value.message


@pytest.mark.parametrize(
    ("code", "geographic"),
    [
        ("EPSG:4326", True),
        ("EPSG:4258", True),
        ("EPSG:25832", False),
        ("EPSG:25833", False),
        ("EPSG:4647", False),
        ("EPSG:31466", False),
        ("EPSG:31467", False),
        ("EPSG:3857", False),
    ],
)
def test_known_codes_are_told_geographic_or_projected(
    con: duckdb.DuckDBPyConnection, code: str, geographic: bool
) -> None:
    assert crs.is_geographic(con, crs.of_code(code), file="f", from_option=True) is geographic


def test_unknown_code_given_as_option_is_refused_naming_the_parameter(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(IngestError) as err:
        crs.is_geographic(con, crs.parse_option("EPSG:99999"), file="f.geojson", from_option=True)
    assert err.value.details == {"parameter": "crs"}
    assert "EPSG:99999" in err.value.message


def test_unknown_code_found_in_the_file_is_refused_naming_the_file(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(IngestError) as err:
        crs.is_geographic(con, crs.of_code("EPSG:99999"), file="f.geojson", from_option=False)
    assert err.value.details == {"file": "f.geojson"}
    assert "--crs" in err.value.message


def test_projjson_with_id_becomes_its_code() -> None:
    found = crs.from_projjson({"type": "ProjectedCRS", "id": {"authority": "EPSG", "code": 25832}})
    assert found == crs.of_code("EPSG:25832")


def test_projjson_without_id_keeps_its_definition_and_name() -> None:
    found = crs.from_projjson({"type": "ProjectedCRS", "name": "Local grid"})
    assert found is not None
    assert found.label == "Local grid"
    assert '"Local grid"' in found.definition


def test_gdal_crs_without_authority_falls_back_to_wkt() -> None:
    wkt = 'PROJCS["My_Local_TM",GEOGCS["GCS_ETRS_1989"]]'
    found = crs.from_gdal({"auth_name": "", "auth_code": "", "name": "My_Local_TM", "wkt": wkt})
    assert found == crs.Crs("My_Local_TM", wkt)
    assert crs.from_gdal({"auth_name": "EPSG", "auth_code": "31467"}) == crs.of_code("EPSG:31467")
    assert crs.from_gdal(None) is None


def test_typed_geometry_column_names_its_crs() -> None:
    assert crs.from_geometry_type("GEOMETRY('EPSG:25833')") == crs.of_code("EPSG:25833")
    assert crs.from_geometry_type("GEOMETRY('OGC:CRS84')") == crs.of_code("OGC:CRS84")
    assert crs.from_geometry_type("GEOMETRY") is None


def test_wgs84_variants_need_no_transformation() -> None:
    for code in ("EPSG:4326", "OGC:CRS84", "EPSG:4979"):
        assert crs.of_code(code).is_wgs84_lonlat
    assert not crs.of_code("EPSG:4258").is_wgs84_lonlat
    assert crs.of_code("OGC:CRS84").same_as(crs.of_code("EPSG:4326"))
    assert not crs.of_code("EPSG:25832").same_as(crs.of_code("EPSG:25833"))
