"""services.features without HTTP: which datasets are collections, pages, single features."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from datenschatz.access.policy import ANONYMOUS
from datenschatz.db.models import Dataset
from datenschatz.errors import NotFound
from datenschatz.hub import Hub
from datenschatz.ogc import crs as ogc_crs
from datenschatz.services import features
from tests.conftest import make_hub
from tests.helpers import add_version
from tests.query.builders import publish_sql

MESSUNGEN_SQL = """
SELECT range AS nr,
       TIMESTAMPTZ '2024-03-01 00:00:00+00' + INTERVAL (range) DAY AS gemessen,
       DATE '2020-01-01' + CAST(range AS INTEGER) AS angelegt,
       ST_SetCRS(ST_Point(7.2 + range / 100, 51.5), 'EPSG:4326') AS geometry
FROM range(20)
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    directory = tmp_path_factory.mktemp("features")
    hub = make_hub(directory / "data", f"sqlite:///{directory / 'catalog.sqlite3'}")
    publish_sql(hub, "messungen", MESSUNGEN_SQL)
    publish_sql(
        hub,
        "schatten",  # a real column shadows the row number that feature ids are made of
        "SELECT 1 AS file_row_number, ST_SetCRS(ST_Point(7, 51), 'EPSG:4326') AS geometry",
    )
    publish_sql(hub, "tabelle", "SELECT 1 AS n")
    add_version(hub, "geheim", MESSUNGEN_SQL)
    with hub.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == "messungen")).one()
        dataset.extra = {**dataset.extra, features.TIME_COLUMN_KEY: "gemessen"}
    return hub


def test_only_visible_published_datasets_with_servable_geometry_are_collections(
    hub: Hub,
) -> None:
    assert [c.id for c in features.collections(hub, ANONYMOUS)] == ["messungen"]
    for hidden in ("schatten", "tabelle", "geheim", "nix"):
        with pytest.raises(NotFound):
            features.collection(hub, ANONYMOUS, hidden)


def test_the_declared_time_column_gives_the_temporal_extent_in_utc(hub: Hub) -> None:
    found = features.collection(hub, ANONYMOUS, "messungen")
    assert found.time_column == "gemessen"
    assert found.interval == ("2024-03-01T00:00:00Z", "2024-03-20T00:00:00Z")
    assert found.geometry_types == ["Point"]
    assert [c.name for c in found.properties] == ["nr", "gemessen", "angelegt"]
    assert found.bbox == [7.2, 51.5, 7.39, 51.5]


def test_items_filter_on_the_declared_time_column_and_page_by_cursor(hub: Hub) -> None:
    params = [("datetime", "2024-03-05T00:00:00Z/2024-03-10T00:00:00Z"), ("limit", "4")]
    first = features.items(hub, ANONYMOUS, "messungen", params)
    assert first.number_matched == 6
    assert first.number_returned == 4
    assert [json.loads(f)["id"] for f in first.features] == [4, 5, 6, 7]
    assert first.next_cursor is not None
    rest = features.items(hub, ANONYMOUS, "messungen", [*params, ("cursor", first.next_cursor)])
    assert [json.loads(f)["id"] for f in rest.features] == [8, 9]
    assert rest.number_matched == 6
    assert rest.next_cursor is None


def test_fingerprints_are_known_before_reading_and_differ_by_request(hub: Hub) -> None:
    a = features.prepare_items(hub, ANONYMOUS, "messungen", [("limit", "5")])
    b = features.prepare_items(hub, ANONYMOUS, "messungen", [("limit", "5")])
    c = features.prepare_items(
        hub, ANONYMOUS, "messungen", [("limit", "5"), ("crs", ogc_crs.EPSG_3857.uri)]
    )
    assert a.fingerprint == b.fingerprint != c.fingerprint
    one = features.prepare_feature(hub, ANONYMOUS, "messungen", "3", [])
    other = features.prepare_feature(hub, ANONYMOUS, "messungen", "3", [("crs", c.request.crs.uri)])
    assert one.fingerprint != other.fingerprint


def test_a_feature_is_read_by_its_row_number_in_the_requested_crs(hub: Hub) -> None:
    found = features.feature(hub, ANONYMOUS, "messungen", "3", [("crs", ogc_crs.EPSG_4326.uri)])
    body = json.loads(found.feature)
    assert body["id"] == 3
    assert body["geometry"]["coordinates"] == pytest.approx([51.5, 7.23])
    assert body["properties"]["gemessen"] == "2024-03-04T00:00:00Z"
    for missing in ("20", "03", "-3", "x"):
        with pytest.raises(NotFound):
            features.feature(hub, ANONYMOUS, "messungen", missing, [])
