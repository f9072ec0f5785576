"""GET /api/v1/datasets/{slug}/download.{format} through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from datenschatz.hub import Hub
from datenschatz.store.query import exports
from tests.api.test_app import assert_error_shape
from tests.query.builders import BACKENDS, client_for, luft_rows, module_hub

BASE = "/api/v1/datasets/luft/download"


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    return module_hub(request, tmp_path_factory)


@pytest.fixture
def client(hub: Hub) -> TestClient:
    return client_for(hub)


FILTER = {"station": "3", "_fields": "id,ort,pm10", "_sort_desc": "id"}


def wanted_ids() -> list[int]:
    return sorted((int(str(r["id"])) for r in luft_rows() if r["station"] == 3), reverse=True)


def test_every_format_is_sent_as_a_named_attachment_with_an_etag(client: TestClient) -> None:
    for fmt, media_type in [
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json"),
        ("ndjson", "application/x-ndjson"),
        ("geojson", "application/geo+json"),
        ("parquet", "application/vnd.apache.parquet"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ]:
        response = client.get(f"{BASE}.{fmt}", params={"_limit": "3"})
        assert response.status_code == 200, (fmt, response.text)
        assert response.headers["content-type"] == media_type
        assert response.headers["content-disposition"] == (f'attachment; filename="luft-v2.{fmt}"')
        assert response.headers["etag"].startswith('"')
        assert response.content


def test_filtered_csv_json_and_ndjson_hold_the_selected_rows(client: TestClient) -> None:
    text = client.get(f"{BASE}.csv", params=FILTER).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "ort", "pm10"]
    assert [int(r["id"]) for r in rows] == wanted_ids()
    data = client.get(f"{BASE}.json", params=FILTER).json()
    assert [r["id"] for r in data] == wanted_ids()
    lines = client.get(f"{BASE}.ndjson", params=FILTER).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == wanted_ids()


def test_csv_for_german_excel(client: TestClient) -> None:
    response = client.get(
        f"{BASE}.csv", params={"dialect": "excel-de", "_limit": "2", "id__gte": "1"}
    )
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw[3:].decode().split("\r\n")
    assert lines[0].startswith('"id";"station";"pm10";"zeit"')
    assert lines[1].split(";")[:3] == ["1", "1", '"0,25"']


def test_geojson_features_and_bbox(client: TestClient) -> None:
    body = client.get(
        f"{BASE}.geojson", params={"bbox": "7.1,51.5,7.1015,51.5005", "_fields": "id,ort"}
    ).json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"] for f in body["features"]] == [
        {"id": 0, "ort": "Herne Mitte"},
        {"id": 1, "ort": "Wanne-Eickel"},
    ]
    assert body["features"][1]["geometry"] == {"type": "Point", "coordinates": [7.101, 51.5]}


def test_whole_parquet_is_the_version_file_and_filtered_parquet_a_new_one(
    client: TestClient, hub: Hub
) -> None:
    whole = client.get(f"{BASE}.parquet")
    stored = sorted((hub.store.root / "luft").glob("*.parquet"), key=lambda p: p.stat().st_size)
    assert whole.content in [p.read_bytes() for p in stored]
    assert whole.headers["content-length"] == str(len(whole.content))
    filtered = client.get(f"{BASE}.parquet", params=FILTER)
    assert filtered.content[:4] == b"PAR1"
    assert filtered.content != whole.content
    assert list((hub.settings.tmp_dir / "exports").iterdir()) == []


def test_xlsx_opens_and_refuses_more_rows_than_excel_holds(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = client.get(f"{BASE}.xlsx", params=FILTER)
    path = tmp_path_factory.mktemp("xlsx") / "luft.xlsx"
    path.write_bytes(response.content)
    workbook = load_workbook(path, read_only=True)
    try:
        rows = list(workbook["data"].iter_rows(values_only=True))
    finally:
        workbook.close()  # read-only workbooks keep the file open until closed
    assert rows[0] == ("id", "ort", "pm10")
    assert [r[0] for r in rows[1:]] == wanted_ids()

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 100)
    refused = client.get(f"{BASE}.xlsx")
    assert refused.status_code == 400
    assert_error_shape(refused.json(), "invalid_input")
    assert refused.json()["error"]["details"]["parameter"] == "format"
    assert client.get(f"{BASE}.xlsx", params={"_limit": "100"}).status_code == 200


def test_downloads_answer_304_for_a_matching_etag(client: TestClient) -> None:
    first = client.get(f"{BASE}.csv", params=FILTER)
    etag = first.headers["etag"]
    again = client.get(f"{BASE}.csv", params=FILTER, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(f"{BASE}.json", params=FILTER).headers["etag"] != etag
    assert client.get(f"{BASE}.csv", params={"station": "4"}).headers["etag"] != etag


def test_download_mistakes_are_400s_naming_the_parameter(client: TestClient) -> None:
    cases = [
        ("/api/v1/datasets/plain/download.geojson", {}, "format"),
        (f"{BASE}.json", {"dialect": "excel-de"}, "dialect"),
        (f"{BASE}.csv", {"dialect": "excel-fr"}, "dialect"),
        (f"{BASE}.csv", {"gibtsnicht": "1"}, "gibtsnicht"),
        (f"{BASE}.csv", {"station__gt": "drei"}, "station__gt"),
        (f"{BASE}.csv", {"bbox": "7,51"}, "bbox"),
        (f"{BASE}.csv", {"_next": "abc"}, "_next"),
    ]
    for url, params, parameter in cases:
        response = client.get(url, params=params)
        assert response.status_code == 400, (url, params, response.text)
        assert_error_shape(response.json(), "invalid_input")
        assert response.json()["error"]["details"]["parameter"] == parameter
    assert client.get(f"{BASE}.txt").status_code == 404
    assert client.get("/api/v1/datasets/entwurf/download.csv").status_code == 404


def test_older_version_downloads_under_its_own_name(client: TestClient) -> None:
    response = client.get(f"{BASE}.csv", params={"version": "1"})
    assert response.headers["content-disposition"] == 'attachment; filename="luft-v1.csv"'
    assert response.text == '"id","ort"\n1,"alt"\n'


def test_openapi_lists_every_download_format(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for fmt in ("csv", "json", "ndjson", "geojson", "parquet", "xlsx"):
        operation = paths[f"/api/v1/datasets/{{slug}}/download.{fmt}"]["get"]
        assert "dialect" in {p["name"] for p in operation["parameters"]}
        assert "excel-de" in operation["description"]
