"""`datenschatz search query|reindex` on the embedded default."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from datenschatz.cli import app
from datenschatz.hub import Hub
from tests.catalog.test_search import build_corpus

runner = CliRunner()


@pytest.fixture
def corpus_env(monkeypatch: pytest.MonkeyPatch, sqlite_hub: Hub) -> Hub:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(sqlite_hub.data_dir))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", sqlite_hub.settings.resolved_database_url)
    build_corpus(sqlite_hub)
    return sqlite_hub


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_query_prints_hits_and_facets(corpus_env: Hub) -> None:
    code, stdout = run("search", "query", "ueberschwemmung", "--json")
    assert code == 0, stdout
    body = json.loads(stdout)
    assert [r["slug"] for r in body["results"]] == ["ueberschwemmung"]
    code, stdout = run("search", "query", "-f", "organization=stadtwerke")
    assert code == 0
    assert "luftqualitaet" in stdout


def test_bad_facet_is_refused_with_its_name(corpus_env: Hub) -> None:
    code, stdout = run("search", "query", "-f", "farbe=rot", "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["details"]["parameter"] == "farbe"


def test_reindex_rebuilds_a_lost_index(corpus_env: Hub) -> None:
    with corpus_env.engine.begin() as conn:
        conn.execute(text("DELETE FROM search_fts"))
        conn.execute(text("DELETE FROM search_document"))
    assert json.loads(run("search", "query", "Baum", "--json")[1])["total"] == 0
    code, stdout = run("search", "reindex", "--json")
    assert code == 0
    assert json.loads(stdout) == {"indexed": 5}
    assert json.loads(run("search", "query", "Baum", "--json")[1])["total"] == 1
