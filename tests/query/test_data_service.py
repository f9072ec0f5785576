"""services.data without HTTP: access first, then parameters, then the query layer."""

from __future__ import annotations

import csv
import io

import pytest

from datenschatz.access.policy import ANONYMOUS
from datenschatz.errors import InputError, NotFound
from datenschatz.hub import Hub
from datenschatz.services import data
from tests.query.builders import BACKENDS, module_hub


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    return module_hub(request, tmp_path_factory)


def test_rows_reads_the_published_version_and_pages_by_cursor(hub: Hub) -> None:
    first = data.rows(hub, ANONYMOUS, "luft", [("_limit", "2"), ("ort", "Sodingen")])
    assert (first.dataset, first.version) == ("luft", 2)
    assert [r["id"] for r in first.rows] == [2, 5]
    assert first.count.value == 333
    assert first.next_cursor is not None
    second = data.rows(
        hub, ANONYMOUS, "luft", [("_limit", "2"), ("ort", "Sodingen"), ("_next", first.next_cursor)]
    )
    assert [r["id"] for r in second.rows] == [8, 11]
    older = data.rows(hub, ANONYMOUS, "luft", [], version=1)
    assert older.rows == [{"id": 1, "ort": "alt"}]
    assert [f["name"] for f in older.fields] == ["id", "ort"]


def test_access_is_checked_before_parameters(hub: Hub) -> None:
    with pytest.raises(NotFound):
        data.rows(hub, ANONYMOUS, "entwurf", [("gibtsnicht", "1")])
    with pytest.raises(NotFound):
        data.aggregate(hub, ANONYMOUS, "luft", [], version=3)  # never published
    with pytest.raises(NotFound):
        data.prepare_download(hub, ANONYMOUS, "gibt-es-nicht", [], "csv")


def test_fingerprints_identify_the_content(hub: Hub) -> None:
    a = data.prepare_rows(hub, ANONYMOUS, "luft", [("station", "1"), ("_limit", "5")])
    b = data.prepare_rows(hub, ANONYMOUS, "luft", [("_limit", "5"), ("station", "1")])
    c = data.prepare_rows(hub, ANONYMOUS, "luft", [("_limit", "5"), ("station", "2")])
    d = data.prepare_rows(hub, ANONYMOUS, "luft", [("_limit", "6"), ("station", "1")])
    older = data.prepare_rows(hub, ANONYMOUS, "luft", [("_limit", "5")], version=1)
    assert a.fingerprint == b.fingerprint
    assert len({a.fingerprint, c.fingerprint, d.fingerprint, older.fingerprint}) == 4
    csv_ = data.prepare_download(hub, ANONYMOUS, "luft", [("station", "1")], "csv")
    json_ = data.prepare_download(hub, ANONYMOUS, "luft", [("station", "1")], "json")
    assert csv_.fingerprint != json_.fingerprint
    assert csv_.filename == "luft-v2.csv"


def test_aggregate_groups_published_rows(hub: Hub) -> None:
    result = data.aggregate(
        hub, ANONYMOUS, "luft", [("group_by", "gerade"), ("metrics", "count,min:id")]
    )
    assert result.rows == [
        {"gerade": False, "count": 500, "min:id": 1},
        {"gerade": True, "count": 500, "min:id": 0},
    ]
    assert not result.truncated


def test_download_refusals_come_before_any_byte(hub: Hub) -> None:
    with pytest.raises(InputError) as info:
        data.prepare_download(hub, ANONYMOUS, "plain", [], "geojson")
    assert info.value.details["parameter"] == "format"
    with pytest.raises(InputError) as info:
        data.prepare_download(hub, ANONYMOUS, "luft", [], "docx")
    assert info.value.details["parameter"] == "format"


def test_download_streams_the_selection(hub: Hub) -> None:
    result = data.download(hub, ANONYMOUS, "luft", [("_fields", "id"), ("id__lt", "3")], "csv")
    assert result.media_type.startswith("text/csv")
    assert result.size is None
    text = b"".join(result.chunks).decode()
    assert list(csv.reader(io.StringIO(text))) == [["id"], ["0"], ["1"], ["2"]]
