"""Column-name rules: what a column's name alone says about its content.

Names are normalised (lower case, umlauts and ß spelled out, separators removed) and matched
against patterns in order; the first rule that matches decides. Each rule names the entity
type it suspects and the role it proposes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datenschatz.db.privacy_models import ColumnRole

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def normalise(name: str) -> str:
    """``name`` lower-cased, umlauts spelled out, only letters and digits kept."""
    return re.sub(r"[^a-z0-9]", "", name.lower().translate(_UMLAUTS))


@dataclass(frozen=True)
class NameRule:
    entity: str
    role: ColumnRole
    pattern: re.Pattern[str]


def _rule(entity: str, role: ColumnRole, pattern: str) -> NameRule:
    return NameRule(entity, role, re.compile(pattern))


D, F, Q, S, C, P = (
    ColumnRole.DIRECT_ID,
    ColumnRole.FREE_TEXT,
    ColumnRole.QUASI_ID,
    ColumnRole.SENSITIVE,
    ColumnRole.CONTRIBUTOR_COUNT,
    ColumnRole.PUBLIC_KEY,
)

# Order matters: counts of households before "haushalt", "kundengruppe" before "kunde".
NAME_RULES: tuple[NameRule, ...] = (
    _rule(
        "contributor_count",
        C,
        r"^(anzahl|anz|n|num|number|count)?(haushalte|households|kunden|customers|personen|"
        r"persons|people|einwohner|teilnehmer|contributors|anschluesse|zaehler|meters|faelle)"
        r"(anzahl|count|n)?$",
    ),
    _rule("category", P, r"(kundengruppe|kundenart|kundentyp|customergroup|customertype)"),
    _rule("keyed_hash", D, r"(hash|pseudonym|hmac|token)"),
    _rule("iban", D, r"(iban|bic|kontonr|kontonummer|bankverbindung|accountnumber)"),
    _rule("tax_id", D, r"(steuerid|steuernr|steuernummer|identnr|taxid|taxnumber|ustid|vatid)"),
    _rule("melo", D, r"(zaehlpunkt|melo|messlokation|meteringpoint)"),
    _rule("malo", D, r"(malo|marktlokation|marketlocation)"),
    _rule("meter_number", D, r"(zaehlernr|zaehlernummer|meternumber|meterid|zaehlerid)"),
    _rule("phone", D, r"(^tel|telefon|phone|handy|mobil|fax)"),
    _rule("email", D, r"(mail)"),
    _rule("date_of_birth", D, r"(geburt|birth|^dob$|^gebdat)"),
    _rule("car_plate", D, r"(kennzeichen|kfz|numberplate|licenseplate|plate)"),
    _rule(
        "customer_id",
        D,
        r"(^kunde$|^kunden$|kundennr|kundennummer|kundenid|customerid|customerno|vertrag|"
        r"contract|personid|personalnr|mitgliedsnr|userid|benutzer|ausweis|passport|versichertennr|aktenzeichen)",
    ),
    _rule(
        "person_name",
        D,
        r"(vorname|nachname|familienname|firstname|lastname|surname|fullname|"
        r"^kunde?name|kundenname|antragsteller|ansprechpartner|inhaber|eigentuemer|owner|"
        r"^person$|buerger$|^einreicher)",
    ),
    _rule("name_of_thing", D, r"^(name|namen)$"),
    _rule(
        "street_address",
        D,
        r"(strasse|^str$|hausnr|hausnummer|housenumber|street|anschrift|adresse|address|"
        r"wohnort)",
    ),
    _rule(
        "free_text",
        F,
        r"(kommentar|bemerkung|notiz|anmerkung|comment|note|freitext|anliegen|nachricht|"
        r"message|^text$|beschwerde|begruendung|schilderung)",
    ),
    _rule(
        "quasi_identifier",
        Q,
        r"(^plz$|postleitzahl|postcode|postalcode|^zip|geburtsjahr|^alter$|^age$|geschlecht|"
        r"gender|^sex$|beruf|occupation|nationalitaet|staatsangehoerigkeit|familienstand)",
    ),
    _rule(
        "sensitive",
        S,
        r"(gesundheit|diagnose|krankheit|religion|konfession|einkommen|income|schulden|mahnung|"
        r"sperrung|sozialleistung|behinderung|pflegegrad)",
    ),
)


def name_rule(column: str) -> NameRule | None:
    """The first rule matching ``column``'s normalised name, or None."""
    key = normalise(column)
    for rule in NAME_RULES:
        if rule.pattern.search(key):
            return rule
    return None
