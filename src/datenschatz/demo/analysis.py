"""The demo's derived dataset and measure: rooftop PV headroom per grid area, and Tempo 30.

Both go through the same paths as a steward's work: the recipe through ``recipe run`` and
the release checks (privacy gate included), the measure through ``measure evaluate``.
"""

from __future__ import annotations

from datenschatz.access.policy import system_admin
from datenschatz.analysis.measures import create_measure, evaluate_measure, parse_spec
from datenschatz.analysis.recipes import create_recipe, run_recipe, show_recipe
from datenschatz.catalog.datasets import VersionInfo, get_dataset
from datenschatz.demo import synthetic
from datenschatz.demo.catalog_metadata import describe_dataset
from datenschatz.hub import Hub
from datenschatz.privacy.service import confirm_roles_as
from datenschatz.services.publish import publish

ACTOR = "demo"
DEMO = system_admin(ACTOR)

PV_RECIPE = """\
# Where can rooftop PV grow without grid expansion? One row per local substation area.
output: pv-ausbaureserve-netzgebiete
title: PV-Ausbaureserve je Ortsnetzstation (abgeleitet, synthetische Eingangsdaten)
description: >-
  Je Versorgungsgebiet einer Ortsnetzstation: PV-Potenzial der Dächer laut Solarkataster,
  vorhandene PV-Leistung (Herner Gesamtleistung aus dem Marktstammdatenregister, nach
  Potenzial auf die Gebiete verteilt), freie Netzkapazität und der Anteil des verbleibenden
  Potenzials, den das Netz heute aufnehmen könnte.
org: stadtwerke-herne
inputs:
  b: solarkataster-herne
  g: netzgebiete-ortsnetzstationen-herne
  e: erneuerbare-energien-leistung-2024
sql: |
  WITH potenzial AS (
      SELECT g.station_id,
             any_value(g.stadtbezirk) AS stadtbezirk,
             any_value(g.freie_kapazitaet_kw) AS netzreserve_kw,
             coalesce(sum(b.leistung_kwp), 0) AS potenzial_kwp,
             any_value(g.geometry) AS geometry
      FROM g LEFT JOIN b ON ST_Within(ST_Centroid(b.geometry), g.geometry)
      GROUP BY g.station_id
  ),
  bestand AS (SELECT pv AS kw FROM e WHERE ags = '05916000'),
  summe AS (SELECT sum(potenzial_kwp) AS kwp FROM potenzial)
  SELECT p.station_id,
         p.stadtbezirk,
         round(p.potenzial_kwp, 1) AS potenzial_kwp,
         round(bestand.kw * p.potenzial_kwp / nullif(summe.kwp, 0), 1) AS bestand_kwp,
         p.netzreserve_kw,
         round(100 * least(1, p.netzreserve_kw / nullif(
             p.potenzial_kwp - bestand.kw * p.potenzial_kwp / nullif(summe.kwp, 0), 0)), 1)
             AS aufnehmbar_prozent,
         p.geometry
  FROM potenzial AS p, bestand, summe
  ORDER BY p.station_id
"""

MEASURE = {
    "name": "tempo30-bahnhofstrasse",
    "title": "Tempo 30 auf der Bahnhofstraße (Demo)",
    "description": (
        "Tempo 30 auf der Herner Bahnhofstraße seit dem 01.04.2024, gegen Feinstaub. "
        "Vergleich: zwei Dortmunder Verkehrsstationen ohne Maßnahme. Synthetische Daten mit "
        "einer eingebauten Wirkung von -4 µg/m³."
    ),
    "decided": "2024-02-20",
    "start": synthetic.PM10_MEASURE_START.isoformat(),
    "indicator": {
        "dataset": "pm10-messstationen",
        "time": "tag",
        "value": "pm10_ug_m3",
        "group": "station",
    },
    "treated": [s for s, _, treated, _ in synthetic.PM10_STATIONS if treated],
    "control": [s for s, _, treated, _ in synthetic.PM10_STATIONS if not treated],
    "expected": "decrease",
    "unit": "µg/m³",
    "informed_by": ["pm10-messstationen", "feinstaub-sensor-bochum"],
}


def load_recipe(hub: Hub) -> VersionInfo:
    """Save and run the PV recipe (again only when stale), and publish its output."""
    create_recipe(hub, DEMO, PV_RECIPE, source="demo")
    with hub.session() as session:
        stale = show_recipe(session, DEMO, "pv-ausbaureserve-netzgebiete")["stale"]
    if stale:
        run_recipe(hub, DEMO, "pv-ausbaureserve-netzgebiete")
    with hub.session() as session:
        dataset = get_dataset(session, "pv-ausbaureserve-netzgebiete")
        describe_dataset(
            session,
            dataset,
            keywords=["Photovoltaik", "Stromnetz", "Netzkapazität", "Energiewende"],
            licence="dl-by-de/2.0",
            provenance="Abgeleitet per Rezept aus Solarkataster, Netzgebieten und MaStR-Summen.",
        )
        published = dataset.published_version
        newest = dataset.versions[-1]
        if published is not None and published.id == newest.id:
            return VersionInfo.of(published)
    confirm_roles_as(hub, "pv-ausbaureserve-netzgebiete", {}, actor=ACTOR)
    return publish(hub, "pv-ausbaureserve-netzgebiete", actor=ACTOR)


def load_measure(hub: Hub) -> None:
    """Record the Tempo 30 measure and evaluate it once."""
    with hub.session() as session:
        create_measure(session, DEMO, parse_spec(MEASURE), replace=True)
    evaluate_measure(hub, DEMO, str(MEASURE["name"]))
