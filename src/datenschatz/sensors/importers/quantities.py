"""The observed properties and units the importers know, in one table.

Units follow UCUM (the code in ``definition``), with the symbol people read. Observed properties
point at the EEA air-quality vocabulary where it has an entry, else at QUDT quantity kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UCUM = "http://unitsofmeasure.org/ucum.html#"
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@dataclass(frozen=True)
class Quantity:
    """What is measured and in which unit."""

    key: str  # stable short name, part of dedup keys and datastream names
    name: str  # ObservedProperty name
    definition: str  # ObservedProperty definition (a URI)
    description: str
    unit_name: str
    unit_symbol: str
    unit_code: str  # UCUM

    def observed_property(self) -> dict[str, Any]:
        return {"name": self.name, "definition": self.definition, "description": self.description}

    def unit(self) -> dict[str, str]:
        return {
            "name": self.unit_name,
            "symbol": self.unit_symbol,
            "definition": UCUM + self.unit_code,
        }


_UG = ("microgram per cubic metre", "µg/m³", "ug/m3")
_EEA = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/"
_QUDT = "http://qudt.org/vocab/quantitykind/"

PM10 = Quantity("pm10", "PM10", _EEA + "5", "Particulate matter < 10 µm (aerosol)", *_UG)
PM25 = Quantity("pm2_5", "PM2.5", _EEA + "6001", "Particulate matter < 2.5 µm (aerosol)", *_UG)
PM1 = Quantity("pm1", "PM1", _EEA + "6002", "Particulate matter < 1 µm (aerosol)", *_UG)
NO2 = Quantity("no2", "NO2", _EEA + "8", "Nitrogen dioxide (air)", *_UG)
O3 = Quantity("o3", "O3", _EEA + "7", "Ozone (air)", *_UG)
SO2 = Quantity("so2", "SO2", _EEA + "1", "Sulphur dioxide (air)", *_UG)
CO = Quantity(
    "co", "CO", _EEA + "10", "Carbon monoxide (air)", "milligram per cubic metre", "mg/m³", "mg/m3"
)
TEMPERATURE = Quantity(
    "temperature",
    "Air temperature",
    _QUDT + "Temperature",
    "Temperature of the air at the sensor",
    "degree Celsius",
    "°C",
    "Cel",
)
HUMIDITY = Quantity(
    "humidity",
    "Relative humidity",
    _QUDT + "RelativeHumidity",
    "Relative humidity of the air at the sensor",
    "percent",
    "%",
    "%",
)
PRESSURE = Quantity(
    "pressure",
    "Air pressure",
    _QUDT + "AtmosphericPressure",
    "Air pressure at the sensor's height",
    "pascal",
    "Pa",
    "Pa",
)
PRESSURE_SEALEVEL = Quantity(
    "pressure_sealevel",
    "Air pressure at sea level",
    _QUDT + "AtmosphericPressure",
    "Air pressure reduced to sea level",
    "pascal",
    "Pa",
    "Pa",
)
