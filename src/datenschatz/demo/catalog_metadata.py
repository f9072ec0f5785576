"""DCAT-AP.de metadata of the demo: publishers' details and every demo dataset's description.

Applied by the demo loader after each dataset is described, so that the demo catalog is
complete and validates against the DCAT-AP.de shapes. Contacts are the publishers' public
web sites (no invented e-mail addresses). Geocoding names the municipality a dataset covers
where it covers one (Herne 05916000, Dortmund 05913000); nation-wide lists and the Bochum
sensor station carry none.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.catalog.metadata import apply_metadata
from datenschatz.catalog.organizations import describe_organization
from datenschatz.db.models import Dataset, Organization

ORGANIZATION_DETAILS: Final[dict[str, dict[str, Any]]] = {
    "stadt-herne": {
        "description": "Stadtverwaltung Herne: Geodaten, Statistik, Umwelt und Verkehr.",
        "homepage": "https://www.herne.de/",
        "contributor_id": "openNRW",
        "municipality_key": "05916000",
    },
    "stadtwerke-herne": {
        "description": "Stadtwerke Herne AG: Strom, Gas, Wasser und Netze in Herne.",
        "homepage": "https://www.stadtwerke-herne.de/",
        "contributor_id": "openNRW",
        "municipality_key": "05916000",
    },
    "stadt-dortmund": {
        "description": "Stadt Dortmund, Nachbarstadt im Ruhrgebiet.",
        "homepage": "https://www.dortmund.de/",
        "contributor_id": "openNRW",
        "municipality_key": "05913000",
    },
}

_HERNE: Final = {"name": "Open-Data-Team der Stadt Herne", "url": "https://www.herne.de/"}
_STADTWERKE: Final = {
    "name": "Stadtwerke Herne, Datenteam",
    "url": "https://www.stadtwerke-herne.de/",
}
_DORTMUND: Final = {"name": "Stadt Dortmund, Open Data", "url": "https://www.dortmund.de/"}
_NRW: Final = "openNRW"


def _meta(
    title_en: str,
    description_en: str,
    themes: list[str],
    frequency: str,
    contact: dict[str, str],
    geocoding: list[str] | None = None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "title_en": title_en,
        "description_en": description_en,
        "themes": themes,
        "accrual_periodicity": frequency,
        "contact": contact,
        "contributor_id": _NRW,
        "geocoding": geocoding or [],
        **more,
    }


DATASET_METADATA: Final[dict[str, dict[str, Any]]] = {
    "pm10-messstationen": _meta(
        "Daily PM10 means at four traffic stations in Herne and Dortmund (synthetic)",
        "Daily mean PM10 concentration in µg/m³ at two stations on Herne's Bahnhofstraße and "
        "two comparison stations in Dortmund, April 2023 to November 2024; the indicator of "
        "the demo measure 'Tempo 30 Bahnhofstraße'.",
        ["ENVI", "HEAL", "TRAN"],
        "DAILY",
        _HERNE,
        ["05916000", "05913000"],
    ),
    "pv-ausbaureserve-netzgebiete": _meta(
        "Rooftop PV headroom per local substation area in Herne (derived, synthetic inputs)",
        "Per supply area of a local substation: rooftop PV potential from the solar cadastre, "
        "existing PV capacity distributed from the municipal total, the grid's free capacity, "
        "and the share of the remaining potential the grid could take today. Computed by a "
        "recipe; its inputs are listed in the lineage.",
        ["ENER", "ENVI"],
        "IRREG",
        _STADTWERKE,
        ["05916000"],
    ),
    "feinstaub-sensor-bochum": _meta(
        "Particulate matter (PM10, PM2.5) from a citizen sensor in Bochum, 2021-04-26",
        "Readings of an SDS011 particulate matter sensor of the sensor.community network at "
        "a station in Bochum on 26 April 2021; reference data from the neighbouring city.",
        ["ENVI", "HEAL"],
        "NEVER",
        _HERNE,
        issued="2021-04-27",
    ),
    "temperatur-luftfeuchte-sensor-bochum": _meta(
        "Temperature and humidity from a citizen sensor in Bochum, 2021-04-26",
        "Readings of a DHT22 sensor (temperature, relative humidity) at the same "
        "sensor.community station in Bochum on 26 April 2021.",
        ["ENVI"],
        "NEVER",
        _HERNE,
        issued="2021-04-27",
    ),
    "erneuerbare-energien-leistung-2024": _meta(
        "Installed renewable energy capacity per municipality, 2024",
        "Installed capacity in kW per official municipality key for photovoltaics, onshore "
        "wind, biomass and hydro power, summed from the German market master data register.",
        ["ENER", "REGI"],
        "ANNUAL",
        _HERNE,
    ),
    "bevoelkerung-gemeinden-2021": _meta(
        "Population per municipality, 2021",
        "Inhabitants per official municipality key for Germany, its states, districts and "
        "municipalities (Destatis, 2021).",
        ["SOCI", "REGI"],
        "ANNUAL",
        _HERNE,
    ),
    "gemeindeschluessel-2021": _meta(
        "Official municipality keys (AGS) and names, 2021",
        "Directory of official municipality keys with the names of states, districts and "
        "municipalities (Destatis, 2021).",
        ["REGI", "GOVE"],
        "ANNUAL",
        _HERNE,
    ),
    "parkhaeuser-dortmund": _meta(
        "Multi-storey and underground car parks in Dortmund city centre",
        "19 car parks of Dortmund city centre with name, number of spaces, address and "
        "kind, from the city's parking guidance system; WGS84.",
        ["TRAN"],
        "IRREG",
        _DORTMUND,
        ["05913000"],
    ),
    "kreise-deutschland": _meta(
        "Districts and district-free cities of Germany (simplified)",
        "Boundaries of the 434 districts and district-free cities of Germany as simplified "
        "polygons in WGS84 with state, administrative region and district names.",
        ["REGI", "GOVE"],
        "NOT_PLANNED",
        _HERNE,
    ),
    "stadtbezirke-herne": _meta(
        "City districts of Herne (synthetic)",
        "The four city districts of Herne as polygons in WGS84 with number and area; the "
        "district boundaries are invented. Synthetic demo data.",
        ["REGI", "GOVE"],
        "IRREG",
        _HERNE,
        ["05916000"],
    ),
    "solarkataster-herne": _meta(
        "Solar potential cadastre of Herne: roofs (synthetic)",
        "Solar potential of 3,000 roofs: footprint, roof shape, pitch, orientation, suitable "
        "area, possible PV capacity in kWp and yearly yield in kWh. Synthetic demo data.",
        ["ENER", "ENVI"],
        "ANNUAL",
        _HERNE,
        ["05916000"],
    ),
    "netzgebiete-ortsnetzstationen-herne": _meta(
        "Supply areas of local substations with grid capacity (synthetic)",
        "Supply areas of the local substations of the electricity distribution grid with "
        "transformer rating, peak load, free capacity and utilisation. Synthetic demo data.",
        ["ENER"],
        "QUARTERLY",
        _STADTWERKE,
        ["05916000"],
    ),
    "verbrauch-strom-gas-wasser-bezirke": _meta(
        "Monthly electricity, gas and water consumption per city district, 2022-2024 (synthetic)",
        "Summed consumption per month, district and customer group, each group with at "
        "least five households. Synthetic demo data.",
        ["ENER", "ENVI"],
        "MONTHLY",
        _STADTWERKE,
        ["05916000"],
    ),
    "abfallbehaelter-standorte": _meta(
        "Locations of recycling containers with fill-level sensors (synthetic)",
        "Locations of 50 glass, paper and clothes containers with fill-level sensor: kind, "
        "volume, district and emptying day; WGS84. Synthetic demo data.",
        ["ENVI"],
        "IRREG",
        _HERNE,
        ["05916000"],
    ),
    "abfallbehaelter-fuellstaende": _meta(
        "Fill levels of the recycling containers, hourly (synthetic)",
        "Hourly fill-level readings in percent of the 50 containers over three weeks in "
        "October and November 2024; some readings are missing. Synthetic demo data.",
        ["ENVI"],
        "HOURLY",
        _HERNE,
        ["05916000"],
    ),
}


def describe_organizations(session: Session) -> None:
    """Give the demo organizations their details."""
    for slug, details in ORGANIZATION_DETAILS.items():
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        if org is not None:
            describe_organization(session, org, details)


def describe_dataset(
    session: Session, dataset: Dataset, *, keywords: list[str], licence: str, provenance: str
) -> None:
    """Set the complete metadata of one demo dataset (as the demo actor)."""
    changes = {
        **DATASET_METADATA.get(dataset.slug, {}),
        "keywords": keywords,
        "licence": licence,
        "provenance": provenance,
    }
    apply_metadata(session, dataset, changes, actor="demo")
