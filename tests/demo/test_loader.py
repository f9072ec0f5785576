"""load_demo: every demo dataset ingested through the real pipeline, published, and idempotent."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from datenschatz.catalog.datasets import VersionInfo, get_dataset
from datenschatz.db.migrate import upgrade
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, OrganizationType, Version
from datenschatz.demo import synthetic
from datenschatz.demo.loader import DEMO_DATASETS, DEMO_STEPS, ORGANIZATIONS, load_demo
from datenschatz.hub import Hub

_MISSING_READERS = [
    name
    for name in ("text", "geo", "tabular")
    if importlib.util.find_spec(f"datenschatz.ingest.{name}") is None
]
pytestmark = pytest.mark.skipif(
    bool(_MISSING_READERS),
    reason="load_demo needs the ingest readers; not written yet: "
    + ", ".join(f"datenschatz.ingest.{name}" for name in _MISSING_READERS),
)

REAL_ROWS = {
    "feinstaub-sensor-bochum": 573,
    "temperatur-luftfeuchte-sensor-bochum": 579,
    "erneuerbare-energien-leistung-2024": 11_098,
    "bevoelkerung-gemeinden-2021": 11_098,
    "gemeindeschluessel-2021": 11_098,
    "parkhaeuser-dortmund": 20,
    "kreise-deutschland": 434,
}


@dataclass
class Loaded:
    hub: Hub
    infos: list[VersionInfo]
    messages: list[str]
    synthetic_rows: dict[str, int]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    data = tmp_path_factory.mktemp("demo-hub")
    hub = Hub.from_env(data_dir=data, database_url=f"sqlite:///{data / 'datenschatz.sqlite3'}")
    upgrade(hub.engine)
    messages: list[str] = []
    infos = load_demo(hub, progress=messages.append)
    generated = synthetic.generate_all(tmp_path_factory.mktemp("expected"))
    rows = {d.slug: generated[d.file].rows for d in DEMO_DATASETS if d.synthetic}
    yield Loaded(hub, infos, messages, rows)
    hub.engine.dispose()


def _dataset(hub: Hub, slug: str) -> tuple[Dataset, list[Version]]:
    with hub.session() as session:
        dataset = get_dataset(session, slug)
        versions = list(dataset.versions)
        _ = dataset.organization.slug, dataset.published_version
        return dataset, versions


def _field(version: Version, source_name: str) -> dict[str, Any]:
    """The Table Schema field that came from the source column ``source_name``."""
    for entry in version.table_schema["fields"]:
        if source_name in (entry["name"], entry.get("source_name")):
            result: dict[str, Any] = entry
            return result
    raise AssertionError(f"no field from source column {source_name!r}")


DERIVED = ["pv-ausbaureserve-netzgebiete"]  # written by the demo recipe, after the files


def test_every_demo_dataset_is_published_under_its_organization(loaded: Loaded) -> None:
    assert [info.dataset for info in loaded.infos] == [d.slug for d in DEMO_DATASETS] + DERIVED
    assert all(info.published for info in loaded.infos)
    assert len(loaded.messages) == DEMO_STEPS
    for item in DEMO_DATASETS:
        dataset, versions = _dataset(loaded.hub, item.slug)
        assert dataset.organization.slug == item.org
        assert dataset.status == DatasetStatus.PUBLISHED
        assert dataset.access_level == AccessLevel.PUBLIC
        assert dataset.published_version is not None
        assert dataset.published_version.id == versions[-1].id
        assert dataset.title == item.title
        assert dataset.description == item.description
        assert versions[-1].created_by == "demo"


def test_organizations_have_names_and_types(loaded: Loaded) -> None:
    from datenschatz.db.models import Organization

    with loaded.hub.session() as session:
        orgs = {o.slug: (o.name, o.type) for o in session.scalars(select(Organization))}
    for slug, name, org_type in ORGANIZATIONS:
        assert orgs[slug] == (name, org_type)
    assert orgs["stadtwerke-herne"][1] == OrganizationType.UTILITY


def test_row_counts_match_the_source_files(loaded: Loaded) -> None:
    expected = {**REAL_ROWS, **loaded.synthetic_rows}
    assert set(expected) == {d.slug for d in DEMO_DATASETS}
    found = {info.dataset: info.rows for info in loaded.infos if info.dataset not in DERIVED}
    assert found == expected


def test_synthetic_datasets_say_so_and_real_ones_name_source_and_licence(
    loaded: Loaded,
) -> None:
    for item in DEMO_DATASETS:
        dataset, _versions = _dataset(loaded.hub, item.slug)
        extra = dataset.extra
        assert extra["synthetic"] is item.synthetic
        assert extra["license"]
        assert extra["description"] == item.description
        if item.synthetic:
            assert extra["generator"] == "datenschatz.demo.synthetic"
            assert extra["seed"] == synthetic.SEED
            assert "synthetisch" in dataset.title
        else:
            assert "generator" not in extra
            assert extra["source"].startswith("GitHub ")
            assert extra["license_text"]


def test_solar_cadastre_is_reprojected_from_utm(loaded: Loaded) -> None:
    _dataset_row, versions = _dataset(loaded.hub, "solarkataster-herne")
    version = versions[-1]
    assert version.source_crs == "EPSG:25832"
    assert version.geometry_column == "geometry"
    assert version.bbox is not None
    xmin, ymin, xmax, ymax = version.bbox
    assert 7.13 < xmin < xmax < 7.31
    assert 51.49 < ymin < ymax < 51.58


def test_geodata_versions_are_stored_in_wgs84(loaded: Loaded) -> None:
    for slug in ("stadtbezirke-herne", "netzgebiete-ortsnetzstationen-herne"):
        _dataset_row, versions = _dataset(loaded.hub, slug)
        assert versions[-1].bbox is not None
        xmin, ymin, xmax, ymax = versions[-1].bbox
        assert 7.13 < xmin < xmax < 7.31
        assert 51.49 < ymin < ymax < 51.58


def test_german_consumption_csv_is_read_as_dates_and_numbers(loaded: Loaded) -> None:
    _dataset_row, versions = _dataset(loaded.hub, "verbrauch-strom-gas-wasser-bezirke")
    version = versions[-1]
    assert _field(version, "Monat")["type"] == "date"
    assert _field(version, "Anzahl Haushalte")["type"] == "integer"
    for column in ("Strom [kWh]", "Wasser [m³]"):
        assert _field(version, column)["type"] == "number"
    gas = _field(version, "Gas [kWh]")
    assert gas["type"] == "number"
    assert gas["nullable"] is True  # the heat-pump group has no gas


def test_fill_level_timestamps_keep_their_offsets(loaded: Loaded) -> None:
    _dataset_row, versions = _dataset(loaded.hub, "abfallbehaelter-fuellstaende")
    field = _field(versions[-1], "zeitpunkt")
    assert field["type"] == "datetime"
    assert "TIME ZONE" in field["duckdb_type"]


def test_loading_again_adds_no_versions(loaded: Loaded) -> None:
    messages: list[str] = []
    again = load_demo(loaded.hub, progress=messages.append)
    assert [(i.dataset, i.number) for i in again] == [
        (slug, 1) for slug in [d.slug for d in DEMO_DATASETS] + DERIVED
    ]
    with loaded.hub.session() as session:
        counts = dict(
            session.execute(
                select(Dataset.slug, func.count(Version.id))
                .join(Version, Version.dataset_id == Dataset.id)
                .group_by(Dataset.slug)
            ).all()
        )
    assert counts == {slug: 1 for slug in [d.slug for d in DEMO_DATASETS] + DERIVED}
    assert len(messages) == DEMO_STEPS
    assert sum("unverändert" in m for m in messages) == len(DEMO_DATASETS)


def test_loading_again_publishes_a_version_left_unpublished(loaded: Loaded) -> None:
    with loaded.hub.session() as session:
        dataset = get_dataset(session, "stadtbezirke-herne")
        dataset.published_version_id = None
        dataset.status = DatasetStatus.DRAFT
    infos = {i.dataset: i for i in load_demo(loaded.hub)}
    assert infos["stadtbezirke-herne"].published
    assert infos["stadtbezirke-herne"].number == 1
    dataset, versions = _dataset(loaded.hub, "stadtbezirke-herne")
    assert dataset.status == DatasetStatus.PUBLISHED
    assert len(versions) == 1


def test_generated_files_do_not_outlive_the_load(loaded: Loaded) -> None:
    tmp: Path = loaded.hub.settings.tmp_dir
    assert not [p for p in tmp.glob("demo-*")]


def test_the_pv_recipe_runs_with_its_lineage(loaded: Loaded) -> None:
    from datenschatz.analysis.lineage import lineage
    from datenschatz.demo.analysis import DEMO

    with loaded.hub.session() as session:
        found = lineage(session, DEMO, "pv-ausbaureserve-netzgebiete")
    assert [d["dataset"] for d in found["derived_from"]] == [
        "solarkataster-herne",
        "netzgebiete-ortsnetzstationen-herne",
        "erneuerbare-energien-leistung-2024",
    ]
    assert found["stale"] is False
    [info] = [i for i in loaded.infos if i.dataset == "pv-ausbaureserve-netzgebiete"]
    assert info.geometry_column == "geometry"
    names = [f["name"] for f in info.table_schema["fields"]]
    assert names[:6] == [
        "station_id",
        "stadtbezirk",
        "potenzial_kwp",
        "bestand_kwp",
        "netzreserve_kw",
        "aufnehmbar_prozent",
    ]


def test_the_demo_measure_recovers_the_injected_effect(loaded: Loaded) -> None:
    from datenschatz.analysis.measures import evaluations

    with loaded.hub.session() as session:
        [evaluation] = evaluations(session, "tempo30-bahnhofstrasse")[-1:]
    did = evaluation["did"]
    assert did["ci_low"] <= synthetic.PM10_EFFECT <= did["ci_high"]
    assert evaluation["placebo"]["ci_low"] <= 0 <= evaluation["placebo"]["ci_high"]
    assert evaluation["inputs"]["dataset"] == "pm10-messstationen"
