"""`datenschatz meta|org|group|harvest` and the metadata REST routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datenschatz.api.app import create_app
from datenschatz.api.deps import get_principal
from datenschatz.cli import app
from datenschatz.hub import Hub
from tests.catalog.publishing import ADMIN, make_dataset
from tests.conftest import make_hub

runner = CliRunner()


@pytest.fixture
def cli_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Hub:
    data = tmp_path / "data"
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(data))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", database_url)
    hub = make_hub(data, database_url)
    make_dataset(hub, "luft")
    return hub


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_meta_sets_fields_from_assignments_and_a_file(cli_hub: Hub, tmp_path: Path) -> None:
    code, output = run(
        "meta",
        "luft",
        "description=Luftmessstationen in Herne",
        "keywords=Luft, Feinstaub",
        "themes=envi,heal",
        "contact.name=Open-Data-Team",
        "contact.url=https://www.herne.de/",
        "geocoding=05916000",
        "--json",
    )
    assert code == 0, output
    data = json.loads(output)
    assert data["keywords"] == ["Luft", "Feinstaub"]
    assert data["themes"] == ["ENVI", "HEAL"]
    assert data["contact"] == {
        "name": "Open-Data-Team",
        "email": None,
        "url": "https://www.herne.de/",
    }
    assert data["missing"] == []
    assert data["attribution"].startswith("Stadt Herne, ")

    meta_file = tmp_path / "meta.yaml"
    meta_file.write_text(
        "title: Luft\ndescription: Stationen\nlicence: cc-by/4.0\n"
        "contact: {name: Team, email: team@herne.example}\nissued: 2024-02-01\n",
        encoding="utf-8",
    )
    code, output = run("meta", "luft", "--file", str(meta_file), "--replace", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["keywords"] == []  # replaced
    assert data["licence"] == "cc-by/4.0"
    assert data["issued"] == "2024-02-01"

    code, output = run("meta", "luft", "title_en=")  # clears an optional field
    assert code == 0, output


@pytest.mark.parametrize(
    ("assignment", "field"),
    [
        ("licence=cc-by-99", "licence"),
        ("themes=UMWELT", "themes"),
        ("contact.email=kein-name-aber-falsch", "contact.email"),
        ("description=", "description"),
    ],
)
def test_meta_names_the_wrong_field(cli_hub: Hub, assignment: str, field: str) -> None:
    run("meta", "luft", "contact.name=Team", "contact.url=https://herne.example/")
    code, output = run("meta", "luft", assignment, "--json")
    assert code == 1
    assert json.loads(output)["error"]["details"]["field"] == field


def test_org_and_group_commands(cli_hub: Hub) -> None:
    code, output = run(
        "org", "set", "stadtwerke", "--create", "name=Stadtwerke Herne", "type=municipal_utility",
        "homepage=https://www.stadtwerke-herne.de/", "contributor_id=openNRW", "--json",
    )  # fmt: skip
    assert code == 0, output
    assert json.loads(output)["type"] == "municipal_utility"
    code, output = run("org", "set", "stadtwerke", "type=bakery")
    assert code == 1
    code, output = run("group", "set", "umwelt", "--title", "Umwelt und Klima", "--json")
    assert code == 0, output
    code, output = run("meta", "luft", "groups=umwelt", "--json")
    assert json.loads(output)["groups"] == ["umwelt"]
    code, output = run("group", "list", "--json")
    assert json.loads(output) == [
        {"slug": "umwelt", "title": "Umwelt und Klima", "description": "", "dataset_count": 1}
    ]
    code, output = run("org", "show", "stadtwerke", "--json")
    assert json.loads(output)["contributor_id"] == "openNRW"


def test_harvest_command_reports(cli_hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "k.ttl"
    path.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        '<https://x.example/d/1> a dcat:Dataset ; dct:title "Bäume"@de .\n',
        encoding="utf-8",
    )
    code, output = run("harvest", "dcat", str(path), "--org", "stadt-herne", "--json")
    assert code == 0, output
    assert len(json.loads(output)["created"]) == 1
    code, output = run("harvest", "dcat", str(path), "--org", "stadt-herne")
    assert code == 0, output
    assert "0 new, 0 updated, 1 unchanged, 0 withdrawn" in output


def test_metadata_routes(sqlite_hub: Hub) -> None:
    make_dataset(sqlite_hub, "luft", meta={"description": "Stationen", "keywords": ["Luft"]})
    api = create_app(sqlite_hub)
    client = TestClient(api)
    body = client.get("/api/v1/datasets/luft/metadata").json()
    assert body["keywords"] == ["Luft"]
    assert body["licence_title"] == "Datenlizenz Deutschland Namensnennung 2.0"
    assert body["missing"] == ["contact"]
    assert client.patch("/api/v1/datasets/luft/metadata", json={"keywords": []}).status_code == 401
    api.dependency_overrides[get_principal] = lambda: ADMIN
    patched = client.patch(
        "/api/v1/datasets/luft/metadata",
        json={"contact": {"name": "Team", "email": "team@herne.example"}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["missing"] == []
    assert patched.json()["keywords"] == ["Luft"]
    bad = client.put("/api/v1/datasets/luft/metadata", json={"title": "Luft"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["field"] == "description"
    unknown = client.patch("/api/v1/datasets/luft/metadata", json={"themes": ["WETTER"]})
    assert unknown.json()["error"]["details"]["field"] == "themes"
    assert client.put("/api/v1/groups/umwelt", json={"title": "Umwelt"}).status_code == 200
    org = client.put("/api/v1/organizations/stadt-herne", json={"homepage": "https://herne.de/"})
    assert org.json()["homepage"] == "https://herne.de/"
    assert client.get("/api/v1/organizations").json()["total"] == 1
    assert client.get("/api/v1/groups/umwelt").json()["title"] == "Umwelt"
