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
from collections.abc import Iterator
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


def iter_rows(count: int, seed: int) -> Iterator[list[str]]:
    """The data rows, one list of field texts per row; deterministic for ``seed``."""
    rng = random.Random(seed)
    stations = _stations(rng)
    rand = rng.random
    pick = rng.randrange
    seconds = 0
    for reading_id in range(1, count + 1):
        code, district, medium, installed, lat, lon = stations[pick(STATIONS)]
        seconds += pick(1, 62)
        measured = (START + timedelta(seconds=seconds)).isoformat()
        value = f"{rand() * VALUE_SCALE[medium]:.3f}"
        temperature = "" if rand() < 0.04 else f"{-12.0 + rand() * 45.0:.1f}"
        customers = "" if rand() < 0.02 else str(pick(1, 400))
        estimated = "true" if rand() < 0.08 else "false"
        if rand() < 0.01:
            lat = lon = ""
        status = STATUSES[pick(len(STATUSES))]
        remark = _remark(rng) if rand() < 0.25 else ""
        yield [
            str(reading_id),
            code,
            district,
            medium,
            measured,
            installed,
            value,
            temperature,
            customers,
            estimated,
            lat,
            lon,
            status,
            remark,
        ]


def write_csv(out: Path, count: int, seed: int) -> int:
    """Write ``count`` rows to ``out`` (via a temp file and rename); return the byte size."""
    if count < 0:
        raise ValueError("rows must not be negative")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(HEADER)
            batch: list[list[str]] = []
            for row in iter_rows(count, seed):
                batch.append(row)
                if len(batch) >= CHUNK:
                    writer.writerows(batch)
                    batch.clear()
            writer.writerows(batch)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the seeded ingest benchmark CSV.")
    parser.add_argument("output", type=Path, help="path of the CSV file to write")
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows (default 1e6)")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed")
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must not be negative")
    size = write_csv(args.output, args.rows, args.seed)
    print(f"wrote {args.rows} rows, {size / 1e6:.1f} MB to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
