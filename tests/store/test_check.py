from __future__ import annotations

from datenschatz.hub import Hub
from datenschatz.store.check import check_store
from tests.helpers import add_version


def test_intact_store_is_healthy(hub: Hub) -> None:
    add_version(hub, "a", "SELECT 1 AS x")
    add_version(hub, "a", "SELECT 2 AS x")
    with hub.session() as session:
        report = check_store(session, hub.store)
    assert report.healthy
    assert (report.checked, report.ok) == (2, 2)
    assert report.orphans == report.missing == report.corrupt == []


def test_changed_file_missing_file_orphan_and_partial_are_reported(hub: Hub) -> None:
    changed = add_version(hub, "a", "SELECT 1 AS x")
    gone = add_version(hub, "b", "SELECT 2 AS x")
    with hub.session() as session:
        from datenschatz.catalog.datasets import get_dataset, get_version

        changed_path = hub.store.path(get_version(session, get_dataset(session, "a"), 1).path)
        gone_path = hub.store.path(get_version(session, get_dataset(session, "b"), 1).path)
    data = bytearray(changed_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    changed_path.write_bytes(bytes(data))
    gone_path.unlink()
    (hub.store.root / "a" / "stray.parquet").write_bytes(b"PAR1")
    (hub.store.tmp / "x.parquet.partial").write_bytes(b"half")
    with hub.session() as session:
        report = check_store(session, hub.store)
    assert not report.healthy
    assert report.corrupt == [f"a v1: {changed_path.relative_to(hub.store.root)}"]
    assert report.missing == [f"b v1: {gone_path.relative_to(hub.store.root)}"]
    assert report.orphans == ["a/stray.parquet"]
    assert report.partials == ["x.parquet.partial"]
    assert changed.number == gone.number == 1


def test_clean_removes_only_old_orphans_and_partials(hub: Hub) -> None:
    import os
    import time

    from datenschatz.store.check import clean_store

    add_version(hub, "a", "SELECT 1 AS x")
    old = hub.store.root / "a" / "old.parquet"
    fresh = hub.store.root / "a" / "fresh.parquet"
    partial = hub.store.tmp / "y.parquet.partial"
    for path in (old, fresh, partial):
        path.write_bytes(b"PAR1")
    hour_ago = time.time() - 7200
    os.utime(old, (hour_ago, hour_ago))
    os.utime(partial, (hour_ago, hour_ago))
    with hub.session() as session:
        report = check_store(session, hub.store)
    assert sorted(clean_store(hub.store, report, 3600)) == ["old.parquet", "y.parquet.partial"]
    assert fresh.exists()
    assert not old.exists()
    with hub.session() as session:
        after = check_store(session, hub.store)
    assert after.orphans == ["a/fresh.parquet"]
    assert after.ok == 1
