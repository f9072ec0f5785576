"""Umweltbundesamt (UBA) air-quality exports → SensorThings entities, idempotently.

Three layouts are read, told apart by their content:

- **Station metadata as JSON**, as the UBA air-data API v2 answers ``meta/json``: an object
  with ``stations`` (station id → ``[id, code, name, city, synonym, active_from, active_to,
  longitude, latitude, network_id, setting_id, type_id, network_code, network_name,
  setting_name, setting_short, type_name, street, street_nr, zip]``) and ``components``
  (component id → ``[id, code, symbol, unit, name]``); ``scopes`` optional.
- **Values as JSON**, as the API answers ``measures/json``: ``data`` maps station id → start
  time → ``[component_id, scope_id, value, end_time, index]``. A metadata file must be
  imported first (or in the same call) so that station and component ids can be resolved.
- **CSV exports** (``;``-separated, German decimal comma): a station list with the columns
  ``Stationscode;Stationsname;...;Längengrad;Breitengrad`` or hourly values with
  ``Stationscode;...;Schadstoff;...;Datum;Uhrzeit;Messwert;Einheit``. ``Datum`` is
  ``DD.MM.YYYY`` (or ISO), ``Uhrzeit`` the *end* of the hour, ``24:00`` for midnight.

UBA times are in MEZ (CET, UTC+1, no summer time); observations are stored in UTC with the
hour as ``phenomenonTime`` interval. Each (station, component, averaging) is one Datastream.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.db.sensor_models import StaThing
from datenschatz.errors import IngestError
from datenschatz.sensors.importers.entities import ImportReport, Registry
from datenschatz.sensors.importers.quantities import CO, NO2, O3, PM1, PM10, PM25, SO2, Quantity

SOURCE = "Umweltbundesamt"
MEZ = timezone(timedelta(hours=1), "MEZ")
MAX_EXAMPLES = 5

# UBA scope codes (the averaging of a value); ids as the API numbers them.
SCOPES: dict[str, tuple[str, timedelta]] = {
    "1": ("1TMW", timedelta(days=1)),  # daily mean
    "2": ("1SMW", timedelta(hours=1)),  # hourly mean
    "3": ("1SMW_MAX", timedelta(days=1)),  # daily maximum of hourly means
    "4": ("8SMW", timedelta(hours=8)),  # eight-hour mean
    "5": ("8SMW_MAX", timedelta(days=1)),
    "6": ("1TMWGL", timedelta(days=1)),
}
SCOPE_NAMES = {
    "1TMW": "daily mean",
    "1SMW": "hourly mean",
    "1SMW_MAX": "daily maximum of hourly means",
    "8SMW": "eight-hour mean",
    "8SMW_MAX": "daily maximum of eight-hour means",
    "1TMWGL": "daily mean (moving)",
}
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉,", "0123456789.")


def component_quantity(text: str) -> Quantity | None:
    """PM10, PM2.5, NO2, O3, SO2, CO from a UBA code, symbol or German name."""
    plain = text.translate(_SUBSCRIPTS).upper().replace(" ", "")
    for token, quantity in (
        ("PM10", PM10),
        ("PM2.5", PM25),
        ("PM25", PM25),
        ("PM2", PM25),
        ("PM1", PM1),
        ("NO2", NO2),
        ("O3", O3),
        ("SO2", SO2),
        ("CO", CO),
    ):
        if re.search(rf"(?<![A-Z0-9]){re.escape(token)}(?![0-9.])", plain):
            return quantity
    return None


@dataclass(frozen=True)
class UbaStation:
    ident: str  # the API's numeric id ("" when only the code is known)
    code: str  # e.g. DENW038
    name: str
    lon: float | None = None
    lat: float | None = None
    city: str = ""
    setting: str = ""  # urban, suburban, rural
    kind: str = ""  # traffic, background, industrial
    network: str = ""


@dataclass(frozen=True)
class UbaComponent:
    ident: str
    code: str
    quantity: Quantity


@dataclass(frozen=True)
class UbaValue:
    station_code: str
    quantity: Quantity
    scope: str  # 1SMW, 1TMW, ...
    start: datetime  # UTC
    end: datetime  # UTC
    value: float


@dataclass
class UbaFile:
    name: str
    stations: list[UbaStation] = field(default_factory=list)
    components: list[UbaComponent] = field(default_factory=list)
    values: list[UbaValue] = field(default_factory=list)
    # measures/json before the metadata: resolved by the caller once metadata is known
    raw_measures: dict[str, Any] | None = None
    skipped_lines: int = 0
    skipped_examples: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        self.skipped_lines += 1
        if len(self.skipped_examples) < MAX_EXAMPLES:
            self.skipped_examples.append(f"{where}: {reason}")


def parse_file(path: Path, *, display_name: str | None = None) -> UbaFile:
    shown = display_name or path.name
    try:
        raw = path.read_bytes()
    except OSError:
        raise IngestError("The file cannot be read.", file=shown) from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError("The JSON is malformed.", file=shown, line=exc.lineno) from None
        return parse_json(document, shown)
    return parse_csv(text, shown)


# --- JSON (API v2) ------------------------------------------------------------------------


def parse_json(document: Any, name: str) -> UbaFile:
    if not isinstance(document, dict):
        raise IngestError("Not a UBA export: expected a JSON object.", file=name)
    result = UbaFile(name)
    if "stations" in document or "components" in document:
        for key, row in (document.get("stations") or {}).items():
            if not isinstance(row, list) or len(row) < 9:
                result.skip(f"stations[{key}]", "expected a list of at least 9 fields")
                continue
            result.stations.append(
                UbaStation(
                    ident=str(row[0]),
                    code=str(row[1]),
                    name=str(row[2]),
                    city=str(row[3] or ""),
                    lon=_number(row[7]),
                    lat=_number(row[8]),
                    network=str(row[13]) if len(row) > 13 and row[13] else "",
                    setting=str(row[14]) if len(row) > 14 and row[14] else "",
                    kind=str(row[16]) if len(row) > 16 and row[16] else "",
                )
            )
        for key, row in (document.get("components") or {}).items():
            if not isinstance(row, list) or len(row) < 2:
                result.skip(f"components[{key}]", "expected [id, code, symbol, unit, name]")
                continue
            quantity = component_quantity(str(row[1]))
            if quantity is not None:
                result.components.append(UbaComponent(str(row[0]), str(row[1]), quantity))
        return result
    if isinstance(document.get("data"), dict):
        result.raw_measures = document["data"]
        return result
    raise IngestError(
        "Not a UBA export: expected 'stations'/'components' (metadata) or 'data' (values).",
        file=name,
    )


def resolve_measures(
    file: UbaFile, stations: dict[str, UbaStation], components: dict[str, UbaComponent]
) -> None:
    """Turn a measures/json document into values, with station and component ids resolved."""
    data = file.raw_measures or {}
    for station_id, by_time in data.items():
        station = stations.get(str(station_id))
        if station is None:
            file.skip(f"data[{station_id}]", "station id unknown; import the metadata first")
            continue
        if not isinstance(by_time, dict):
            file.skip(f"data[{station_id}]", "expected an object of times")
            continue
        for start_text, row in by_time.items():
            where = f"data[{station_id}][{start_text}]"
            if not isinstance(row, list) or len(row) < 4:
                file.skip(where, "expected [component, scope, value, end, ...]")
                continue
            component = components.get(str(row[0]))
            if component is None:
                file.skip(where, "component id unknown or not imported")
                continue
            scope = SCOPES.get(str(row[1]), (str(row[1]), timedelta(hours=1)))[0]
            value = _number(row[2])
            if value is None:
                continue  # no value for this hour
            try:
                start = _mez(str(start_text))
                end = _mez(str(row[3]))
            except ValueError:
                file.skip(where, "time is not 'YYYY-MM-DD HH:MM:SS'")
                continue
            file.values.append(UbaValue(station.code, component.quantity, scope, start, end, value))
    file.raw_measures = None


def _mez(text: str) -> datetime:
    """'2024-01-15 24:00:00' (MEZ) → UTC; 24:00 is midnight at the end of the day."""
    text = text.strip()
    day_end = False
    if " 24:" in text or "T24:" in text:
        text = text.replace(" 24:", " 00:").replace("T24:", "T00:")
        day_end = True
    moment = datetime.fromisoformat(text)
    if day_end:
        moment += timedelta(days=1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=MEZ)
    return moment.astimezone(UTC)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", ".")
    if text in {"", "-", "n/a", "NA"}:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number else None


# --- CSV exports ------------------------------------------------------------------------

_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("stationscode", "station code", "station_code", "stationcode"),
    "name": ("stationsname", "station name", "station", "station_name"),
    "lon": ("längengrad", "laengengrad", "longitude", "lon", "länge"),
    "lat": ("breitengrad", "latitude", "lat", "breite"),
    "city": ("ort", "stadt", "city"),
    "setting": ("stationsumgebung", "station setting", "umgebung"),
    "kind": ("art der station", "stationstyp", "station type"),
    "network": ("bundesland / messnetz", "messnetz", "bundesland", "network"),
    "component": ("schadstoff", "komponente", "component", "pollutant"),
    "scope": ("art der auswertung", "auswertung", "scope", "mittelung"),
    "date": ("datum", "date"),
    "time": ("uhrzeit", "zeit", "time"),
    "value": ("messwert", "wert", "value"),
    "unit": ("einheit", "unit"),
}
_SCOPE_WORDS = (
    ("tagesmittel", "1TMW"),
    ("stunden-mittel", "1SMW"),
    ("stundenmittel", "1SMW"),
    ("8-stunden", "8SMW"),
)


def parse_csv(text: str, name: str) -> UbaFile:
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    # Blank lines and '#' remarks above the header (the test fixtures mark themselves so).
    while rows and (not any(c.strip() for c in rows[0]) or rows[0][0].startswith("#")):
        rows.pop(0)
    if not rows:
        raise IngestError("The file is empty.", file=name)
    header = [c.strip().strip('"').lower() for c in rows[0]]
    col: dict[str, int] = {}
    for key, aliases in _ALIASES.items():
        for i, title in enumerate(header):
            if title in aliases or any(title.startswith(a + " ") for a in aliases):
                col.setdefault(key, i)
    if "code" not in col:
        raise IngestError(
            "Not a UBA export: the header has no 'Stationscode' column.", file=name, line=1
        )
    result = UbaFile(name)
    if {"date", "value", "component"} <= col.keys():
        _csv_values(rows, col, header, result)
    elif {"lon", "lat"} <= col.keys():
        _csv_stations(rows, col, result)
    else:
        raise IngestError(
            "Not a UBA export: expected station columns (Längengrad, Breitengrad) or value "
            "columns (Schadstoff, Datum, Messwert).",
            file=name,
            line=1,
        )
    return result


def _cell(row: list[str], col: dict[str, int], key: str) -> str:
    i = col.get(key)
    return row[i].strip() if i is not None and i < len(row) else ""


def _csv_stations(rows: list[list[str]], col: dict[str, int], result: UbaFile) -> None:
    for line, row in enumerate(rows[1:], start=2):
        code = _cell(row, col, "code")
        if not code:
            continue
        lon, lat = _number(_cell(row, col, "lon")), _number(_cell(row, col, "lat"))
        if lon is None or lat is None:
            result.skip(f"line {line}", "Längengrad/Breitengrad is not a number")
        result.stations.append(
            UbaStation(
                ident="",
                code=code,
                name=_cell(row, col, "name") or code,
                lon=lon,
                lat=lat,
                city=_cell(row, col, "city"),
                setting=_cell(row, col, "setting"),
                kind=_cell(row, col, "kind"),
                network=_cell(row, col, "network"),
            )
        )


def _csv_values(
    rows: list[list[str]], col: dict[str, int], header: list[str], result: UbaFile
) -> None:
    unit_in_header = header[col["value"]]
    for line, row in enumerate(rows[1:], start=2):
        code = _cell(row, col, "code")
        if not code:
            continue
        quantity = component_quantity(_cell(row, col, "component"))
        if quantity is None:
            result.skip(f"line {line}", "Schadstoff is not PM10, PM2.5, NO2, O3, SO2 or CO")
            continue
        unit = _cell(row, col, "unit") or unit_in_header
        if quantity.unit_symbol.replace("³", "3") not in unit.replace("³", "3").replace("ug", "µg"):
            result.skip(f"line {line}", f"unit is not {quantity.unit_symbol}")
            continue
        scope_text = _cell(row, col, "scope").lower()
        scope = next((code for word, code in _SCOPE_WORDS if word in scope_text), "1SMW")
        if scope_text.upper() in SCOPE_NAMES:
            scope = scope_text.upper()
        raw = _cell(row, col, "value")
        value = _number(raw)
        if value is None:
            if raw not in {"", "-"}:
                result.skip(f"line {line}", "Messwert is not a number")
            continue
        try:
            end = _csv_end(_cell(row, col, "date"), _cell(row, col, "time"), scope)
        except ValueError:
            result.skip(f"line {line}", "Datum/Uhrzeit is not DD.MM.YYYY and HH:MM")
            continue
        length = dict(SCOPES.values()).get(scope, timedelta(hours=1))
        result.values.append(UbaValue(code, quantity, scope, end - length, end, value))


_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _csv_end(date: str, clock: str, scope: str) -> datetime:
    """The end of the averaging period, in UTC, from a German date and an hour-end time."""
    match = _DATE.match(date)
    iso = f"{match[3]}-{int(match[2]):02d}-{int(match[1]):02d}" if match else date
    if not clock:
        if scope.startswith("1T"):  # a daily value names its day: it ends at midnight after
            return _mez(f"{iso} 24:00:00")
        raise ValueError("time missing")
    if not re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", clock):
        raise ValueError(clock)
    hours, minutes = clock.split(":")[:2]
    return _mez(f"{iso} {int(hours):02d}:{minutes}:00")


# --- into the SensorThings model ----------------------------------------------------------

UBA_STATIONS_URL = "https://www.umweltbundesamt.de/daten/luft/luftdaten/stationen"


def import_files(
    session: Session, paths: Sequence[Path], *, base_url: str, report: ImportReport | None = None
) -> ImportReport:
    """Import UBA exports; metadata first, whatever the order of ``paths``. Idempotent.

    Values of a station need its metadata (a station list or ``meta/json``), from this call or
    an earlier import; ``measures/json`` also needs the ``components`` of a ``meta/json`` in
    the same call. Values that cannot be placed are counted as skipped, with examples.
    """
    report = report or ImportReport()
    registry = Registry(session, base_url, report)
    files = [parse_file(path) for path in paths]
    stations: dict[str, UbaStation] = _known_stations(session)
    by_id: dict[str, UbaStation] = {s.ident: s for s in stations.values() if s.ident}
    components: dict[str, UbaComponent] = {}
    for file in files:
        report.files += 1
        for station in file.stations:
            stations[station.code] = station
            if station.ident:
                by_id[station.ident] = station
            _thing(registry, station)
        components.update({c.ident: c for c in file.components})
    for file in files:
        if file.raw_measures is not None:
            resolve_measures(file, by_id, components)
        report.readings += len(file.values)
        groups: dict[int, list[dict[str, Any]]] = {}
        for value in file.values:
            known = stations.get(value.station_code)
            if known is None:
                file.skip(value.station_code, "station unknown; import the station list first")
                continue
            ident = _datastream(registry, known, value.quantity, value.scope)
            groups.setdefault(ident, []).append(
                {
                    "phenomenonTime": f"{_iso(value.start)}/{_iso(value.end)}",
                    "result": value.value,
                    "dedup_key": (
                        f"uba:{value.station_code}:{value.quantity.key}:{value.scope}:"
                        f"{_iso(value.start)}"
                    ),
                }
            )
        for ident, rows in groups.items():
            registry.observations(ident, rows)
        report.skipped_lines += file.skipped_lines
        report.skipped.extend(f"{file.name} {example}" for example in file.skipped_examples)
    return report


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _known_stations(session: Session) -> dict[str, UbaStation]:
    """UBA stations imported before, from their Things' properties."""
    found: dict[str, UbaStation] = {}
    for name, properties in session.execute(select(StaThing.name, StaThing.properties)):
        if not isinstance(properties, dict) or properties.get("source") != SOURCE:
            continue
        code = str(properties.get("station_code") or "")
        if code:
            found[code] = UbaStation(
                ident=str(properties.get("station_id") or ""), code=code, name=str(name)
            )
    return found


def _thing(registry: Registry, station: UbaStation) -> int:
    point = None
    if station.lon is not None and station.lat is not None:
        point = (station.lon, station.lat)
    described = ", ".join(p for p in (station.setting, station.kind, station.network) if p)
    return registry.thing(
        f"uba/station/{station.code}",
        name=f"{station.code} {station.name}",
        description="Air-quality monitoring station of the Umweltbundesamt network"
        + (f" ({described})" if described else ""),
        properties={
            "source": SOURCE,
            "station_code": station.code,
            "station_id": station.ident or None,
            "city": station.city or None,
            "setting": station.setting or None,
            "type": station.kind or None,
            "network": station.network or None,
        },
        point=point,
        location_name=f"{station.code} {station.name}",
    )


def _datastream(registry: Registry, station: UbaStation, quantity: Quantity, scope: str) -> int:
    thing = _thing(registry, station)
    sensor = registry.sensor(
        f"uba/station/{station.code}/{quantity.key}",
        name=f"{quantity.name} monitor {station.code}",
        description=f"Reference measurement of {quantity.name} at station {station.code}",
        metadata=UBA_STATIONS_URL,
        properties={"source": SOURCE, "station_code": station.code},
    )
    averaging = SCOPE_NAMES.get(scope, scope)
    return registry.datastream(
        f"uba/station/{station.code}/{quantity.key}/{scope}",
        name=f"{quantity.name} {averaging} · {station.code}",
        description=f"{quantity.description}, {averaging} ({scope}) at UBA station "
        f"{station.code}, in {quantity.unit_symbol}",
        quantity=quantity,
        thing_id=thing,
        sensor_id=sensor,
        properties={"source": SOURCE, "scope": scope, "license": "dl-de/by-2-0"},
    )
