"""Test data for the query layer: version files without a catalog, and published datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.hub import Hub
from datenschatz.ingest.quality import describe, table_schema_type
from datenschatz.services.publish import publish
from datenschatz.store import duck
from datenschatz.store.query import Table
from tests.conftest import _clean_postgres as clean_postgres
from tests.conftest import make_hub
from tests.helpers import add_version

# 1,000 air-quality readings: 7 stations, hourly from 2024-01-01, some gaps.
LUFT_SQL = """
SELECT
    range AS id,
    (range % 7)::INTEGER AS station,
    CASE WHEN range % 10 = 9 THEN NULL ELSE range * 0.25 END AS pm10,
    TIMESTAMP '2024-01-01' + INTERVAL (range) HOUR AS zeit,
    (DATE '2024-01-01' + CAST(range // 24 AS INTEGER)) AS tag,
    CASE range % 3 WHEN 0 THEN 'Herne Mitte' WHEN 1 THEN 'Wanne-Eickel' ELSE 'Sodingen' END
        AS ort,
    CASE WHEN range % 5 = 0 THEN NULL ELSE (range % 4)::INTEGER END AS klasse,
    range % 2 = 0 AS gerade,
    ST_SetCRS(ST_Point(7.1 + (range % 100) / 1000.0, 51.5 + (range // 100) / 1000.0),
              'EPSG:4326') AS geometry
FROM range(1000)
"""

PLAIN_SQL = "SELECT range AS n, 'x' || range AS label FROM range(10)"


def publish_sql(hub: Hub, slug: str, select_sql: str) -> None:
    add_version(hub, slug, select_sql)
    publish(hub, slug, actor="test")


def client_for(hub: Hub) -> TestClient:
    """The app on ``hub``, with errors answered (not raised) like in production."""
    app: FastAPI = create_app(hub)
    return TestClient(app, raise_server_exceptions=False)


def write_table(directory: Path, select_sql: str, name: str = "v.parquet") -> Table:
    """``select_sql`` written as a version file, described like the catalog would."""
    path = directory / name
    con = duck.cursor()
    try:
        con.execute(
            f"COPY ({select_sql}) TO {duck.sql_string(str(path))} "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
        )
        columns = describe(con, path)
        nulls = con.execute(
            "SELECT "
            + ", ".join(f"count(*) - count({duck.sql_ident(n)})" for n, _ in columns)
            + f", count(*) FROM read_parquet({duck.sql_string(str(path))})"
        ).fetchone()
    finally:
        con.close()
    assert nulls is not None
    fields = [
        {"name": n, "type": table_schema_type(t), "duckdb_type": t, "nullable": nulls[i] > 0}
        for i, (n, t) in enumerate(columns)
    ]
    return Table.from_schema(
        path, sha256=f"sha-{name}", row_count=int(nulls[-1]), table_schema={"fields": fields}
    )


OLD_SQL = "SELECT 1 AS id, 'alt' AS ort"


def luft_hub(hub: Hub) -> Hub:
    """luft: version 1 (one row) and version 2 (LUFT_SQL, current); plain (no geometry),
    published; entwurf, a hidden draft."""
    publish_sql(hub, "luft", OLD_SQL)
    publish_sql(hub, "luft", LUFT_SQL)
    add_version(hub, "luft", "SELECT 2 AS id")  # version 3, never published
    publish_sql(hub, "plain", PLAIN_SQL)
    add_version(hub, "entwurf", PLAIN_SQL)  # a draft: hidden
    return hub


def module_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    """A hub with :func:`luft_hub` data, built once per test module and catalog backend.

    For modules whose tests only read: building versions costs about a second per hub (a
    DuckDB instance with spatial per data directory), too much to repeat for every test.
    """
    directory = tmp_path_factory.mktemp("hub")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'datenschatz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        clean_postgres(url)
    return luft_hub(make_hub(directory / "data", url))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def luft_rows() -> list[dict[str, Any]]:
    """LUFT_SQL computed in Python, for expected results."""
    names = {0: "Herne Mitte", 1: "Wanne-Eickel", 2: "Sodingen"}
    return [
        {
            "id": i,
            "station": i % 7,
            "pm10": None if i % 10 == 9 else i * 0.25,
            "ort": names[i % 3],
            "klasse": None if i % 5 == 0 else i % 4,
            "gerade": i % 2 == 0,
            "x": 7.1 + (i % 100) / 1000,
            "y": 51.5 + (i // 100) / 1000,
        }
        for i in range(1000)
    ]
