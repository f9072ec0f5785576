# ruff: noqa: E501, RUF001  (generated data: titles as the vocabularies spell them)
"""Controlled vocabularies of DCAT-AP.de, as plain data (generated once; see DATA_SOURCES.md).

Derived from ../shared/dcat-ap-de/vocabularies: dcat-ap-de/licenses-20200715.rdf (licence ids,
German titles, homepages), eu/data-theme-skos.rdf (EU data themes 20241211-0, German and English
labels), eu/frequency.rdf (EU frequency codes 20260617-0; the German labels are our own, the file
has none) and dcat-ap-de/contributors-20251021.rdf (contributor ids and names).
"""

from __future__ import annotations

from typing import NamedTuple

LICENCE_BASE = "http://dcat-ap.de/def/licenses/"
THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
CONTRIBUTOR_BASE = "http://dcat-ap.de/def/contributors/"
FILE_TYPE_BASE = "http://publications.europa.eu/resource/authority/file-type/"
MUNICIPALITY_BASE = "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/"


class Licence(NamedTuple):
    title: str
    url: str | None


class Theme(NamedTuple):
    de: str
    en: str


LICENCES: dict[str, Licence] = {
    "apache": Licence(
        "Freie Softwarelizenz der Apache Software Foundation", "http://www.apache.org/licenses"
    ),
    "bsd": Licence("BSD Lizenz", "http://www.opensource.org/licenses/bsd-license.php"),
    "cc-by": Licence(
        "Creative Commons Namensnennung (CC-BY)", "http://www.opendefinition.org/licenses/cc-by"
    ),
    "cc-by-de/3.0": Licence(
        "Creative Commons Namensnennung 3.0 Deutschland (CC BY 3.0 DE)",
        "https://creativecommons.org/licenses/by/3.0/de/",
    ),
    "cc-by-nc": Licence(
        "Creative Commons Namensnennung - Nicht kommerziell (CC BY-NC)",
        "http://creativecommons.org/licenses/by-nc/",
    ),
    "cc-by-nc-de/3.0": Licence(
        "Creative Commons Namensnennung-Nicht kommerziell 3.0 Deutschland (CC BY-NC 3.0 DE)",
        "https://creativecommons.org/licenses/by-nc/3.0/de/",
    ),
    "cc-by-nc/4.0": Licence(
        "Creative Commons Namensnennung - Nicht kommerziell 4.0 International (CC BY-NC 4.0)",
        "http://creativecommons.org/licenses/by-nc/4.0/",
    ),
    "cc-by-nd": Licence(
        "Creative Commons Namensnennung - Keine Bearbeitung (CC BY-ND)",
        "http://creativecommons.org/licenses/by-nd/3.0/",
    ),
    "cc-by-nd/3.0": Licence(
        "Creative Commons Namensnennung -- Keine Bearbeitung 3.0 Unported (CC BY-ND 3.0)",
        "http://creativecommons.org/licenses/by-nd/3.0/",
    ),
    "cc-by-nd/4.0": Licence(
        "Creative Commons Namensnennung - - Keine Bearbeitung 4.0 International (CC BY-ND 4.0)",
        "https://creativecommons.org/licenses/by-nd/4.0/",
    ),
    "cc-by-sa": Licence(
        "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen (CC-BY-SA)",
        "http://www.opendefinition.org/licenses/cc-by-sa",
    ),
    "cc-by-sa-de/3.0": Licence(
        "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 3.0 Deutschland (CC BY-SA 3.0 DE)",
        "https://creativecommons.org/licenses/by-sa/3.0/de/",
    ),
    "cc-by-sa/4.0": Licence(
        "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 4.0 International (CC-BY-SA 4.0)",
        "http://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "cc-by/4.0": Licence(
        "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)",
        "http://creativecommons.org/licenses/by/4.0/",
    ),
    "cc-zero": Licence(
        "Creative Commons CC Zero License (cc-zero)",
        "http://www.opendefinition.org/licenses/cc-zero",
    ),
    "ccpdm/1.0": Licence(
        "Public Domain Mark 1.0 (PDM)", "http://creativecommons.org/publicdomain/mark/1.0/"
    ),
    "dl-by-de/1.0": Licence(
        "Datenlizenz Deutschland Namensnennung 1.0", "https://www.govdata.de/dl-de/by-1-0"
    ),
    "dl-by-de/2.0": Licence(
        "Datenlizenz Deutschland Namensnennung 2.0", "https://www.govdata.de/dl-de/by-2-0"
    ),
    "dl-by-nc-de/1.0": Licence(
        "Datenlizenz Deutschland Namensnennung nicht-kommerziell 1.0",
        "https://www.govdata.de/dl-de/by-nc-1-0",
    ),
    "dl-zero-de/2.0": Licence(
        "Datenlizenz Deutschland – Zero – Version 2.0", "https://www.govdata.de/dl-de/zero-2-0"
    ),
    "geoNutz/20131001": Licence(
        "Nutzungsbestimmungen für die Bereitstellung von Geodaten des Landes Berlin",
        "http://www.stadtentwicklung.berlin.de/geoinformation/download/nutzIII.pdf",
    ),
    "geonutz/20130319": Licence(
        "Nutzungsbestimmungen für die Bereitstellung von Geodaten des Bundes",
        "https://sg.geodatenzentrum.de/web_public/gdz/lizenz/geonutzv.pdf",
    ),
    "gfdl": Licence(
        "GNU Free Documentation License (GFDL)", "http://www.opendefinition.org/licenses/gfdl"
    ),
    "gpl/3.0": Licence(
        "GNU General Public License version 3.0 (GPLv3)",
        "http://www.opensource.org/licenses/gpl-3.0.html",
    ),
    "mozilla": Licence("Mozilla Public License 2.0 (MPL)", "http://www.mozilla.org/MPL"),
    "odbl": Licence(
        "Open Data Commons Open Database License (ODbL)",
        "http://www.opendefinition.org/licenses/odc-odbl",
    ),
    "odby": Licence(
        "Open Data Commons Attribution License (ODC-BY 1.0)",
        "http://www.opendefinition.org/licenses/odc-by",
    ),
    "odcpddl": Licence(
        "Open Data Commons Public Domain Dedication and Licence (ODC PDDL)",
        "http://www.opendefinition.org/licenses/odc-pddl",
    ),
    "officialWork": Licence(
        "Amtliches Werk, lizenzfrei nach §5 Abs. 1 UrhG",
        "http://www.gesetze-im-internet.de/urhg/__5.html",
    ),
    "other-closed": Licence("Andere geschlossene Lizenz", None),
    "other-commercial": Licence("Andere kommerzielle Lizenz", None),
    "other-freeware": Licence("Andere Freeware Lizenz", None),
    "other-open": Licence("Andere offene Lizenz", None),
    "other-opensource": Licence("Andere Open Source Lizenz", None),
}

THEMES: dict[str, Theme] = {
    "AGRI": Theme(
        "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel",
        "Agriculture, fisheries, forestry and food",
    ),
    "ECON": Theme("Wirtschaft und Finanzen", "Economy and finance"),
    "EDUC": Theme("Bildung, Kultur und Sport", "Education, culture and sport"),
    "ENER": Theme("Energie", "Energy"),
    "ENVI": Theme("Umwelt", "Environment"),
    "GOVE": Theme("Regierung und öffentlicher Sektor", "Government and public sector"),
    "HEAL": Theme("Gesundheit", "Health"),
    "INTR": Theme("Internationale Themen", "International issues"),
    "JUST": Theme(
        "Justiz, Rechtssystem und öffentliche Sicherheit", "Justice, legal system and public safety"
    ),
    "OP_DATPRO": Theme("Vorläufige Daten", "Provisional data"),
    "REGI": Theme("Regionen und Städte", "Regions and cities"),
    "SOCI": Theme("Bevölkerung und Gesellschaft", "Population and society"),
    "TECH": Theme("Wissenschaft und Technologie", "Science and technology"),
    "TRAN": Theme("Verkehr", "Transport"),
}

FREQUENCIES: dict[str, str] = {
    "10MIN": "alle 10 Minuten",
    "12HRS": "alle 12 Stunden",
    "15MIN": "alle 15 Minuten",
    "1MIN": "minütlich",
    "30MIN": "alle 30 Minuten",
    "5MIN": "alle 5 Minuten",
    "ANNUAL": "jährlich",
    "ANNUAL_2": "halbjährlich",
    "ANNUAL_3": "dreimal jährlich",
    "AS_NEEDED": "bei Bedarf",
    "BIDECENNIAL": "alle zwanzig Jahre",
    "BIENNIAL": "alle zwei Jahre",
    "BIHOURLY": "alle zwei Stunden",
    "BIMONTHLY": "zweimonatlich",
    "BIWEEKLY": "zweiwöchentlich",
    "CONT": "kontinuierlich",
    "DAILY": "täglich",
    "DAILY_2": "zweimal täglich",
    "DECENNIAL": "alle zehn Jahre",
    "HOURLY": "stündlich",
    "IRREG": "unregelmäßig",
    "MONTHLY": "monatlich",
    "MONTHLY_2": "zweimal monatlich",
    "MONTHLY_3": "dreimal monatlich",
    "NEVER": "nie",
    "NOT_PLANNED": "nicht geplant",
    "OP_DATPRO": "vorläufig",
    "OTHER": "andere",
    "QUADRENNIAL": "alle vier Jahre",
    "QUARTERLY": "vierteljährlich",
    "QUINQUENNIAL": "alle fünf Jahre",
    "SEXENNIAL": "alle sechs Jahre",
    "TRIDECENNIAL": "alle dreißig Jahre",
    "TRIENNIAL": "alle drei Jahre",
    "TRIHOURLY": "alle drei Stunden",
    "UNKNOWN": "unbekannt",
    "UPDATE_CONT": "laufend aktualisiert",
    "WEEKLY": "wöchentlich",
    "WEEKLY_2": "zweimal wöchentlich",
    "WEEKLY_3": "dreimal wöchentlich",
    "WEEKLY_5": "fünfmal wöchentlich",
}

CONTRIBUTORS: dict[str, str] = {
    "SWONetzGmbH": "Stadtwerke Osnabrück",
    "auswaertigesAmt": "Auswärtiges Amt",
    "berlinOpenData": "Berlin Open Data",
    "bundesamtFuerBauwesenUndRaumordnung": "Bundesamt für Bauwesen und Raumordnung (BBR)",
    "bundesamtFuerJustiz": "Bundesamt für Justiz",
    "bundesamtFuerVerbraucherschutzUndLebensmittelsicherheit": "Bundesamt für Verbraucherschutz und Lebensmittelsicherheit",
    "bundesamtFuerWirtschaftUndAusfuhrkontrolle": "Bundesamt für Wirtschaft und Ausfuhrkontrolle",
    "bundesanstaltFuerArbeitsschutzUndArbeitsmedizin": "Bundesanstalt für Arbeitsschutz und Arbeitsmedizin",
    "bundesanstaltFuerMaterialforschungUndPruefung": "Bundesanstalt für Materialforschung und -prüfung (BAM)",
    "bundesarchiv": "Bundesarchiv",
    "bundesausgleichsamt": "Bundesausgleichsamt",
    "bundesinstitutFuerBauStadtUndRaumforschungImBundesamtFuerBauwesenundRaumordnung": "Bundesinstitut für Bau-, Stadt- und Raumforschung (BBSR) im Bundesamt für Bauwesen und Raumordnung (BBR)",
    "bundesministeriumDerFinanzen": "Bundesministerium der Finanzen",
    "bundesministeriumDerVerteidigung": "Bundesministerium der Verteidigung",
    "bundesministeriumDesInnernUndHeimat": "Bundesministerium des Innern und Heimat",
    "bundesministeriumFuerArbeitUndSoziales": "Bundesministerium für Arbeit und Soziales",
    "bundesministeriumFuerBildungUndForschung": "Bundesministerium für Bildung und Forschung",
    "bundesministeriumFuerErnaehrungUndLandwirtschaft": "Bundesministerium für Ernährung und Landwirtschaft",
    "bundesministeriumFuerFamilieSeniorenFrauenUndJugend": "Bundesministerium für Familie, Senioren, Frauen und Jugend",
    "bundesministeriumFuerWirtschaftUndEnergie": "Bundesministerium für Wirtschaft und Energie",
    "bundesministeriumFuerWirtschaftlicheZusammenarbeitUndEntwicklung": "Bundesministerium für wirtschaftliche Zusammenarbeit und Entwicklung",
    "bundessortenamt": "Bundessortenamt",
    "bundesversicherungsamt": "Bundesversicherungsamt",
    "bundesverwaltungsamt": "Bundesverwaltungsamt",
    "bundeszentralamtFuerSteuern": "Bundeszentralamt für Steuern",
    "datenBW": "Daten.BW",
    "derBundesbeauftragteFuerDenDatenschutzUndDieInformationsfreiheit": "Der Bundesbeauftragte für den Datenschutz und die Informationsfreiheit",
    "destatis": "Statistisches Bundesamt",
    "deutscheNationalbibliothek": "Deutsche Nationalbibliothek",
    "deutscheRentenversicherungBund": "Deutsche Rentenversicherung Bund",
    "deutschesPatentUndMarkenamt": "Deutsches Patent- und Markenamt",
    "dieBeauftragteDerBundesregierungFuerKulturUndMedien": "Die Beauftragte der Bundesregierung für Kultur und Medien",
    "fitko": "FITKO (Föderale IT-Kooperation)",
    "freistaatSachsen": "Freistaat Sachsen",
    "friedrichLoefflerInstitut": "Friedrich Loeffler Institut",
    "gdiDE": "Geodateninfrastruktur Deutschland",
    "generalzolldirektion": "Generalzolldirektion",
    "genesisDestatis": "Statistisches Bundesamt",
    "govData": "GovData – das Datenportal für Deutschland",
    "hessen": "Hessen",
    "itzBund": "ITZ-Bund",
    "landBrandenburg": "Land Brandenburg",
    "landNiedersachsen": "Land Niedersachsen",
    "landSachsenAnhalt": "Land Sachsen-Anhalt",
    "landeshauptstadtMuenchen": "Landeshauptstadt München",
    "mCloud": "mCloud",
    "maxRubnerInstitut": "Max Rubner Institut",
    "mecklenburgVorpommern": "Land Mecklenburg-Vorpommern",
    "metropolregionRheinNeckar": "Metropolregion Rhein-Neckar",
    "mobilithek": "Mobilithek des Bundesministeriums für Digitales und Verkehr",
    "openAgrarRepositoriumDerForschungseinrichtungenDesBMEL": "OpenAgrar Repositorium der Forschungseinrichtungen des BMEL",
    "openDataBayern": "open bydata",
    "openDataBrandenburg": "Open Data Brandenburg",
    "openDataBund": "Open Data Bund",
    "openDataHRO": "Open-Data-Portal der Hanse- und Universitätsstadt Rostock",
    "openGovernmentDataPortalRheinlandPfalz": "OpenGovernmentDataPortal RheinlandPfalz",
    "openNRW": "Open.NRW",
    "paulEhrlichInstitut": "Paul-Ehrlich-Institut",
    "regionalstatistik": "Die Regionaldatenbank Deutschland",
    "robertKochInstitut": "Robert Koch-Institut",
    "schleswigHolstein": "Land Schleswig-Holstein",
    "stadtAugsburg": "Stadt Augsburg",
    "stadtFrankfurtAmMain": "Stadt Frankfurt am Main",
    "stadtFreiburgImBreisgau": "Stadt Freiburg im Breisgau",
    "stadtNuernberg": "Stadt Nürnberg",
    "stadtOldenburg": "Stadt Oldenburg",
    "transparenzportalBremen": "Transparenzportal Bremen",
    "transparenzportalHamburg": "Transparenzportal Hamburg",
    "umweltbundesamt": "Umweltbundesamt",
}
