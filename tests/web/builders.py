"""The catalog the web tests look at: time series, geodata, context districts, a draft, an
internal and a withdrawn dataset, two versions, and enough datasets for two search pages."""

from __future__ import annotations

from datetime import UTC, datetime

from datenschatz.access.policy import Principal, Role
from datenschatz.analysis.measures import create_measure, evaluate_measure, parse_spec
from datenschatz.catalog.metadata import update_metadata
from datenschatz.db.models import AccessLevel, Dataset
from datenschatz.governance.challenges import create_challenge, publish_challenge
from datenschatz.governance.releases import withdraw
from datenschatz.hub import Hub
from datenschatz.sensors import service as sensors
from datenschatz.services.publish import publish
from tests.helpers import add_version
from tests.sensors.builders import station

ADMIN = Principal(name="admin", user_id=None, roles=frozenset({Role.ADMIN}))
HOSTILE = "Orte <script>alert(1)</script>"
NUMBERED = 11  # zahlen-01 .. zahlen-11: with the others more than one search page

LUFT_V1 = """
SELECT 'S' || (range % 3) AS station,
       TIMESTAMP '2024-01-01' + INTERVAL (range * 4) HOUR AS zeit,
       CAST(10 + (range % 24) AS DOUBLE) AS pm10
FROM range(240)
"""
LUFT_V2 = """
SELECT 'S' || (range % 3) AS station,
       TIMESTAMP '2024-01-01' + INTERVAL (range * 4) HOUR AS zeit,
       CAST(10 + (range % 24) AS DOUBLE) AS pm10,
       CAST(range % 7 AS DOUBLE) AS no2
FROM range(300)
"""
ORTE = """
SELECT 1 AS nr, 'Rathaus Herne' AS name,
       ST_SetCRS(ST_Point(7.2197, 51.5389), 'EPSG:4326') AS geometry
UNION ALL
SELECT 2, 'Schloss Strünkede <b>fett</b>', ST_SetCRS(ST_Point(7.2125, 51.5532), 'EPSG:4326')
UNION ALL SELECT 3, 'Akademie Mont-Cenis', ST_SetCRS(ST_Point(7.2281, 51.5306), 'EPSG:4326')
"""
BEZIRKE = """
SELECT range AS nr, 'Bezirk ' || range AS bezirk,
       ST_SetCRS(ST_MakeEnvelope(7.15 + range * 0.03, 51.50, 7.18 + range * 0.03, 51.57),
                 'EPSG:4326') AS geometry
FROM range(4)
"""


def _publish(hub: Hub, slug: str, sql: str, **metadata: object) -> None:
    add_version(hub, slug, sql, org="stadt-herne")
    publish(hub, slug, actor="test")
    if metadata:
        with hub.session() as session:
            update_metadata(session, ADMIN, slug, dict(metadata))


def build(hub: Hub) -> Hub:
    _publish(hub, "luftmessung", LUFT_V1, themes=["ENVI"], accrual_periodicity="DAILY")
    add_version(hub, "luftmessung", LUFT_V2, org="stadt-herne")
    publish(hub, "luftmessung", actor="test")
    _publish(hub, "orte", ORTE, themes=["REGI"])
    _publish(hub, "stadtbezirke-herne", BEZIRKE, themes=["REGI"])
    for n in range(1, NUMBERED + 1):
        _publish(hub, f"zahlen-{n:02d}", f"SELECT range AS n, range * {n} AS wert FROM range(5)")
    add_version(hub, "entwurf", "SELECT 1 AS n", org="stadt-herne")
    add_version(hub, "dortmund-entwurf", "SELECT 1 AS n", org="stadt-dortmund")
    _publish(hub, "intern", "SELECT 1 AS n")
    _publish(hub, "alt", "SELECT 1 AS n")
    withdraw(hub, ADMIN, "alt", reason="Ersetzt durch luftmessung")
    with hub.session() as session:
        orte = session.query(Dataset).filter_by(slug="orte").one()
        orte.title = HOSTILE
        session.query(Dataset).filter_by(slug="intern").one().access_level = AccessLevel.INTERNAL
    _sensors(hub)
    _measure(hub)
    _challenge(hub)
    return hub


def _sensors(hub: Hub) -> None:
    """Two stations; the first with two PM10 readings (the latest is 17.25 µg/m³)."""
    mitte = station("Station Herne Mitte", 7.22, 51.54)
    mitte["Datastreams"][0]["Observations"] = [
        {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 21.5},
        {"phenomenonTime": "2024-05-01T11:00:00Z", "result": 17.25},
    ]
    with hub.session() as session:
        sensors.create_entity(session, "Things", mitte, base_url="http://test/sta/v1.1")
        sensors.create_entity(
            session, "Things", station("Station Wanne", 7.16, 51.53), base_url="http://t/sta/v1.1"
        )


MEASURE = {
    "name": "tempo-30-test",
    "title": "Tempo 30 an S0",
    "description": "Testmaßnahme an der Station S0.",
    "start": "2024-01-25",
    "indicator": {"dataset": "luftmessung", "time": "zeit", "value": "pm10", "group": "station"},
    "treated": ["S0"],
    "control": ["S1", "S2"],
    "unit": "µg/m³",
}


def _measure(hub: Hub) -> None:
    with hub.session() as session:
        create_measure(session, ADMIN, parse_spec(MEASURE))
    evaluate_measure(hub, ADMIN, "tempo-30-test")


def _challenge(hub: Hub) -> None:
    with hub.session() as session:
        create_challenge(
            session,
            ADMIN,
            slug="saubere-luft",
            title="Saubere Luft",
            question="Wie sagen wir Feinstaubspitzen einen Tag voraus?",
            terms="Nur für die Challenge nutzen.",
            datasets=["luftmessung"],
            criteria=[{"name": "Nutzen", "weight": 2, "description": "für die Stadt"}],
            applications_close_at=datetime(2027, 1, 1, tzinfo=UTC),
            access_ends_at=datetime(2027, 6, 1, tzinfo=UTC),
        )
        publish_challenge(session, ADMIN, "saubere-luft")
