"""Load the demo data into a hub: real open data shipped in ``demo/files`` plus seeded synthetic
data for Herne, each ingested through the normal pipeline and published.

Running it again changes nothing: a dataset whose newest version came from a file with the same
SHA-256 is not ingested again (the synthetic files are byte-identical for the same seed).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from datenschatz.catalog.datasets import VersionInfo, get_or_create_org
from datenschatz.db.models import Dataset, OrganizationType, Version
from datenschatz.demo import synthetic
from datenschatz.demo.catalog_metadata import describe_dataset, describe_organizations
from datenschatz.hub import Hub
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.privacy.service import confirm_roles_as
from datenschatz.services.publish import publish
from datenschatz.store.versions import sha256_file

Progress = Callable[[str], None]
ACTOR = "demo"

ORGANIZATIONS: tuple[tuple[str, str, OrganizationType], ...] = (
    ("stadt-herne", "Stadt Herne", OrganizationType.CITY),
    ("stadtwerke-herne", "Stadtwerke Herne", OrganizationType.UTILITY),
    ("stadt-dortmund", "Stadt Dortmund", OrganizationType.CITY),
)

SYNTHETIC_LICENSE = "dl-by-de/2.0"
SYNTHETIC_NOTE = (
    "Synthetische Demodaten: erzeugt vom Datenschatz-Demogenerator, keine echten Messwerte "
    "oder Bestandsdaten der Stadt Herne oder der Stadtwerke Herne."
)


@dataclass(frozen=True)
class DemoDataset:
    """One demo dataset: where its file comes from and how it is described."""

    slug: str
    org: str
    title: str
    description: str
    file: str  # a name in demo/files, or a key of synthetic.SYNTHETIC_FILES
    keywords: tuple[str, ...]
    synthetic: bool = False
    source: str = ""  # as SOURCES.md states it (real data only)
    source_url: str = ""
    license: str = ""  # DCAT-AP.de licence id
    license_text: str = ""  # the licence as SOURCES.md states it
    extra: dict[str, Any] = field(default_factory=dict)
    # Column roles for the privacy gate where the gate's proposal is not right.
    roles: dict[str, str] = field(default_factory=dict)

    def metadata(self, seed: int) -> dict[str, Any]:
        """The ``extra`` metadata handed to ingest."""
        meta: dict[str, Any] = {
            "description": self.description,
            "keywords": list(self.keywords),
            "synthetic": self.synthetic,
            "license": self.license or SYNTHETIC_LICENSE,
        }
        if self.synthetic:
            meta.update(
                generator=synthetic.GENERATOR,
                seed=seed,
                license_text="Datenlizenz Deutschland Namensnennung 2.0",
                source=SYNTHETIC_NOTE,
            )
        else:
            meta.update(
                source=self.source, source_url=self.source_url, license_text=self.license_text
            )
        return {**meta, **self.extra}


_SENSOR_COMMUNITY_SOURCE = "GitHub wabbyn/Feinstaubstation-uebung. (commit 28d8ad9b)"
_SENSOR_COMMUNITY_URL = "https://github.com/wabbyn/Feinstaubstation-uebung"
_SENSOR_COMMUNITY_LICENSE = "sensor.community: ODbL 1.0 (database), DbCL 1.0 (contents)"
_LOCALZERO = "https://github.com/GermanZero-de/localzero-data-public"

REAL_DATASETS: tuple[DemoDataset, ...] = (
    DemoDataset(
        slug="feinstaub-sensor-bochum",
        org="stadt-herne",
        title="Feinstaub (PM10, PM2,5) vom Bürgersensor in Bochum, 26.04.2021",
        description=(
            "Messwerte eines SDS011-Feinstaubsensors des Bürgermessnetzes sensor.community an "
            "einer Station in Bochum (51,482 N, 7,224 O) vom 26. April 2021: P1 = PM10, "
            "P2 = PM2,5 in µg/m³, Zeitstempel in UTC ohne Zeitzonenangabe. Referenzdaten aus der "
            "Nachbarstadt für Vergleiche mit Herner Messungen."
        ),
        file="2021-04-26_sds011_sensor_3659.csv",
        keywords=("Feinstaub", "Luftqualität", "PM10", "PM2,5", "sensor.community", "Umwelt"),
        source=_SENSOR_COMMUNITY_SOURCE,
        source_url=_SENSOR_COMMUNITY_URL,
        license="odbl",
        license_text=_SENSOR_COMMUNITY_LICENSE,
    ),
    DemoDataset(
        slug="temperatur-luftfeuchte-sensor-bochum",
        org="stadt-herne",
        title="Temperatur und Luftfeuchte vom Bürgersensor in Bochum, 26.04.2021",
        description=(
            "Messwerte des DHT22-Sensors (Temperatur in °C, relative Luftfeuchte in %) an "
            "derselben sensor.community-Station in Bochum wie der Feinstaubsensor, "
            "26. April 2021, Zeitstempel in UTC."
        ),
        file="2021-04-26_dht22_sensor_3660.csv",
        keywords=("Temperatur", "Luftfeuchte", "Wetter", "sensor.community", "Umwelt"),
        source=_SENSOR_COMMUNITY_SOURCE,
        source_url=_SENSOR_COMMUNITY_URL,
        license="odbl",
        license_text=_SENSOR_COMMUNITY_LICENSE,
    ),
    DemoDataset(
        slug="erneuerbare-energien-leistung-2024",
        org="stadt-herne",
        title="Installierte Leistung erneuerbarer Energien je Gemeinde 2024",
        description=(
            "Installierte Leistung in kW je amtlichem Gemeindeschlüssel (AGS) für Photovoltaik, "
            "Windenergie an Land, Biomasse und Wasserkraft, summiert aus dem "
            "Marktstammdatenregister; Bund, Länder, Kreise und Gemeinden. Herne: 05916000."
        ),
        file="renewable_energy_2024.csv",
        keywords=("Energie", "Photovoltaik", "Windenergie", "Marktstammdatenregister", "AGS"),
        source=(
            "GitHub GermanZero-de/localzero-data-public, renewable_energy/2024.csv "
            "(commit 3d59d93d)"
        ),
        source_url=_LOCALZERO,
        license="dl-by-de/2.0",
        license_text="upstream BNetzA MaStR, dl-de/by-2-0; the repository states no licence",
    ),
    DemoDataset(
        slug="bevoelkerung-gemeinden-2021",
        org="stadt-herne",
        title="Bevölkerung je Gemeinde 2021",
        description=(
            "Einwohnerzahl je amtlichem Gemeindeschlüssel (AGS) für Bund, Länder, Kreise und "
            "Gemeinden, Stand 2021 (Destatis)."
        ),
        file="population_2021.csv",
        keywords=("Bevölkerung", "Einwohner", "Statistik", "AGS"),
        source="GitHub GermanZero-de/localzero-data-public, population/2021.csv (commit 3d59d93d)",
        source_url=_LOCALZERO,
        license="dl-by-de/2.0",
        license_text="upstream Destatis, dl-de/by-2-0; the repository states no licence",
    ),
    DemoDataset(
        slug="gemeindeschluessel-2021",
        org="stadt-herne",
        title="Amtliche Gemeindeschlüssel (AGS) und Gemeindenamen 2021",
        description=(
            "Verzeichnis der amtlichen Gemeindeschlüssel mit Namen der Gebietseinheiten "
            "(Länder, Kreise, Gemeinden), Stand 2021 (Destatis)."
        ),
        file="ags_2021.csv",
        keywords=("Gemeindeschlüssel", "AGS", "Verwaltungsgliederung", "Statistik"),
        source="GitHub GermanZero-de/localzero-data-public, ags/2021.csv (commit 3d59d93d)",
        source_url=_LOCALZERO,
        license="dl-by-de/2.0",
        license_text="upstream Destatis, dl-de/by-2-0; the repository states no licence",
    ),
    DemoDataset(
        slug="parkhaeuser-dortmund",
        org="stadt-dortmund",
        title="Parkhäuser und Tiefgaragen in der Dortmunder Innenstadt",
        description=(
            "19 Parkhäuser und Tiefgaragen der Dortmunder City mit Name, Stellplatzzahl, "
            "Adresse und Art, dazu ein Punkt für die Stadt; Angaben aus dem "
            "Parkleitsystem der Stadt Dortmund, WGS84."
        ),
        file="Dortmund.geojson",
        keywords=("Parken", "Parkhaus", "Verkehr", "Mobilität", "Dortmund"),
        source="GitHub offenesdresden/ParkAPI, park_api/cities/Dortmund.geojson (commit b1f8a330)",
        source_url="https://github.com/offenesdresden/ParkAPI",
        license="other-open",
        license_text="MIT; facts from Stadt Dortmund's parking guidance system",
        # Names and addresses of public car parks, not of people.
        roles={
            "name": "public_key",
            "address": "public_key",
            "type": "public_key",
            "url": "public_key",
            "source": "public_key",
            "geometry": "public_key",
        },
    ),
    DemoDataset(
        slug="kreise-deutschland",
        org="stadt-herne",
        title="Kreise und kreisfreie Städte in Deutschland (vereinfacht)",
        description=(
            "Grenzen der 434 Landkreise und kreisfreien Städte Deutschlands als vereinfachte "
            "Polygone in WGS84, mit Namen von Land, Regierungsbezirk und Kreis; ohne amtlichen "
            "Schlüssel. Datengrundlage diva-gis/GADM."
        ),
        file="3_mittel.geo.json",
        keywords=("Verwaltungsgrenzen", "Kreise", "Geodaten", "Deutschland"),
        source="GitHub isellsoap/deutschlandGeoJSON, 4_kreise/3_mittel.geo.json (commit 4090d4e1)",
        source_url="https://github.com/isellsoap/deutschlandGeoJSON",
        license="other-open",
        license_text="Unlicense (public domain); data from diva-gis/GADM",
    ),
)

SYNTHETIC_DATASETS: tuple[DemoDataset, ...] = (
    DemoDataset(
        slug="stadtbezirke-herne",
        org="stadt-herne",
        title="Stadtbezirke Herne (synthetisch)",
        description=(
            "Die vier Stadtbezirke Herne-Mitte, Wanne, Eickel und Sodingen als Polygone in "
            "WGS84 mit Bezirksnummer und Fläche. Die Außengrenze folgt der vereinfachten "
            "Stadtgrenze, die Bezirksgrenzen sind erfunden. " + SYNTHETIC_NOTE
        ),
        file="districts",
        keywords=("Stadtbezirke", "Verwaltungsgrenzen", "Geodaten", "Herne"),
        synthetic=True,
    ),
    DemoDataset(
        slug="solarkataster-herne",
        org="stadt-herne",
        title="Solarpotenzialkataster Herne: Dachflächen (synthetisch)",
        description=(
            "Solarpotenzial von 3.000 Gebäudedächern: Gebäudegrundriss, Dachform, Neigung, "
            "Ausrichtung, Dachfläche und geeignete Fläche in m², mögliche PV-Leistung in kWp, "
            "erwarteter Jahresertrag in kWh und Eignungsklasse, je Stadtbezirk. "
            "Quelldatei in ETRS89 / UTM Zone 32N (EPSG:25832). " + SYNTHETIC_NOTE
        ),
        file="solar",
        keywords=("Solarkataster", "Photovoltaik", "Dachflächen", "Energie", "Klimaschutz"),
        synthetic=True,
    ),
    DemoDataset(
        slug="netzgebiete-ortsnetzstationen-herne",
        org="stadtwerke-herne",
        title="Versorgungsgebiete der Ortsnetzstationen mit Netzkapazität (synthetisch)",
        description=(
            "Versorgungsgebiete der Ortsnetzstationen im Stromverteilnetz mit "
            "Transformator-Nennleistung in kVA, Spitzenlast und freier Kapazität in kW sowie "
            "Auslastung in Prozent, je Stadtbezirk. " + SYNTHETIC_NOTE
        ),
        file="grid",
        keywords=("Stromnetz", "Ortsnetzstation", "Netzkapazität", "Energie", "Stadtwerke"),
        synthetic=True,
    ),
    DemoDataset(
        slug="verbrauch-strom-gas-wasser-bezirke",
        org="stadtwerke-herne",
        title=(
            "Monatlicher Strom-, Gas- und Wasserverbrauch je Stadtbezirk 2022 bis 2024 "
            "(synthetisch)"
        ),
        description=(
            "Summierter Verbrauch von Strom und Gas in kWh und Wasser in m³ je Monat, "
            "Stadtbezirk und Kundengruppe, mit Anzahl der Haushalte je Gruppe (mindestens 5, "
            "Mindestgruppengröße nach § 52 Abs. 3 MsbG). CSV im deutschen Format: Semikolon, "
            "Dezimalkomma, Datum TT.MM.JJJJ. " + SYNTHETIC_NOTE
        ),
        file="consumption",
        keywords=("Energieverbrauch", "Strom", "Gas", "Wasser", "Stadtwerke"),
        synthetic=True,
        extra={"min_group_size": synthetic.MIN_HOUSEHOLDS},
    ),
    DemoDataset(
        slug="abfallbehaelter-standorte",
        org="stadt-herne",
        title="Standorte der Sammelcontainer mit Füllstandsensor (synthetisch)",
        description=(
            "Standorte von 50 Altglas-, Altpapier- und Altkleidercontainern mit "
            "Füllstandsensor: Art, Volumen in Litern, Stadtbezirk und Leerungstag, WGS84. "
            + SYNTHETIC_NOTE
        ),
        file="containers",
        keywords=("Abfall", "Wertstoffcontainer", "Sensor", "Smart City"),
        synthetic=True,
    ),
    DemoDataset(
        slug="abfallbehaelter-fuellstaende",
        org="stadt-herne",
        title="Füllstände der Sammelcontainer, stündlich (synthetisch)",
        description=(
            "Stündliche Füllstandsmessungen in Prozent der 50 Sammelcontainer über drei "
            "Wochen (14.10. bis 03.11.2024, über die Umstellung auf Winterzeit), Zeitstempel "
            "nach ISO 8601 mit UTC-Versatz; einzelne Messungen fehlen. " + SYNTHETIC_NOTE
        ),
        file="fill_levels",
        keywords=("Abfall", "Füllstand", "Sensor", "Zeitreihe", "Smart City"),
        synthetic=True,
    ),
    DemoDataset(
        slug="pm10-messstationen",
        org="stadt-herne",
        title="PM10-Tagesmittel an vier Verkehrsmessstationen in Herne und Dortmund (synthetisch)",
        description=(
            "Tagesmittel der Feinstaubkonzentration PM10 in µg/m³ an zwei Stationen an der "
            "Herner Bahnhofstraße und zwei Vergleichsstationen in Dortmund, April 2023 bis "
            "November 2024. Grundlage der Demo-Maßnahme Tempo 30 Bahnhofstraße (ab "
            "01.04.2024). " + SYNTHETIC_NOTE
        ),
        file="pm10",
        keywords=("Feinstaub", "PM10", "Luftqualität", "Verkehr", "Zeitreihe"),
        synthetic=True,
    ),
)

DEMO_DATASETS = REAL_DATASETS + SYNTHETIC_DATASETS


# progress calls of one load_demo run: generation, each dataset, the recipe, the measure
DEMO_STEPS = len(DEMO_DATASETS) + 3


def _no_progress(_message: str) -> None:
    return None


def load_demo(
    hub: Hub, *, progress: Progress = _no_progress, seed: int = synthetic.SEED
) -> list[VersionInfo]:
    """Ingest and publish every demo dataset; returns the published version of each.

    ``progress`` is called :data:`DEMO_STEPS` times, each time a step starts. The hub's database
    must be migrated. Errors of ingest or publish propagate unchanged; datasets loaded before
    the error stay loaded, and a new run continues where it stopped.
    """
    with hub.session() as session:
        for slug, name, org_type in ORGANIZATIONS:
            get_or_create_org(session, slug, name, org_type)
        describe_organizations(session)
    hub.store.ensure()
    results = []
    with tempfile.TemporaryDirectory(prefix="demo-", dir=hub.settings.tmp_dir) as tmp:
        progress("synthetische Daten erzeugen")
        generated = synthetic.generate_all(Path(tmp), seed=seed)
        for item in DEMO_DATASETS:
            path = generated[item.file].path if item.synthetic else synthetic.FILES / item.file
            results.append(_load_one(hub, item, path, seed, progress))
    from datenschatz.demo.analysis import load_measure, load_recipe

    progress("Rezept PV-Ausbaureserve")
    results.append(load_recipe(hub))
    progress("Maßnahme Tempo 30 auswerten")
    load_measure(hub)
    return results


def _load_one(
    hub: Hub, item: DemoDataset, path: Path, seed: int, progress: Progress
) -> VersionInfo:
    latest = _latest_version(hub, item.slug)
    if latest is not None and latest.source_sha256 == sha256_file(path):
        progress(f"{item.slug} (unverändert)")
        _describe(hub, item, seed)
        if latest.published:
            return latest.info
        confirm_roles_as(hub, item.slug, item.roles, actor=ACTOR)
        return publish(hub, item.slug, latest.number, actor=ACTOR)
    progress(f"{item.slug} einlesen")
    info = ingest_file(
        hub,
        path,
        dataset=item.slug,
        title=item.title,
        org=item.org,
        extra=item.metadata(seed),
        actor=ACTOR,
    )
    _describe(hub, item, seed)
    confirm_roles_as(hub, item.slug, item.roles, actor=ACTOR)
    return publish(hub, item.slug, info.number, actor=ACTOR)


def _describe(hub: Hub, item: DemoDataset, seed: int) -> None:
    """Bring title, description and metadata of the dataset up to date (no new version)."""
    with hub.session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.slug == item.slug))
        if dataset is None:
            return
        dataset.title = item.title
        dataset.description = item.description
        dataset.extra = {**dataset.extra, **item.metadata(seed)}
        describe_dataset(
            session,
            dataset,
            keywords=list(item.keywords),
            licence=item.license or SYNTHETIC_LICENSE,
            provenance=item.source or SYNTHETIC_NOTE,
        )


@dataclass(frozen=True)
class _Latest:
    number: int
    source_sha256: str
    published: bool
    info: VersionInfo


def _latest_version(hub: Hub, slug: str) -> _Latest | None:
    with hub.session() as session:
        version = session.scalar(
            select(Version)
            .join(Dataset, Version.dataset_id == Dataset.id)
            .where(Dataset.slug == slug)
            .order_by(Version.number.desc())
            .limit(1)
        )
        if version is None:
            return None
        info = VersionInfo.of(version)
        return _Latest(version.number, version.source_sha256, info.published, info)
