"""Value detectors: personal data in a table's cells, found without reading it row by row.

For every text column, one DuckDB pass groups the cells by value and counts, over the distinct
values weighted by how often each occurs, those matching a cheap regular expression per entity
type (the *prefilter*): a column of district names or status codes is matched a handful of
times, not once per row. Only for the (column, entity) pairs with
candidates, a second small query fetches at most :data:`CHECK_ROWS` matching rows, whose
matches are validated in Python (IBAN and VAT checksums with python-stdnum, phone numbers with
phonenumbers, the MaLo check digit, ...). The count is then estimated from the share of valid
candidates. Nothing here keeps or returns a value: a hit is a column, an entity type, a count
and example row numbers (1-based, in the order of the version's file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import phonenumbers
from stdnum import iban as std_iban
from stdnum.de import idnr, stnr, vat

from datenschatz.store.duck import sql_string

CHECK_ROWS = 400  # matching rows validated per (column, entity)
EXAMPLE_ROWS = 5  # row numbers kept per hit
UNIQUE_MIN_VALUES = 50  # fewer non-null values never count as "so unique"
UNIQUE_RATIO = 0.9
NAME_COLUMN_SHARE = 0.3  # share of cells that are a listed name for a name column
ROW = "__ds_row"

DEFAULT_NAMES_FILE = Path(__file__).with_name("names_de.txt")

_W = "A-Za-zÄÖÜäöüß"
_STREET_WORDS = (
    "straße|strasse|str\\.|weg|allee|platz|gasse|ring|damm|ufer|pfad|chaussee|markt|steig"
)


def _icase(pattern: str) -> str:
    return "(?i:" + pattern + ")"


def _valid_iban(text: str) -> bool:
    return bool(std_iban.is_valid(text.replace(" ", "")))


def _valid_vat(text: str) -> bool:
    return bool(vat.is_valid(text.replace(" ", "")))


def _valid_idnr(text: str) -> bool:
    return bool(idnr.is_valid(text.replace(" ", "")))


def _valid_stnr(text: str) -> bool:
    return bool(stnr.is_valid(text))


def malo_check_digit(digits: str) -> int:
    """Check digit of a market location ID (MaLo) from its first ten digits (BDEW rule)."""
    odd = sum(int(d) for d in digits[0:10:2])
    even = sum(int(d) for d in digits[1:10:2])
    return (10 - (odd + 2 * even) % 10) % 10


def valid_malo(text: str) -> bool:
    return (
        len(text) == 11
        and text.isdigit()
        and text[0] != "0"
        and (malo_check_digit(text) == int(text[10]))
    )


def _valid_melo(text: str) -> bool:
    return len(text) == 33 and text[:2] == "DE" and text[2:13].isdigit()


def _valid_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7 or len(set(digits)) < 3:
        return False
    try:
        number = phonenumbers.parse(text, "DE")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _always(_text: str) -> bool:
    return True


@dataclass(frozen=True)
class Entity:
    """One kind of personal data: a prefilter regex (RE2) and a validator of its matches.

    ``strong`` validators (checksums, unambiguous shapes) make one valid match a hit; weak
    ones (a check digit that one in ten random numbers passes) need most candidates valid.
    """

    name: str
    pattern: str
    validate: Callable[[str], bool]
    strong: bool = True
    numeric: bool = False  # also looked for in integer columns


ENTITIES: tuple[Entity, ...] = (
    Entity("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", _always),
    Entity("iban", r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", _valid_iban),
    Entity("vat_id", r"\bDE ?[0-9]{9}\b", _valid_vat),
    Entity("melo", r"\bDE[0-9]{11}[0-9A-Z]{20}\b", _valid_melo),
    Entity("malo", r"\b[1-9][0-9]{10}\b", valid_malo, strong=False, numeric=True),
    Entity(
        "tax_id",
        r"\b[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}\b",
        _valid_idnr,
        strong=False,
        numeric=True,
    ),
    Entity(
        "tax_number",
        r"\b[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}\b|\b[0-9]{5}/[0-9]{5}\b",
        _valid_stnr,
        strong=False,
    ),
    Entity(
        "phone",
        r"(?:\+|\b00)[1-9][0-9 ()/.-]{6,18}[0-9]"
        r"|\(?\b0[1-9][0-9]{1,4}\)?[ /-]+[0-9][0-9 -]{3,12}[0-9]",
        _valid_phone,
    ),
    Entity(
        "street_address",
        _icase(
            f"[{_W}][{_W}.-]*(?:{_STREET_WORDS})\\s+[0-9]{{1,4}}\\s?[a-z]?\\b"
            f"|\\b(?:{_STREET_WORDS})\\s+[0-9]{{1,4}}\\s?[a-z]?\\b"
        ),
        _always,
    ),
    Entity("postcode_city", r"\b[0-9]{5} [A-ZÄÖÜ][a-zäöüß]+(?:[ -][A-ZÄÖÜ][a-zäöüß]+)?", _always),
    Entity("car_plate", r"\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} ?[1-9][0-9]{0,3}[EH]?\b", _always),
    Entity(
        "date_of_birth",
        _icase(
            r"(?:geb\.|geboren(?: am)?|geburtsdatum:?|date of birth:?|dob:?)\s*"
            r"[0-9]{1,2}\.\s?[0-9]{1,2}\.\s?(?:19|20)[0-9]{2}"
        ),
        _always,
    ),
    Entity("keyed_hash", r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$", _always),
    Entity(
        "person_name",
        r"\b(?:Herr|Frau|Hr\.|Fr\.)\s+(?:Dr\.\s+)?[A-ZÄÖÜ][a-zäöüß]+",
        _always,
    ),
)
# Findings that are no personal data by themselves.
NOT_PERSONAL = frozenset({"unique", "plausible_birth_date"})

# A first and a last name from the deny-list side by side.
_NAME_PAIR = r"([A-ZÄÖÜ][a-zäöüß\x{0131}]+)\s+([A-ZÄÖÜ][a-zäöüß\x{0131}]+)"


@lru_cache(maxsize=8)
def load_names(path: Path | None = None) -> frozenset[str]:
    """The deny-list of person names: one a line, '#' comments; the shipped list by default."""
    source = path or DEFAULT_NAMES_FILE
    names = set()
    for line in source.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return frozenset(names)


@dataclass
class Hit:
    entity: str
    count: int
    rows: list[int] = field(default_factory=list)

    def to_dict(self, *, with_rows: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"entity": self.entity, "count": self.count}
        if with_rows:
            data["rows"] = self.rows
        return data


@dataclass
class ColumnScan:
    name: str
    type: str  # Table Schema type
    non_null: int = 0
    distinct_ratio: float | None = None
    hits: dict[str, Hit] = field(default_factory=dict)

    @property
    def unique(self) -> bool:
        return "unique" in self.hits

    def to_dict(self, *, with_rows: bool = True) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "non_null": self.non_null,
            "distinct_ratio": self.distinct_ratio,
            "hits": [h.to_dict(with_rows=with_rows) for h in self.hits.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnScan:
        hits = {
            h["entity"]: Hit(h["entity"], int(h["count"]), list(h.get("rows", [])))
            for h in data.get("hits", [])
        }
        return cls(data["name"], data["type"], data["non_null"], data["distinct_ratio"], hits)


@dataclass
class TableScan:
    rows: int
    columns: list[ColumnScan]

    @property
    def personal(self) -> bool:
        """Whether any column holds values of a direct identifier."""
        return any(e not in NOT_PERSONAL for c in self.columns for e in c.hits)

    def column(self, name: str) -> ColumnScan | None:
        return next((c for c in self.columns if c.name == name), None)

    def to_dict(self, *, with_rows: bool = True) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": [c.to_dict(with_rows=with_rows) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableScan:
        return cls(int(data["rows"]), [ColumnScan.from_dict(c) for c in data["columns"]])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parquet_source(path: Path, columns: Iterable[str] = ()) -> str:
    """A FROM clause over a version file with the 1-based row number as ``__ds_row``.

    DuckDB's ``file_row_number`` cannot be asked for when the file has a column of that name;
    then the row number is counted in file order instead (insertion order is preserved).
    """
    file = sql_string(str(path))
    if "file_row_number" in set(columns):
        return f"(SELECT *, row_number() OVER () AS {ROW} FROM read_parquet({file}))"
    numbered = f"read_parquet({file}, file_row_number = true)"
    return f"(SELECT *, file_row_number + 1 AS {ROW} FROM {numbered})"


def _text_expr(column: str, duck_type: str) -> str | None:
    """The SQL text the detectors look at for a column, or None when nothing is to be found."""
    upper = duck_type.upper()
    if upper in ("VARCHAR", "TEXT") or upper.startswith("VARCHAR"):
        return _q(column)
    return None


def _numeric_expr(column: str, duck_type: str) -> str | None:
    if duck_type.upper() in ("BIGINT", "HUGEINT", "UBIGINT", "DECIMAL(18,0)"):
        return f"CAST({_q(column)} AS VARCHAR)"
    return None


def _union(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


TEXT_UNION = _union([e.pattern for e in ENTITIES] + [_NAME_PAIR])
ELEVEN_DIGITS = "BETWEEN 10000000000 AND 99999999999"


def scan(
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: Sequence[tuple[str, str, str]],
    *,
    names: frozenset[str] | None = None,
) -> TableScan:
    """Scan ``source`` (a FROM clause exposing ``__ds_row``) for personal data.

    ``columns`` are (name, DuckDB type, Table Schema type). Returns per column the hits with
    counts and example row numbers, and how unique its values are.

    Pass 1 groups every text column by value and runs one combined regular expression (RE2
    matches the alternation in one pass) over its distinct values; pass 2 counts the single
    entity types only in the columns with candidates, again over distinct values; pass 3
    validates a sample of candidate cells per entity in Python.
    """
    names = names if names is not None else load_names()
    texts = [(c, _q(c)) for c, d, _t in columns if _text_expr(c, d)]
    numbers = [(c, _q(c)) for c, d, _t in columns if _numeric_expr(c, d)]
    selects = ["count(*)"]
    for _column, expr in numbers:
        selects.append(f"count(*) FILTER (WHERE {expr} {ELEVEN_DIGITS})")
    counts = con.execute(f"SELECT {', '.join(selects)} FROM {source}").fetchone()
    assert counts is not None
    total = int(counts[0])
    by_column = {name: ColumnScan(name, ttype) for name, _d, ttype in columns}
    text_counts = _text_counts(con, source, [expr for _c, expr in texts])
    position = 1
    candidates: list[tuple[str, str]] = []
    for (column, expr), (non_null, distinct, matching) in zip(texts, text_counts, strict=True):
        scan_col = by_column[column]
        scan_col.non_null = non_null
        if non_null:
            scan_col.distinct_ratio = round(min(1.0, distinct / non_null), 4)
        if matching:
            candidates.append((column, expr))
        _uniqueness(con, source, expr, scan_col)
    for column, expr in numbers:
        if int(counts[position] or 0):
            text = f"CAST({expr} AS VARCHAR)"
            for entity in ENTITIES:
                if entity.numeric:
                    hit = _validate(con, source, text, entity, int(counts[position]))
                    if hit is not None:
                        by_column[column].hits[entity.name] = hit
        position += 1
    for column, expr in candidates:
        _entities(con, source, expr, names, by_column[column])
    for column, duck_type, ttype in columns:
        if ttype == "date" or duck_type.upper() == "DATE":
            _birth_dates(con, source, column, by_column[column])
    return TableScan(total, list(by_column.values()))


def _grouped(source: str, expr: str) -> str:
    """The distinct non-null values of ``expr`` as ``v`` with their number of cells ``n``."""
    return f"(SELECT {expr} AS v, count(*) AS n FROM {source} WHERE {expr} IS NOT NULL GROUP BY 1)"


def _text_counts(
    con: duckdb.DuckDBPyConnection, source: str, exprs: Sequence[str]
) -> list[tuple[int, int, int]]:
    """(non-null cells, distinct values, cells matching the prefilter) per text column.

    The prefilter runs once per distinct value; its count weighs each value by its cells.
    """
    if not exprs:
        return []
    union = sql_string(TEXT_UNION)
    parts = [
        f"SELECT {i} AS i, coalesce(sum(n), 0), count(*), "
        f"coalesce(sum(n) FILTER (WHERE regexp_matches(v, {union})), 0) "
        f"FROM {_grouped(source, expr)}"
        for i, expr in enumerate(exprs)
    ]
    rows = con.execute(" UNION ALL ".join(parts)).fetchall()
    found = {int(i): (int(nn), int(d), int(m)) for i, nn, d, m in rows}
    return [found[i] for i in range(len(exprs))]


def _uniqueness(
    con: duckdb.DuckDBPyConnection, source: str, expr: str, scan_col: ColumnScan
) -> None:
    """Unique codes with digits (customer numbers, contract ids) look like identifiers;
    unique words (place names) are keys of public things."""
    ratio = scan_col.distinct_ratio or 0.0
    if scan_col.non_null < UNIQUE_MIN_VALUES or ratio < UNIQUE_RATIO:
        return
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_matches({expr}, '[0-9]')) FROM {source}"
    ).fetchone()
    if row is not None and int(row[0]) >= 0.5 * scan_col.non_null:
        scan_col.hits["unique"] = Hit("unique", scan_col.non_null)


def _entities(
    con: duckdb.DuckDBPyConnection,
    source: str,
    expr: str,
    names: frozenset[str],
    scan_col: ColumnScan,
) -> None:
    """Count each entity type in a column with candidates, then validate samples."""
    union = sql_string(TEXT_UNION)
    selects = [
        f"coalesce(sum(n) FILTER (WHERE regexp_matches(v, {sql_string(e.pattern)})), 0)"
        for e in ENTITIES
    ]
    selects.append(
        f"coalesce(sum(n) FILTER (WHERE regexp_matches(v, {sql_string(_NAME_PAIR)})), 0)"
    )
    counts = con.execute(
        f"SELECT {', '.join(selects)} FROM {_grouped(source, expr)} "
        f"WHERE regexp_matches(v, {union})"
    ).fetchone()
    assert counts is not None
    for entity, value in zip(ENTITIES, counts[:-1], strict=True):
        if value:
            hit = _validate(con, source, expr, entity, int(value))
            if hit is not None:
                scan_col.hits[entity.name] = hit
    if counts[-1]:
        _names_in(con, source, expr, names, int(counts[-1]), scan_col)


def _validate(
    con: duckdb.DuckDBPyConnection, source: str, expr: str, entity: Entity, candidates: int
) -> Hit | None:
    pattern = sql_string(entity.pattern)
    rows = con.execute(
        f"SELECT {ROW}, regexp_extract_all({expr}, {pattern}) FROM {source} "
        f"WHERE regexp_matches({expr}, {pattern}) LIMIT {CHECK_ROWS}"
    ).fetchall()
    valid_rows = sorted(
        int(row) for row, matches in rows if any(entity.validate(m) for m in matches or [])
    )
    checked = len(rows)
    if not valid_rows:
        return None
    if not entity.strong and len(valid_rows) < 0.5 * checked:
        return None
    estimate = round(candidates * len(valid_rows) / checked)
    return Hit(entity.name, max(len(valid_rows), estimate), valid_rows[:EXAMPLE_ROWS])


def _names_in(
    con: duckdb.DuckDBPyConnection,
    source: str,
    expr: str,
    names: frozenset[str],
    candidates: int,
    scan_col: ColumnScan,
) -> None:
    """Person names: a listed first name beside a listed last name, or a name column."""
    pattern = sql_string(_NAME_PAIR)
    rows = con.execute(
        f"SELECT {ROW}, regexp_extract_all({expr}, {pattern}) FROM {source} "
        f"WHERE regexp_matches({expr}, {pattern}) LIMIT {CHECK_ROWS}"
    ).fetchall()
    valid = sorted(int(r) for r, matches in rows if _has_name_pair(matches or [], names))
    if valid:
        _merge(scan_col, "person_name", round(candidates * len(valid) / len(rows)), valid)


def _has_name_pair(matches: Iterable[str], names: frozenset[str]) -> bool:
    for match in matches:
        parts = match.split()
        if len(parts) == 2 and parts[0] in names and parts[1] in names:
            return True
    return False


@lru_cache(maxsize=8)
def _names_values(names: frozenset[str]) -> str:
    """The names as a VALUES list, for a temporary table DuckDB can hash-join."""
    return "VALUES " + ", ".join(f"({sql_string(n)})" for n in sorted(names))


def scan_name_column(
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: Sequence[tuple[str, str, str]],
    table: TableScan,
    names: frozenset[str] | None = None,
) -> None:
    """Columns whose cells are mostly single listed names (first or last name columns)."""
    names = names if names is not None else load_names()
    filled = {c.name for c in table.columns if c.non_null}
    text_columns = [c for c, d, _t in columns if _text_expr(c, d) and c in filled]
    if not text_columns or not names:
        return
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __ds_names AS SELECT * FROM ({_names_values(names)}) t(name)"
    )
    listed = "(SELECT name FROM __ds_names)"
    try:
        # Over each column's distinct values, weighted by their cells (see _text_counts).
        parts = [
            f"SELECT {i} AS i, coalesce(sum(n) FILTER (WHERE trim(v) IN {listed}), 0) "
            f"FROM {_grouped(source, _q(c))}"
            for i, c in enumerate(text_columns)
        ]
        found = dict(con.execute(" UNION ALL ".join(parts)).fetchall())
        counts = [found[i] for i in range(len(text_columns))]
        for column, value in zip(text_columns, counts, strict=True):
            scan_col = table.column(column)
            n = int(value or 0)
            if scan_col is None or not n or n < NAME_COLUMN_SHARE * scan_col.non_null:
                continue
            rows = con.execute(
                f"SELECT {ROW} FROM {source} WHERE trim({_q(column)}) IN {listed} "
                f"ORDER BY {ROW} LIMIT {EXAMPLE_ROWS}"
            ).fetchall()
            _merge(scan_col, "person_name", n, [int(r[0]) for r in rows])
    finally:
        con.execute("DROP TABLE IF EXISTS __ds_names")


def _merge(scan_col: ColumnScan, entity: str, count: int, rows: list[int]) -> None:
    hit = scan_col.hits.get(entity)
    if hit is None:
        scan_col.hits[entity] = Hit(entity, max(count, len(rows)), rows[:EXAMPLE_ROWS])
    else:
        hit.count = max(hit.count, count)
        hit.rows = sorted(set(hit.rows) | set(rows))[:EXAMPLE_ROWS]


def _birth_dates(
    con: duckdb.DuckDBPyConnection, source: str, column: str, scan_col: ColumnScan
) -> None:
    """Record how plausible birth dates the column's values are (judged with the roles)."""
    row = con.execute(
        f"SELECT min({_q(column)}), max({_q(column)}), count({_q(column)}), "
        f"approx_count_distinct({_q(column)}) FROM {source}"
    ).fetchone()
    if row is None or row[0] is None:
        return
    low, high, n, distinct = row
    scan_col.non_null = int(n)
    scan_col.distinct_ratio = round(min(1.0, int(distinct) / int(n)), 4) if n else None
    low_d = low.date() if isinstance(low, datetime) else low
    high_d = high.date() if isinstance(high, datetime) else high
    if not isinstance(low_d, date) or not isinstance(high_d, date):
        return
    today = date.today()
    adult = today.replace(year=today.year - 14)
    if low_d.year >= 1900 and high_d <= adult and int(n) >= 2 and (high_d - low_d).days > 1825:
        examples = con.execute(
            f"SELECT {ROW} FROM {source} WHERE {_q(column)} IS NOT NULL "
            f"ORDER BY {ROW} LIMIT {EXAMPLE_ROWS}"
        ).fetchall()
        scan_col.hits["plausible_birth_date"] = Hit(
            "plausible_birth_date", int(n), [int(r[0]) for r in examples]
        )
