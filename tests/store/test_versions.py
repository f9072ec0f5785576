from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from datenschatz.store import duck
from datenschatz.store.versions import VersionStore


@pytest.fixture
def store(tmp_path: Path) -> VersionStore:
    return VersionStore(tmp_path / "versions", tmp_path / "tmp")


def test_write_stores_zstd_parquet_with_hash_and_row_count(store: VersionStore) -> None:
    con = duck.connect(spatial=False)
    stored = store.write(con, "SELECT range AS n, 'x' || range AS label FROM range(1000)", "demo")
    path = store.path(stored.relpath)
    assert stored.relpath.startswith("demo/")
    assert stored.row_count == 1000
    assert stored.byte_size == path.stat().st_size
    assert stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert store.partials() == []


def test_geometry_is_written_as_geoparquet_in_epsg_4326(store: VersionStore) -> None:
    con = duck.connect()
    stored = store.write(
        con,
        "SELECT 1 AS id, ST_SetCRS(ST_Point(7.22, 51.54), 'EPSG:4326') AS geometry",
        "geo",
    )
    metadata = pq.read_metadata(store.path(stored.relpath)).metadata
    assert b"geo" in metadata
    assert b'"primary_column":"geometry"' in metadata[b"geo"]
    assert b"4326" in metadata[b"geo"]


def test_failed_write_leaves_nothing_behind(store: VersionStore) -> None:
    con = duck.connect(spatial=False)
    with pytest.raises(Exception, match="Conversion Error"):
        store.write(con, "SELECT CAST('nope' AS INTEGER) AS n", "broken")
    assert list(store.files()) == []
    assert store.partials() == []


def test_paths_cannot_escape_the_store(store: VersionStore) -> None:
    with pytest.raises(ValueError, match="escapes"):
        store.path("../../etc/passwd")


def test_discard_removes_the_file(store: VersionStore) -> None:
    con = duck.connect(spatial=False)
    stored = store.write(con, "SELECT 1 AS n", "x")
    store.discard(stored.relpath)
    assert list(store.files()) == []
