from __future__ import annotations

import pytest
from sqlalchemy import select

from datenschatz.catalog.datasets import get_dataset, list_versions
from datenschatz.db.models import AccessLevel, DatasetStatus, Organization, Version
from datenschatz.errors import DatenschatzError, IngestError, InputError
from datenschatz.hub import Hub
from tests.helpers import add_version


def test_first_version_creates_a_draft_internal_dataset(hub: Hub) -> None:
    info = add_version(hub, "luft", "SELECT range AS id, range * 1.5 AS pm10 FROM range(10)")
    assert (info.dataset, info.number, info.rows) == ("luft", 1, 10)
    with hub.session() as session:
        dataset = get_dataset(session, "luft")
        assert dataset.status is DatasetStatus.DRAFT
        assert dataset.access_level is AccessLevel.INTERNAL
        assert dataset.published_version_id is None
        assert session.scalar(select(Organization.slug)) == "stadt"


def test_versions_are_numbered_and_never_overwritten(hub: Hub) -> None:
    first = add_version(hub, "luft", "SELECT 1 AS a")
    second = add_version(hub, "luft", "SELECT 2 AS a, 'x' AS b")
    with hub.session() as session:
        versions = list_versions(session, "luft")
        paths = session.scalars(select(Version.path).order_by(Version.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert len(set(paths)) == 2
    assert first.sha256 != second.sha256
    assert [f["name"] for f in versions[1].table_schema["fields"]] == ["a", "b"]
    assert all(hub.store.path(p).is_file() for p in paths)


def test_schema_and_quality_report_describe_the_content(hub: Hub) -> None:
    info = add_version(
        hub,
        "verbrauch",
        "SELECT range AS id, CASE WHEN range % 4 = 0 THEN NULL ELSE range * 2.5 END::DOUBLE "
        "AS \"Leistung [kW]\", DATE '2024-01-01' + range::INT AS tag FROM range(8)",
    )
    fields = {f["name"]: f for f in info.table_schema["fields"]}
    assert fields["id"]["type"] == "integer"
    assert fields["id"]["nullable"] is False
    assert fields["Leistung [kW]"] == {
        "name": "Leistung [kW]",
        "type": "number",
        "duckdb_type": "DOUBLE",
        "nullable": True,
        "unit": "kW",
    }
    assert fields["tag"]["type"] == "date"
    columns = {c["name"]: c for c in info.quality["columns"]}
    assert columns["Leistung [kW]"]["null_count"] == 2
    assert columns["Leistung [kW]"]["null_share"] == 0.25
    assert columns["id"]["distinct_count"] == 8
    assert (columns["tag"]["min"], columns["tag"]["max"]) == ("2024-01-01", "2024-01-08")


def test_geodata_version_records_bbox_and_geometry_types(hub: Hub) -> None:
    info = add_version(
        hub,
        "punkte",
        "SELECT range AS id, ST_SetCRS(ST_Point(7.0 + range / 10, 51.5), 'EPSG:4326') "
        "AS geometry FROM range(3)",
    )
    geometry = next(c for c in info.quality["columns"] if c["name"] == "geometry")
    assert geometry["geometry_types"] == "[POINT]"
    assert info.table_schema["fields"][1]["type"] == "geojson"
    with hub.session() as session:
        version = session.scalars(select(Version)).one()
        assert version.bbox == [7.0, 51.5, 7.2, 51.5]


def test_empty_result_is_refused_and_leaves_nothing(hub: Hub) -> None:
    with pytest.raises(IngestError, match="no data rows"):
        add_version(hub, "leer", "SELECT 1 AS a WHERE false")
    assert list(hub.store.files()) == []
    with hub.session() as session:
        assert session.scalars(select(Version)).all() == []


def test_bad_slug_is_refused_naming_the_parameter(hub: Hub) -> None:
    with pytest.raises(InputError) as caught:
        add_version(hub, "Not A Slug", "SELECT 1 AS a")
    assert caught.value.details["parameter"] == "dataset"


def test_failed_catalog_transaction_removes_the_written_file(hub: Hub) -> None:
    add_version(hub, "luft", "SELECT 1 AS a", org="stadt-herne")
    with pytest.raises(DatenschatzError, match="another organization"):
        add_version(hub, "luft", "SELECT 2 AS a", org="stadtwerke-herne")
    assert len(list(hub.store.files())) == 1
    with hub.session() as session:
        assert len(session.scalars(select(Version)).all()) == 1


def test_concurrent_ingests_get_distinct_version_numbers(hub: Hub) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        infos = list(pool.map(lambda i: add_version(hub, "parallel", f"SELECT {i} AS x"), range(8)))
    assert sorted(i.number for i in infos) == list(range(1, 9))
    with hub.session() as session:
        assert [v.number for v in list_versions(session, "parallel")] == list(range(1, 9))
    assert len(list(hub.store.files())) == 8
