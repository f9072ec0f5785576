"""Recipes: derived datasets with recorded lineage, staleness, and the same checks as any data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datenschatz.access.policy import ANONYMOUS, Principal, Role
from datenschatz.analysis.lineage import lineage
from datenschatz.analysis.recipes import (
    create_recipe,
    run_recipe,
    run_stale,
    show_recipe,
    stale_recipes,
)
from datenschatz.api.app import create_app
from datenschatz.catalog.datasets import get_dataset
from datenschatz.cli import app as cli_app
from datenschatz.errors import CheckFailed, InputError, NotFound, SqlError
from datenschatz.hub import Hub
from datenschatz.ingest.model import Staged
from datenschatz.ingest.pipeline import Source, commit_version
from datenschatz.services.publish import publish
from tests.helpers import add_version, confirm_roles

ADMIN = Principal(name="admin", roles=frozenset({Role.ADMIN}))

JOIN_RECIPE = """
output: verbrauch-je-einwohner
title: Verbrauch je Einwohner
inputs: {v: verbrauch, e: einwohner}
sql: |
  SELECT v.bezirk, v.kwh, e.einwohner, round(v.kwh / e.einwohner, 3) AS kwh_je_einwohner
  FROM v JOIN e USING (bezirk) ORDER BY v.bezirk
"""


def published(hub: Hub, slug: str, sql: str, **kwargs: Any) -> None:
    add_version(hub, slug, sql, **kwargs)
    publish(hub, slug, actor="test")


def add_geo(hub: Hub, slug: str, select_sql: str) -> None:
    """A geodata version (geometry in EPSG:4326), published."""
    con = hub.duckdb(spatial=True)
    try:
        staged = Staged(
            select_sql=select_sql,
            format="sql",
            geometry_column="geometry",
            source_crs="EPSG:4326",
        )
        commit_version(
            hub, con, staged, dataset=slug, source=Source("test.sql", 1, "0" * 64), actor="test"
        )
    finally:
        con.close()
    confirm_roles(hub, slug)
    publish(hub, slug, actor="test")


@pytest.fixture
def inputs(hub: Hub) -> Hub:
    published(
        hub,
        "verbrauch",
        "SELECT * FROM (VALUES ('Mitte', 120000.0), ('Sodingen', 80000.0)) t(bezirk, kwh)",
    )
    published(
        hub,
        "einwohner",
        "SELECT * FROM (VALUES ('Mitte', 40000), ('Sodingen', 25000)) t(bezirk, einwohner)",
    )
    return hub


def rows(hub: Hub, slug: str) -> list[tuple[Any, ...]]:
    with hub.session() as session:
        version = get_dataset(session, slug).versions[-1]
        path = hub.store.path(version.path)
    con = hub.duckdb(spatial=False)
    try:
        return con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
    finally:
        con.close()


def test_a_recipe_writes_a_version_with_its_provenance(inputs: Hub) -> None:
    create_recipe(inputs, ADMIN, JOIN_RECIPE)
    info = run_recipe(inputs, ADMIN, "verbrauch-je-einwohner")
    assert info.number == 1
    assert info.format == "recipe"
    assert rows(inputs, "verbrauch-je-einwohner") == [
        ("Mitte", 120000.0, 40000, 3.0),
        ("Sodingen", 80000.0, 25000, 3.2),
    ]
    with inputs.session() as session:
        shown = show_recipe(session, ADMIN, "verbrauch-je-einwohner")
        found = lineage(session, ADMIN, "verbrauch-je-einwohner")
        used = lineage(session, ADMIN, "verbrauch")
    assert shown["text"] == JOIN_RECIPE
    assert shown["stale"] is False
    used_inputs = {i["alias"]: i for i in shown["last_run"]["inputs"]}
    assert used_inputs["v"]["dataset"] == "verbrauch"
    assert used_inputs["v"]["version"] == 1
    assert len(used_inputs["v"]["sha256"]) == 64
    assert [(d["dataset"], d["version"]) for d in found["derived_from"]] == [
        ("verbrauch", 1),
        ("einwohner", 1),
    ]
    assert used["used_by"] == [{"dataset": "verbrauch-je-einwohner", "as": "v"}]


def test_a_new_input_version_makes_the_output_stale_and_run_stale_catches_up(
    inputs: Hub,
) -> None:
    create_recipe(inputs, ADMIN, JOIN_RECIPE)
    pinned = JOIN_RECIPE.replace("verbrauch-je-einwohner", "gepinnt").replace(
        "e: einwohner}", "e: einwohner@1}"
    )
    create_recipe(inputs, ADMIN, pinned)
    with inputs.session() as session:
        assert stale_recipes(session) == ["verbrauch-je-einwohner", "gepinnt"]
    run_stale(inputs, ADMIN)
    with inputs.session() as session:
        assert stale_recipes(session) == []
    published(
        inputs,
        "einwohner",
        "SELECT * FROM (VALUES ('Mitte', 40000), ('Sodingen', 20000)) t(bezirk, einwohner)",
    )
    with inputs.session() as session:
        assert stale_recipes(session) == ["verbrauch-je-einwohner"]  # the pinned one is current
        reasons = show_recipe(session, ADMIN, "verbrauch-je-einwohner")["stale_reasons"]
    assert reasons == ["input e has a newer published version (2, the last run read 1)"]
    [info] = run_stale(inputs, ADMIN)
    assert (info.dataset, info.number) == ("verbrauch-je-einwohner", 2)
    assert rows(inputs, "verbrauch-je-einwohner")[1] == ("Sodingen", 80000.0, 20000, 4.0)


def test_recipes_read_only_their_inputs(inputs: Hub) -> None:
    for sql, error in [
        ("SELECT * FROM read_csv('/etc/passwd')", "not allowed"),
        ("SELECT * FROM verbrauch", "Unknown table"),
        ("DROP TABLE v", "Only a SELECT"),
    ]:
        text = f'output: boese\ninputs: {{v: verbrauch}}\nsql: "{sql}"\n'
        with pytest.raises(SqlError) as caught:
            create_recipe(inputs, ADMIN, text)
        assert error in caught.value.message
    with pytest.raises(InputError) as caught:
        create_recipe(inputs, ADMIN, "output: x\ninputs: {v: gibt-es-nicht}\nsql: SELECT 1\n")
    assert caught.value.details["parameter"] == "inputs.v"
    with pytest.raises(InputError) as caught:
        create_recipe(inputs, ADMIN, "output: x\ninputs: {v: verbrauch}\n")
    assert "either sql or transform" in caught.value.message
    with pytest.raises(InputError) as caught:
        create_recipe(inputs, ADMIN, "output: x\ninputs: {v: verbrauch}\nsql: [unclosed\n")
    assert caught.value.details["line"] >= 3


def test_a_recipe_cannot_feed_itself(inputs: Hub) -> None:
    create_recipe(inputs, ADMIN, JOIN_RECIPE)
    run_recipe(inputs, ADMIN, "verbrauch-je-einwohner")
    confirm_roles(inputs, "verbrauch-je-einwohner")
    publish(inputs, "verbrauch-je-einwohner", actor="test")
    loop = "output: verbrauch\ninputs: {d: verbrauch-je-einwohner}\nsql: SELECT * FROM d\n"
    with pytest.raises(InputError) as caught:
        create_recipe(inputs, ADMIN, loop)
    assert "back into its own inputs" in caught.value.message
    with pytest.raises(InputError):
        create_recipe(inputs, ADMIN, "output: v2\ninputs: {v: v2}\nsql: SELECT * FROM v\n")


def test_a_personal_internal_table_joined_in_is_stopped(inputs: Hub) -> None:
    add_version(
        inputs,
        "kunden",
        "SELECT * FROM (VALUES ('Mitte', 'erika.mustermann@example.org', 'Erika Mustermann'),"
        " ('Sodingen', 'max.muster@example.com', 'Max Muster')) t(bezirk, email, kunde)",
    )  # ingested, never released: internal
    text = (
        "output: kunden-verbrauch\ninputs: {v: verbrauch, k: kunden}\n"
        "sql: SELECT v.bezirk, v.kwh, k.email FROM v JOIN k USING (bezirk)\n"
    )
    create_recipe(inputs, ADMIN, text)
    run_recipe(inputs, ADMIN, "kunden-verbrauch")
    with pytest.raises(CheckFailed) as caught:
        publish(inputs, "kunden-verbrauch", actor="test")
    failed = {c["check"] for c in caught.value.details["checks"] if not c["passed"]}
    assert {"privacy", "lineage"} <= failed
    shown = json.dumps(caught.value.to_dict(), ensure_ascii=False)
    assert "mustermann" not in shown.lower()


def test_declarative_forms(hub: Hub) -> None:
    add_geo(
        hub,
        "gebiete",
        "SELECT * FROM (VALUES"
        " ('N1', ST_GeomFromText('POLYGON((7 51,7.1 51,7.1 51.1,7 51.1,7 51))')),"
        " ('N2', ST_GeomFromText('POLYGON((7.1 51,7.2 51,7.2 51.1,7.1 51.1,7.1 51))')))"
        " t(gebiet, geometry)",
    )
    add_geo(
        hub,
        "dachflaechen",
        "SELECT * FROM (VALUES (1, 10.0, ST_Point(7.05, 51.05)), (2, 5.5, ST_Point(7.06, 51.02)),"
        " (3, 7.0, ST_Point(7.15, 51.05))) t(gebaeude, kwp, geometry)",
    )
    published(
        hub,
        "messungen",
        "SELECT * FROM (VALUES ('A', TIMESTAMP '2024-01-01 10:15', 10.0),"
        " ('A', TIMESTAMP '2024-01-01 10:45', 20.0), ('A', TIMESTAMP '2024-01-01 11:05', 40.0))"
        " t(station, zeit, pm10)",
    )
    per_area = """
output: potenzial-je-gebiet
inputs: {g: gebiete, b: dachflaechen}
transform:
  kind: aggregate_per_polygon
  polygons: g
  points: b
  keep: [gebiet]
  measures: {kwp: "coalesce(sum(x.kwp), 0)", gebaeude: "count(x.gebaeude)"}
"""
    create_recipe(hub, ADMIN, per_area)
    info = run_recipe(hub, ADMIN, "potenzial-je-gebiet")
    assert info.geometry_column == "geometry"
    assert sorted((r[0], r[1], r[2]) for r in rows(hub, "potenzial-je-gebiet")) == [
        ("N1", 15.5, 2),
        ("N2", 7.0, 1),
    ]
    within = """
output: dach-im-gebiet
inputs: {b: dachflaechen, g: gebiete}
transform: {kind: spatial_join, left: b, right: g, predicate: within, how: inner}
"""
    create_recipe(hub, ADMIN, within)
    run_recipe(hub, ADMIN, "dach-im-gebiet")
    assert sorted((r[0], r[-1]) for r in rows(hub, "dach-im-gebiet")) == [
        (1, "N1"),
        (2, "N1"),
        (3, "N2"),
    ]
    hourly = """
output: pm10-stuendlich
inputs: {m: messungen}
transform: {kind: time_bucket, input: m, time: zeit, interval: hour, group_by: [station],
            measures: {pm10: avg(pm10)}}
"""
    create_recipe(hub, ADMIN, hourly)
    run_recipe(hub, ADMIN, "pm10-stuendlich")
    assert [(r[0], r[1].hour, r[2]) for r in rows(hub, "pm10-stuendlich")] == [
        ("A", 10, 15.0),
        ("A", 11, 40.0),
    ]


def test_cli_recipe_and_lineage(
    inputs: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(inputs.data_dir))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", inputs.settings.database_url)
    path = tmp_path / "recipe.yaml"
    path.write_text(JOIN_RECIPE, encoding="utf-8")
    runner = CliRunner()
    wrong = runner.invoke(cli_app, ["recipe", "create", "anders", "--file", str(path)])
    assert wrong.exit_code == 1
    created = runner.invoke(
        cli_app, ["recipe", "create", "verbrauch-je-einwohner", "--file", str(path), "--json"]
    )
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["stale"] is True
    ran = runner.invoke(cli_app, ["recipe", "run", "--stale", "--json"])
    assert ran.exit_code == 0, ran.output
    assert [v["dataset"] for v in json.loads(ran.stdout)] == ["verbrauch-je-einwohner"]
    shown = runner.invoke(cli_app, ["lineage", "verbrauch-je-einwohner"])
    assert shown.exit_code == 0, shown.output
    assert "← verbrauch v1" in shown.stdout
    assert "← einwohner v1" in shown.stdout
    neither = runner.invoke(cli_app, ["recipe", "run"])
    assert neither.exit_code == 1


def test_api_lineage_hides_what_the_caller_cannot_see(inputs: Hub) -> None:
    add_version(inputs, "intern", "SELECT 'Mitte' AS bezirk, 3 AS faktor")  # never published
    text = (
        "output: gemischt\ninputs: {v: verbrauch, i: intern}\n"
        "sql: SELECT v.bezirk, v.kwh * i.faktor AS wert FROM v JOIN i USING (bezirk)\n"
    )
    create_recipe(inputs, ADMIN, text)
    run_recipe(inputs, ADMIN, "gemischt")
    client = TestClient(create_app(inputs))
    assert client.get("/api/v1/datasets/gemischt/lineage").status_code == 404  # a draft
    public = client.get("/api/v1/datasets/verbrauch/lineage")
    assert public.status_code == 200
    assert public.json()["used_by"] == []  # the draft output is not named
    with inputs.session() as session:
        full = lineage(session, ADMIN, "gemischt")
        assert {d["dataset"] for d in full["derived_from"]} == {"verbrauch", "intern"}
        with pytest.raises(NotFound):
            lineage(session, ANONYMOUS, "intern")
    assert client.put("/api/v1/datasets/gemischt/recipe", content=text).status_code == 401
    assert client.post("/api/v1/datasets/gemischt/recipe/run").status_code in (401, 404)


def test_the_schedule_reruns_stale_recipes_by_itself(inputs: Hub) -> None:
    import time

    from datenschatz.analysis.scheduler import StaleRecipeScheduler, running_scheduler

    with running_scheduler(inputs) as off:
        assert off is None  # the default: no schedule
    create_recipe(inputs, ADMIN, JOIN_RECIPE)
    scheduler = StaleRecipeScheduler(inputs, minutes=0.002)
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        while scheduler.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert scheduler.runs >= 2
    with inputs.session() as session:
        assert stale_recipes(session) == []
        versions = get_dataset(session, "verbrauch-je-einwohner").versions
        assert [v.number for v in versions] == [1]  # ran once: the second round found it current


def test_a_recipe_over_partner_data_is_released_to_partners_at_most(hub: Hub) -> None:
    from datenschatz.governance.releases import request_release
    from tests.governance.release_builders import describe, partner_dataset

    partner_dataset(hub, "netzlast", "SELECT * FROM (VALUES ('Mitte', 7.5)) t(bezirk, last_mw)")
    text = "output: last-summe\ninputs: {n: netzlast}\nsql: SELECT sum(last_mw) AS last_mw FROM n\n"
    create_recipe(hub, ADMIN, text)
    run_recipe(hub, ADMIN, "last-summe")
    confirm_roles(hub, "last-summe")
    describe(hub, "last-summe")
    with pytest.raises(CheckFailed) as caught:
        request_release(hub, ADMIN, "last-summe", purpose="Open data", level="public")
    [level] = [c for c in caught.value.details["checks"] if c["check"] == "level"]
    assert level["passed"] is False
    assert "partner data" in level["reason"]
    info = request_release(hub, ADMIN, "last-summe", purpose="For the challenge", level="partner")
    assert info.status == "pending"
