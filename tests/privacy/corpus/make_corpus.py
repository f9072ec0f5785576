"""Write the privacy corpus: synthetic files full of (fake, checksum-valid) personal data.

Every value is invented: names from the shipped deny-list, IBANs, tax IDs, VAT IDs and
MaLo IDs with valid check digits but random account numbers, phone numbers from ranges that
look real. Run ``python tests/privacy/corpus/make_corpus.py`` to write the files again (seeded:
the same bytes every time).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from stdnum import iban
from stdnum.de import idnr, vat

HERE = Path(__file__).parent
FIRST = ["Anna", "Peter", "Sabine", "Thomas", "Julia", "Michael", "Monika", "Stefan", "Laura"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]
STREETS = ["Bahnhofstraße", "Hauptstraße", "Schulweg", "Am Lindenplatz", "Bergstraße"]
PLACES = [("44623", "Herne"), ("44625", "Herne"), ("44649", "Herne"), ("44651", "Herne")]
DISTRICTS = ["Herne-Mitte", "Wanne", "Eickel", "Sodingen"]


def fake_iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18))
    return "DE" + iban.calc_check_digits("DE00" + bban) + bban


def fake_idnr(rng: random.Random) -> str:
    while True:
        body = "".join(rng.choice("123456789" if i == 0 else "0123456789") for i in range(10))
        for check in "0123456789":
            if idnr.is_valid(body + check):
                return body + check


def fake_vat(rng: random.Random) -> str:
    while True:
        body = "DE" + "".join(rng.choice("123456789" if i == 0 else "0123456789") for i in range(8))
        for check in "0123456789":
            if vat.is_valid(body + check):
                return body + check


def fake_malo(rng: random.Random) -> str:
    body = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(9))
    odd = sum(int(d) for d in body[0:10:2])
    even = sum(int(d) for d in body[1:10:2])
    return body + str((10 - (odd + 2 * even) % 10) % 10)


def fake_melo(rng: random.Random) -> str:
    tail = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(20))
    return "DE" + "000562" + "44623" + tail


def fake_phone(rng: random.Random) -> str:
    return rng.choice(["02323 ", "+49 2323 ", "0176 ", "+49 176 "]) + str(
        rng.randint(1000000, 9999999)
    )


def fake_email(rng: random.Random, first: str, last: str) -> str:
    last = last.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    return f"{first.lower()}.{last}@beispiel-mail.de"


def german(number: float) -> str:
    return f"{number:.2f}".replace(".", ",")


def write(name: str, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    (HERE / name).write_bytes(buffer.getvalue().encode(encoding))


def customer_export(rng: random.Random) -> None:
    rows = []
    for n in range(60):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        plz, ort = rng.choice(PLACES)
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 60 * 365))
        rows.append(
            [
                str(100200 + n),
                first,
                last,
                rng.choice(STREETS),
                str(rng.randint(1, 120)),
                plz,
                ort,
                fake_iban(rng),
                fake_phone(rng),
                fake_email(rng, first, last),
                born.strftime("%d.%m.%Y"),
                german(rng.uniform(900, 6000)),
                german(rng.uniform(30, 180)),
            ]
        )
    header = [
        "Kundennummer",
        "Vorname",
        "Nachname",
        "Straße",
        "Hausnr",
        "PLZ",
        "Ort",
        "IBAN",
        "Telefon",
        "E-Mail",
        "Geburtsdatum",
        "Jahresverbrauch kWh",
        "Abschlag EUR",
    ]
    write("kundenstamm_cp1252.csv", header, rows, encoding="cp1252")


def citizen_requests(rng: random.Random) -> None:
    texts = [
        "Sehr geehrte Damen und Herren, vor meinem Haus in der {street} {no} ist die Laterne "
        "defekt. Mit freundlichen Grüßen {first} {last}, Tel. {phone}",
        "Frau {last} bittet um Rückruf wegen der Sperrmüllabholung unter {phone}.",
        "Ich wohne in {plz} {ort} und warte seit Wochen auf meinen Bescheid. Bitte antworten "
        "Sie an {email}. {first} {last}, geb. {born}",
        "Das Auto mit dem Kennzeichen HER-{plate} {plateno} parkt seit Tagen auf dem Gehweg.",
        "Beschwerde über Lärm in der {street} {no}; Steuer-ID {idnr} bitte für Erstattung nutzen.",
    ]
    rows = []
    for n in range(40):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        plz, ort = rng.choice(PLACES)
        text = rng.choice(texts).format(
            street=rng.choice(STREETS),
            no=rng.randint(1, 99),
            first=first,
            last=last,
            phone=fake_phone(rng),
            plz=plz,
            ort=ort,
            email=fake_email(rng, first, last),
            born=(date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))).strftime("%d.%m.%Y"),
            plate="".join(rng.choice("ABCDEFGHKLMNPRSTUVWXYZ") for _ in range(2)),
            plateno=rng.randint(1, 9999),
            idnr=fake_idnr(rng),
        )
        day = date(2024, 3, 1) + timedelta(days=rng.randint(0, 200))
        rows.append([str(5000 + n), day.isoformat(), rng.choice(DISTRICTS), text])
    write("buergeranliegen.csv", ["Vorgang", "Eingang", "Stadtbezirk", "Anliegen"], rows)


def smart_meter_profiles(rng: random.Random) -> None:
    rows = []
    start = datetime(2024, 1, 15)
    for _meter in range(6):
        melo, malo = fake_melo(rng), fake_malo(rng)
        base = rng.uniform(0.05, 0.4)
        for step in range(96):
            at = start + timedelta(minutes=15 * step)
            rows.append([melo, malo, at.isoformat(), f"{base * rng.uniform(0.2, 3.0):.3f}"])
    write("lastgang_15min.csv", ["Messlokation", "Marktlokation", "Zeit", "kWh"], rows)


def hidden_in_comments(rng: random.Random) -> None:
    rows = []
    for n in range(50):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        comment = rng.choice(
            [
                "Zahlung erhalten",
                "Rückfrage per Mail an {email}",
                "Lastschrift auf {iban} umgestellt",
                "Kunde bittet um Rückruf: {phone}",
                "",
                "USt-IdNr. {vat} nachgereicht",
            ]
        ).format(
            email=fake_email(rng, first, last),
            iban=fake_iban(rng),
            phone=fake_phone(rng),
            vat=fake_vat(rng),
        )
        rows.append(
            [
                str(n + 1),
                f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                f"{rng.uniform(10, 500):.2f}",
                comment,
            ]
        )
    write("zahlungen_kommentar.csv", ["Vorgang", "Datum", "Betrag", "Kommentar"], rows)


def street_aggregate(rng: random.Random) -> None:
    rows = []
    for street in ["Bahnhofstraße", "Hauptstraße", "Schulweg", "Bergstraße", "Am Lindenplatz"]:
        households = 2 if street == "Am Lindenplatz" else rng.randint(12, 80)
        rows.append(
            [
                street,
                "Herne-Mitte",
                str(households),
                str(round(households * rng.uniform(2000, 3500))),
            ]
        )
    write("strassen_verbrauch.csv", ["Straße", "Stadtbezirk", "Haushalte", "Verbrauch kWh"], rows)


def main() -> None:
    rng = random.Random(20261122)
    customer_export(rng)
    citizen_requests(rng)
    smart_meter_profiles(rng)
    hidden_in_comments(rng)
    street_aggregate(rng)


if __name__ == "__main__":
    main()
