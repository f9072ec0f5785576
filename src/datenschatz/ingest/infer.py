"""Column types from every value: inference over VARCHAR columns in DuckDB.

The CSV, XLSX and JSON readers hand :func:`infer` a :class:`Source` whose columns are all
VARCHAR (plain text, nothing guessed yet): a temp table, or a table function such as
``read_csv(..., all_varchar)`` that is read again for each pass and stored as a temp table only
when a pass needs row ids. Inference decides per column from *all* rows, never from a sample,
and returns a SELECT that converts the source to typed columns, plus notes for the report.

How a column is decided:

1. The first rows propose the narrowest fitting type (integer, number, boolean, ISO or German
   date or timestamp, ISO timestamp with offset, or text). This is only a guess that keeps the
   full pass cheap.
2. One aggregate pass over all rows counts, per column, the values that the candidate's strict
   check accepts (a pattern match, plus a cast where the calendar matters). A cheap cast then
   produces the typed column; it agrees with the check on every value the check accepts, so
   "every value fits" is exact.
3. Values that do not fit are looked at (one more pass, over the columns concerned only):
   blanks and null markers ("N/A", "k.A.", "-", ...; see :data:`NULL_MARKERS`) become NULL
   and are counted per marker; values with surrounding blanks are trimmed; if other values
   remain, a wider type is tried once (integer to decimal number, date to timestamp), and if
   they still do not fit the whole column stays text and they are reported with their line
   numbers. Nothing is ever turned into NULL silently.

Numbers are read with a decimal point ("1234.56", "1,234.56", "1e-3") or a decimal comma
("1234,56", "1.234,56"); a column must keep to one convention. Values such as "1.234" or
"1,234" fit both; a column holding nothing else follows the file: the convention that the
unambiguous columns use, else the reader's hint (for CSV: decimal comma when ``;`` separates).
Integers with leading zeros ("01001000", "04109") stay text, as they are keys, not amounts.
Integers without fraction have at most 18 digits (BIGINT); longer ones stay text.
Booleans are recognised only when a column holds nothing but the words of one pair
(true/false, wahr/falsch, ja/nein, yes/no, any case).
ISO timestamps with an offset become TIMESTAMPTZ (an instant, written as UTC); without an
offset, TIMESTAMP. German dates are ``31.12.2024``, ``31.12.2024 14:30`` and
``31.12.2024 14:30:59``. Null markers are applied only to columns that get a type; a text
column keeps its text unchanged.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from datenschatz.coded import coded, joined
from datenschatz.errors import IngestError
from datenschatz.ingest.model import MAX_EXAMPLES, ColumnNote, Rejected
from datenschatz.store.duck import sql_ident, sql_string

# Lower-case, compared after trimming. Destatis table symbols (".", "...", "x", "/") and
# spreadsheet error values are included: in a column that is otherwise numeric they mean
# "no value", and each is counted in the report.
NULL_MARKERS: frozenset[str] = frozenset(
    {
        "na", "n/a", "n.a.", "#n/a", "#nv", "n.v.", "nan", "null", "none", "nil",
        "-", "--", "---", "\u2013", "\u2014", ".", "...", "x", "/",
        "k.a.", "k. a.", "k.a", "keine angabe", "leer", "(leer)",
        "#div/0!", "#value!", "#wert!", "#ref!", "#bezug!", "#name?", "#num!", "#zahl!",
        "#null!",
    }
)  # fmt: skip

BOOLEAN_PAIRS: dict[str, tuple[str, str]] = {
    "true/false": ("true", "false"),
    "wahr/falsch": ("wahr", "falsch"),
    "ja/nein": ("ja", "nein"),
    "yes/no": ("yes", "no"),
}

SAMPLE_ROWS = 2000
SAMPLE_VALUES = 200
# Message of the error an optimistic SELECT raises at a value its guess does not fit.
MISFIT = "datenschatz: value does not fit the guessed type"
MIN_SHARE = 0.5  # a hypothesis must fit at least this share of the sampled values

# Patterns shared by Python (sampling) and DuckDB's RE2 (the full pass): keep to the subset
# both understand. All are matched against the whole value. Digit counts are bounded so that
# every match casts exactly: an integer has at most 18 digits (BIGINT), a decimal number at
# most 200 before the separator and an exponent of two digits (DOUBLE, never infinite).
_LONG_EN = r"(0|[1-9][0-9]{0,199}|[1-9][0-9]{0,2}(,[0-9]{3}){1,66})"
_LONG_DE = r"(0|[1-9][0-9]{0,199}|[1-9][0-9]{0,2}(\.[0-9]{3}){1,66})"
_SHORT_EN = r"(0|[1-9][0-9]{0,17}|[1-9][0-9]{0,2}(,[0-9]{3}){1,5})"
_SHORT_DE = r"(0|[1-9][0-9]{0,17}|[1-9][0-9]{0,2}(\.[0-9]{3}){1,5})"
_EXP = r"([eE][+-]?[0-9]{1,2})"
PLAIN_INT = r"-?(0|[1-9][0-9]{0,17})"
LEADING_ZERO = r"[+-]?0[0-9]+"
EN_NUM = rf"[+-]?({_SHORT_EN}|{_LONG_EN}\.[0-9]+{_EXP}?|{_LONG_EN}{_EXP}|\.[0-9]+{_EXP}?)"
DE_NUM = rf"[+-]?({_SHORT_DE}|{_LONG_DE},[0-9]+|,[0-9]+)"
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
ISO_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?"
ISO_TSTZ = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
)
DE_DATE = r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}"
DE_TS = DE_DATE + r"( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?"


def _match(pattern: str, v: str) -> str:
    return f"regexp_full_match({v}, {sql_string(pattern)})"


@dataclass(frozen=True)
class Conversion:
    """One way to read a text column.

    ``check`` is a strict boolean test (true exactly for values that fit; it counts them in the
    full pass); ``cast`` turns a value that fits into the typed value and is cheap. The typed
    column uses ``cast`` alone when every value fits, else :meth:`strict`.

    ``native`` is the DuckDB type under which a reader's own typed parse (DuckDB's CSV reader)
    yields exactly what ``cast`` yields, for every value that ``check`` accepts and that
    ``plain`` (if given) also accepts. A column whose values all pass both may then be read
    typed by the reader instead of as text plus ``cast``; that is cheaper.
    """

    key: str
    sql_type: str
    what: str  # noun for messages: "number", "date", ...
    check: Callable[[str], str] = field(compare=False, repr=False)
    cast: Callable[[str], str] = field(compare=False, repr=False)
    convention: str | None = None  # "en" (decimal point) or "de" (decimal comma) for numbers
    inferred_from: str | None = None
    native: str | None = None
    plain: Callable[[str], str] | None = field(default=None, compare=False, repr=False)

    def strict(self, v: str) -> str:
        return f"CASE WHEN {self.check(v)} THEN {self.cast(v)} END"


def _no_fraction(v: str, *chars: str) -> str:
    return "NOT (" + " OR ".join(f"contains({v}, '{c}')" for c in chars) + ")"


def _en_double(v: str) -> str:
    return f"TRY_CAST(replace({v}, ',', '') AS DOUBLE)"


def _de_double(v: str) -> str:
    return f"TRY_CAST(replace(replace({v}, '.', ''), ',', '.') AS DOUBLE)"


def _bool_conversion(pair: str) -> Conversion:
    yes, no = BOOLEAN_PAIRS[pair]
    return Conversion(
        f"bool:{pair}",
        "BOOLEAN",
        "boolean",
        check=lambda v: f"lower({v}) IN ('{yes}', '{no}')",
        cast=lambda v: f"(lower({v}) = '{yes}')",
        inferred_from=f"boolean {pair}",
        native="BOOLEAN" if pair == "true/false" else None,
    )


def _de_ts_cast(v: str) -> str:
    # The format follows from the colons: none, one (minutes) or two (seconds, which put
    # more than three characters after the first colon).
    return (
        f"CASE WHEN NOT contains({v}, ':') THEN try_strptime({v}, '%d.%m.%Y') "
        f"WHEN strlen({v}) - strpos({v}, ':') > 3 THEN try_strptime({v}, '%d.%m.%Y %H:%M:%S') "
        f"ELSE try_strptime({v}, '%d.%m.%Y %H:%M') END"
    )


def _tstz_cast(v: str) -> str:
    # DuckDB wants seconds before an offset: "2024-05-01T10:00+02:00" gets ":00".
    return (
        f"coalesce(TRY_CAST({v} AS TIMESTAMPTZ), "
        f"TRY_CAST(substr({v}, 1, 16) || ':00' || substr({v}, 17) AS TIMESTAMPTZ))"
    )


INT = Conversion(
    "int",
    "BIGINT",
    "number",
    check=lambda v: f"(TRY_CAST({v} AS BIGINT)::VARCHAR = {v})",
    cast=lambda v: f"TRY_CAST({v} AS BIGINT)",
    native="BIGINT",
)
EN_INTEGER = Conversion(
    "en_int",
    "BIGINT",
    "number",
    check=lambda v: f"({_match(EN_NUM, v)} AND {_no_fraction(v, '.', 'e', 'E')})",
    cast=lambda v: f"TRY_CAST(replace({v}, ',', '') AS BIGINT)",
    convention="en",
    inferred_from="decimal_point",
)
EN_NUMBER = Conversion(
    "en_num",
    "DOUBLE",
    "number",
    check=lambda v: _match(EN_NUM, v),
    cast=_en_double,
    convention="en",
    inferred_from="decimal_point",
    native="DOUBLE",
    plain=lambda v: f"NOT contains({v}, ',')",  # no thousands separators
)
DE_INTEGER = Conversion(
    "de_int",
    "BIGINT",
    "number",
    check=lambda v: f"({_match(DE_NUM, v)} AND {_no_fraction(v, ',')})",
    cast=lambda v: f"TRY_CAST(replace({v}, '.', '') AS BIGINT)",
    convention="de",
    inferred_from="decimal_comma",
)
DE_NUMBER = Conversion(
    "de_num",
    "DOUBLE",
    "number",
    check=lambda v: _match(DE_NUM, v),
    cast=_de_double,
    convention="de",
    inferred_from="decimal_comma",
)
ISO_DATE_CONV = Conversion(
    "iso_date",
    "DATE",
    "date",
    check=lambda v: f"({_match(ISO_DATE, v)} AND TRY_CAST({v} AS DATE) IS NOT NULL)",
    cast=lambda v: f"TRY_CAST({v} AS DATE)",
    inferred_from="iso_date",
    native="DATE",
)
ISO_TS_CONV = Conversion(
    "iso_ts",
    "TIMESTAMP",
    "timestamp",
    check=lambda v: f"({_match(ISO_TS, v)} AND TRY_CAST({v} AS TIMESTAMP) IS NOT NULL)",
    cast=lambda v: f"TRY_CAST({v} AS TIMESTAMP)",
    inferred_from="iso_timestamp",
    native="TIMESTAMP",
)
ISO_TSTZ_CONV = Conversion(
    "iso_tstz",
    "TIMESTAMPTZ",
    "timestamp with offset",
    check=lambda v: f"({_match(ISO_TSTZ, v)} AND {_tstz_cast(v)} IS NOT NULL)",
    cast=_tstz_cast,
    inferred_from="iso_timestamp_offset",
)
DE_DATE_CONV = Conversion(
    "de_date",
    "DATE",
    "date",
    check=lambda v: f"({_match(DE_DATE, v)} AND try_strptime({v}, '%d.%m.%Y') IS NOT NULL)",
    cast=lambda v: f"try_strptime({v}, '%d.%m.%Y')::DATE",
    inferred_from="german_date",
)
DE_TS_CONV = Conversion(
    "de_ts",
    "TIMESTAMP",
    "timestamp",
    check=lambda v: f"({_match(DE_TS, v)} AND {_de_ts_cast(v)} IS NOT NULL)",
    cast=_de_ts_cast,
    inferred_from="german_datetime",
)
NUMBER_CONVERSIONS = (EN_INTEGER, EN_NUMBER, DE_INTEGER, DE_NUMBER)

_RE = {
    name: re.compile(pattern)
    for name, pattern in {
        "int": PLAIN_INT,
        "int0": LEADING_ZERO,
        "en": EN_NUM,
        "de": DE_NUM,
        "iso": ISO_TS,
        "tstz": ISO_TSTZ,
        "de_dt": DE_TS,
    }.items()
}
_BOOL_WORDS = {word: pair for pair, words in BOOLEAN_PAIRS.items() for word in words}


def is_null_marker(value: str) -> bool:
    return value.strip().lower() in NULL_MARKERS


def check_names(
    names: Sequence[str], *, file: str, line: int | None = None, what: str = "column"
) -> list[str]:
    """Trimmed header names; refuses empty and duplicate names instead of renaming them.

    Names that differ only in case count as duplicates: SQL cannot tell them apart.
    """
    trimmed = [name.strip() for name in names]
    seen: dict[str, int] = {}
    for position, name in enumerate(trimmed, start=1):
        if not name:
            raise IngestError(
                f"{what.capitalize()} {position} has no name; every column needs a name.",
                key="ingest.column_unnamed",
                file=file,
                line=line,
                column=position,
            )
        first = seen.setdefault(name.lower(), position)
        if first != position:
            raise IngestError(
                f"{what.capitalize()}s {first} and {position} have the same name; "
                "column names must be unique (ignoring case).",
                key="ingest.column_duplicate",
                params={"first": first, "second": position},
                file=file,
                line=line,
                column=name,
                positions=[first, position],
            )
    return trimmed


class Source:
    """Where the VARCHAR rows come from.

    Either a temp table, or a query (such as ``read_csv(...)``) that each pass reads again, which
    spares memory and the cost of storing it. A pass that needs row ids (to name lines) calls
    :meth:`table`, which stores the query once as a temp table; later passes read that table.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, sql: str, *, table: bool) -> None:
        self.con = con
        self._sql = sql
        self._is_table = table

    @property
    def sql(self) -> str:
        """What to put after FROM."""
        return self._sql

    @property
    def stored(self) -> bool:
        return self._is_table

    def table(self) -> str:
        """The rows as a temp table (rowid = position in the source), stored on first use."""
        if not self._is_table:
            name = sql_ident(f"ds_rows_{uuid.uuid4().hex[:12]}")
            self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {self._sql}")
            self._sql, self._is_table = name, True
        return self._sql


@dataclass
class _Column:
    source: str  # column in the source
    name: str  # final name
    candidates: list[Conversion] = field(default_factory=list)
    wider: list[Conversion] = field(default_factory=list)  # tried when candidates misfit
    nonnull: int = 0
    fits: dict[str, int] = field(default_factory=dict)
    plain: dict[str, int] = field(default_factory=dict)  # values passing Conversion.plain
    misfits: dict[str, tuple[Counter[str], Counter[str]]] = field(default_factory=dict)
    chosen: Conversion | None = None
    trim: bool = False
    note: ColumnNote = field(default_factory=ColumnNote)


@dataclass
class Inference:
    """Result of :func:`infer`."""

    select_sql: str
    notes: dict[str, ColumnNote]
    types: dict[str, str]  # final name -> DuckDB type
    decimal_separator: str  # the file-level convention used for ambiguous columns
    rows: int  # rows in the source


def infer(
    source: Source,
    columns: Sequence[tuple[str, str]],
    *,
    locate: Callable[[list[int]], list[int]],
    decimal_hint: str = ".",
    line_label: str = "line",
    fixed: Mapping[str, str] | None = None,
    sample: Sequence[Sequence[str | None]] | None = None,
    sample_is_all: bool = False,
    typed_source: Callable[[Mapping[str, str]], str] | None = None,
) -> Inference:
    """Decide the type of each column of ``source`` from all its rows.

    ``columns`` pairs each VARCHAR column of the source with its final name. ``locate`` maps
    rowids of :meth:`Source.table` to the source's line (or row, record) numbers for the
    report; ``line_label`` names that unit in messages. ``decimal_hint`` ("," or ".") settles
    numbers that are ambiguous everywhere in the file. ``fixed`` maps source columns to a type
    they are cast to without inference (e.g. JSON for nested JSON values). ``sample`` may give
    the first rows (values in ``columns`` order, as the reader already parsed them) to propose
    types from, instead of reading them from the source; ``sample_is_all`` says they are all.
    ``typed_source``, given source columns and DuckDB types, returns what to put after FROM to
    read the same rows with those columns parsed as those types by the reader itself (the
    rest as text); it is used for columns whose conversion has a ``native`` type and whose
    values all fit it, as long as the rows are not stored.

    The full pass reads every row (and at least one column), so a source whose structure
    cannot be parsed fails here with the DuckDB error, not later when the SELECT runs.
    """
    fixed = fixed or {}
    cols = [_Column(src, name) for src, name in columns]
    _plan(source, cols, fixed.keys(), sample, sample_is_all)
    rows = _count(source, [c for c in cols if c.candidates], cols[0].source)
    _classify(source, [(c, c.candidates[-1]) for c in cols if c.wider])
    widen = [c for c in cols if c.wider and _misfits(c, c.candidates[-1])[0]["other"]]
    for col in widen:
        col.candidates += col.wider
    if widen:
        _count(source, widen, widen[0].source)
    undecided = [c for c in cols if c.candidates and not _choose(c, None)]
    separator = _file_convention(cols, decimal_hint)
    for col in undecided:
        _choose(col, "de" if separator == "," else "en", ambiguous=True)
    _classify(source, [(c, c.chosen) for c in cols if c.chosen is not None])
    for col in cols:
        if col.chosen is not None:
            _settle(source, col, locate, line_label)
    selects = []
    types: dict[str, str] = {}
    native: dict[str, str] = {}
    if typed_source is not None and not source.stored:
        for col in cols:
            if col.chosen is not None and col.chosen.native and _native(col):
                native[col.source] = col.chosen.native
    for col in cols:
        src = sql_ident(col.source)
        if col.source in fixed:
            expr, types[col.name] = f"CAST({src} AS {fixed[col.source]})", fixed[col.source]
        elif col.chosen is None:
            expr, types[col.name] = src, "VARCHAR"
        elif col.source in native:
            expr, types[col.name] = src, col.chosen.sql_type
        elif col.fits[col.chosen.key] == col.nonnull:
            expr, types[col.name] = col.chosen.cast(src), col.chosen.sql_type
        else:
            expr = col.chosen.strict(f"trim({src})" if col.trim else src)
            types[col.name] = col.chosen.sql_type
        selects.append(f"{expr} AS {sql_ident(col.name)}")
    notes = {c.name: c.note for c in cols if c.note != ColumnNote()}
    rows_from = typed_source(native) if native and typed_source is not None else source.sql
    select = f"SELECT {', '.join(selects)} FROM {rows_from}"
    return Inference(select, notes, types, separator, rows)


def infer_optimistic(
    source: Source,
    columns: Sequence[tuple[str, str]],
    *,
    sample: Sequence[Sequence[str | None]],
    decimal_hint: str = ".",
) -> Inference | None:
    """Type the columns from the first rows alone, betting that every later value fits too.

    This spares :func:`infer`'s full counting pass: the returned SELECT converts each value
    with the same check and cast the careful path would choose, and raises a DuckDB error at
    the first value that does not fit, so a bet that fails never yields a wrong value. The
    caller then runs :func:`infer`. Returns None where the first rows leave a choice that only
    counts over all rows can settle (two candidate conversions for a column).
    """
    cols = [_Column(src, name) for src, name in columns]
    _plan(source, cols, (), sample, False)
    if any(len(c.candidates) > 1 for c in cols):
        return None
    selects = []
    types: dict[str, str] = {}
    for index, col in enumerate(cols):
        src = sql_ident(col.source)
        if not col.candidates:
            expr, types[col.name] = src, "VARCHAR"
        else:
            conv = col.chosen = col.candidates[0]
            _finish(col, conv, good=1)
            misfit = sql_string(f"{MISFIT}: {col.source}")
            check, cast = conv.check(src), conv.cast(src)
            if conv is EN_NUMBER and _no_separator([row[index] for row in sample]):
                # Bet on the plain form too (no thousands separators): the native cast is then
                # exactly the conversion's cast, and cheaper; a separator later is a misfit.
                check = f"{check} AND NOT contains({src}, ',')"
                cast = f"TRY_CAST({src} AS DOUBLE)"
            expr = (
                f"CASE WHEN {src} IS NULL THEN NULL WHEN {check} "
                f"THEN {cast} ELSE error({misfit}) END"
            )
            types[col.name] = conv.sql_type
        selects.append(f"{expr} AS {sql_ident(col.name)}")
    votes = Counter(c.chosen.convention for c in cols if c.chosen and c.chosen.convention)
    if votes["de"] != votes["en"]:
        separator = "," if votes["de"] > votes["en"] else "."
    else:
        separator = "," if decimal_hint == "," else "."
    notes = {c.name: c.note for c in cols if c.note != ColumnNote()}
    select = f"SELECT {', '.join(selects)} FROM {source.sql}"
    return Inference(select, notes, types, separator, rows=-1)


def _no_separator(values: Sequence[str | None]) -> bool:
    """No sampled value of a number column has a thousands separator (a comma)."""
    return not any(v is not None and "," in v for v in values)


def _native(col: _Column) -> bool:
    """Every value fits the chosen conversion as is, and the reader parses it the same way."""
    conv = col.chosen
    if conv is None or conv.native is None or col.fits[conv.key] != col.nonnull:
        return False
    return conv.plain is None or col.plain[conv.key] == col.nonnull


# --- hypothesis from the first rows ---------------------------------------------------------


def _plan(
    source: Source,
    cols: list[_Column],
    skip: Collection[str],
    sample: Sequence[Sequence[str | None]] | None,
    sample_is_all: bool,
) -> None:
    """Hypotheses for all columns but ``skip``; ``sample`` rows follow the order of ``cols``."""
    planned = [(i, c) for i, c in enumerate(cols) if c.source not in skip]
    if not planned:
        return
    if sample is None:
        listing = ", ".join(sql_ident(c.source) for c in cols)
        head = source.con.execute(f"SELECT {listing} FROM {source.sql} LIMIT {SAMPLE_ROWS}")
        sample = head.fetchall()
        sample_is_all = len(sample) < SAMPLE_ROWS
    later: list[_Column] = []
    for i, col in planned:
        values = [v for v in (row[i] for row in sample) if v is not None and _is_value(v)]
        if values:
            _hypothesis(col, values)
        elif not sample_is_all:
            later.append(col)
    if later:
        for col, values in zip(later, _sample_later(source, later), strict=True):
            _hypothesis(col, values)


def _is_value(v: str) -> bool:
    stripped = v.strip()
    return bool(stripped) and stripped.lower() not in NULL_MARKERS


def _sample_later(source: Source, cols: list[_Column]) -> list[list[str]]:
    """Some real values of columns whose first rows are all empty or null markers."""
    markers = _markers_sql()
    parts = []
    for col in cols:
        src = sql_ident(col.source)
        real = f"trim({src}) <> '' AND lower(trim({src})) NOT IN ({markers})"
        parts.append(f"min_by({src}, hash({src}), {SAMPLE_VALUES}) FILTER (WHERE {real})")
    row = source.con.execute(f"SELECT {', '.join(parts)} FROM {source.sql}").fetchone()
    return [list(values or []) for values in (row or [None] * len(cols))]


def _shapes(value: str) -> set[str]:
    v = value.strip()
    shapes = {name for name, pattern in _RE.items() if pattern.fullmatch(v)}
    pair = _BOOL_WORDS.get(v.lower())
    if pair:
        shapes.add(f"bool:{pair}")
    return shapes


def _hypothesis(col: _Column, values: list[str]) -> None:
    """Candidates (narrowest first) and wider fallbacks from sampled values."""
    families: Counter[str] = Counter()
    numbers: Counter[str] = Counter()
    fractions: set[str] = set()  # conventions in which some sampled number has a fraction
    timed = False
    for value, n in Counter(values).items():
        shapes = _shapes(value)
        if shapes & {"int", "int0", "en", "de"}:
            families["number"] += n
            numbers.update({s: n for s in shapes & {"int", "int0", "en", "de"}})
            v = value.strip()
            if "en" in shapes and any(ch in v for ch in ".eE"):
                fractions.add("en")
            if "de" in shapes and "," in v:
                fractions.add("de")
        for s in shapes:
            if s.startswith("bool:") or s in {"iso", "tstz", "de_dt"}:
                families[s] += n
        timed = timed or ":" in value
    if not families:
        return
    family, hits = families.most_common(1)[0]
    if hits < MIN_SHARE * len(values):
        return
    if family == "number":
        total = families["number"]
        if numbers["int"] + numbers["int0"] == total:
            col.candidates, col.wider = [INT], list(NUMBER_CONVERSIONS)
            return
        fitting = [c for c in ("en", "de") if numbers[c] + numbers["int0"] >= total]
        for convention in fitting or ["en", "de"]:
            integer, number = (
                NUMBER_CONVERSIONS[0:2] if convention == "en" else NUMBER_CONVERSIONS[2:]
            )
            if convention in fractions or len(fitting) != 1:
                col.candidates += [integer, number] if len(fitting) != 1 else [number]
            else:
                col.candidates.append(integer)
                col.wider.append(number)
    elif family.startswith("bool:"):
        col.candidates = [_bool_conversion(family.removeprefix("bool:"))]
    elif family == "tstz":
        col.candidates = [ISO_TSTZ_CONV]
    else:
        date, stamp = (
            (ISO_DATE_CONV, ISO_TS_CONV) if family == "iso" else (DE_DATE_CONV, DE_TS_CONV)
        )
        col.candidates, col.wider = ([stamp], []) if timed else ([date], [stamp])


# --- the full pass ----------------------------------------------------------------------------


def _count(source: Source, cols: list[_Column], anchor: str) -> int:
    """One aggregate pass: rows, non-null values and accepted values per candidate.

    ``anchor`` is a column that is read even when no column has candidates, so that the pass
    parses every row.
    """
    parts = ["count(*)", f"count({sql_ident(anchor)})"]
    for col in cols:
        src = sql_ident(col.source)
        parts.append(f"count({src})")
        parts.extend(f"count(*) FILTER (WHERE {k.check(src)})" for k in col.candidates)
        parts.extend(f"count(*) FILTER (WHERE {k.plain(src)})" for k in col.candidates if k.plain)
    row = source.con.execute(f"SELECT {', '.join(parts)} FROM {source.sql}").fetchone()
    values = list(row or ())
    rows = int(values.pop(0))
    values.pop(0)
    for col in cols:
        col.nonnull = int(values.pop(0))
        col.fits = {k.key: int(values.pop(0)) for k in col.candidates}
        col.plain = {k.key: int(values.pop(0)) for k in col.candidates if k.plain}
    return rows


def _best(col: _Column, convention: str | None) -> tuple[Conversion, int] | None:
    """The most specific candidate of a convention that accepts the most values."""
    pool = [k for k in col.candidates if k.convention == convention]
    if not pool:
        return None
    top = max(col.fits[k.key] for k in pool)
    return next(k for k in pool if col.fits[k.key] == top), top


def _choose(col: _Column, convention: str | None, *, ambiguous: bool = False) -> bool:
    """Pick the conversion; False when both number conventions accept the same values."""
    if convention is None:
        options = [b for c in (None, "en", "de") if (b := _best(col, c)) is not None]
        top = max(n for _, n in options)
        leaders = [k for k, n in options if n == top]
        if len({k.convention for k in leaders}) > 1:
            return False
        col.chosen = leaders[0]
        return True
    best = _best(col, convention)
    if best is not None:
        col.chosen = best[0]
        if ambiguous and col.fits[best[0].key] > 0:
            sep = "comma" if convention == "de" else "point"
            col.note.message = coded(
                f"read with a decimal {sep}: its values (like 1.234 or 1,234) fit both "
                "conventions, so the rest of the file decided",
                "decimal_" + sep,
            )
    return True


def _file_convention(cols: list[_Column], hint: str) -> str:
    votes = Counter(
        c.chosen.convention
        for c in cols
        if c.chosen is not None and c.chosen.convention and c.fits.get(c.chosen.key, 0) > 0
    )
    if votes["de"] != votes["en"]:
        return "," if votes["de"] > votes["en"] else "."
    return "," if hint == "," else "."


# --- what did not fit ---------------------------------------------------------------------------


def _misfits(col: _Column, conv: Conversion) -> tuple[Counter[str], Counter[str]]:
    """Classes of the values ``conv`` refuses, and the null markers among them, by value."""
    return col.misfits.get(conv.key, (Counter(), Counter()))


def _settle(
    source: Source, col: _Column, locate: Callable[[list[int]], list[int]], line_label: str
) -> None:
    """Account for every value the chosen conversion refuses; keep text if any is real data."""
    conv = col.chosen
    assert conv is not None
    fits = col.fits[conv.key]
    if fits == col.nonnull:
        _finish(col, conv, fits)
        return
    classes, markers = _misfits(col, conv)
    good = fits + classes["padded"]
    if classes["other"] or classes["lead0"]:
        _keep_text(source, col, good, classes, locate, line_label)
        return
    col.trim = classes["padded"] > 0
    col.note.null_markers = dict(sorted(markers.items(), key=lambda kv: (-kv[1], kv[0])))
    _finish(col, conv, good)


def _finish(col: _Column, conv: Conversion, good: int) -> None:
    if good == 0:  # only blanks and null markers: keep the text as it is
        col.chosen = None
        col.note = ColumnNote()
        return
    col.note.inferred_from = conv.inferred_from
    if conv.key == "iso_tstz":
        col.note.message = col.note.message or coded(
            "timestamps with UTC offset, stored as UTC", "utc_offset"
        )


def _markers_sql() -> str:
    return ", ".join(sql_string(m) for m in sorted(NULL_MARKERS))


def _misfit_filter(col_sql: str, conv: Conversion) -> str:
    return f"{col_sql} IS NOT NULL AND NOT coalesce({conv.check(col_sql)}, false)"


def _classify(source: Source, pairs: list[tuple[_Column, Conversion]]) -> None:
    """One pass over the columns where values do not fit: what are those values?

    Each refused value is a blank, a null marker (counted by its trimmed text), a value that
    fits once trimmed ("padded"), an integer with leading zeros ("lead0"), or "other". Needs
    no row ids, so the rows stay where they are.
    """
    todo = [
        (col, conv)
        for col, conv in pairs
        if col.fits[conv.key] < col.nonnull and conv.key not in col.misfits
    ]
    if not todo:
        return
    markers = _markers_sql()
    parts = []
    for col, conv in todo:
        src = sql_ident(col.source)
        v = f"trim({src})"
        lead0 = _match(LEADING_ZERO, v) if conv.what == "number" else "false"
        parts.append(
            f"""histogram(CASE
                WHEN {src} IS NULL OR coalesce({conv.check(src)}, false) THEN NULL
                WHEN {v} = '' THEN 'blank'
                WHEN lower({v}) IN ({markers}) THEN 'marker:' || {v}
                WHEN coalesce({conv.check(v)}, false) THEN 'padded'
                WHEN {lead0} THEN 'lead0'
                ELSE 'other' END)"""
        )
    row = source.con.execute(f"SELECT {', '.join(parts)} FROM {source.sql}").fetchone()
    for (col, conv), found in zip(todo, row or [None] * len(todo), strict=True):
        classes: Counter[str] = Counter()
        by_marker: Counter[str] = Counter()
        for label, n in dict(found or {}).items():
            kind, _, marker = str(label).partition(":")
            classes[kind] += int(n)
            if kind == "marker":
                by_marker[marker] += int(n)
        col.misfits[conv.key] = (classes, by_marker)


def _keep_text(
    source: Source,
    col: _Column,
    good: int,
    classes: Counter[str],
    locate: Callable[[list[int]], list[int]],
    line_label: str,
) -> None:
    conv = col.chosen
    assert conv is not None
    col.chosen = None
    col.note = ColumnNote()
    other, lead0 = classes["other"], classes["lead0"]
    total = good + other + lead0
    sentences: list[str] = []
    if lead0:
        sentences.append(
            coded(
                f"kept as text: {_count_of(lead0, total)} {_have(lead0)} leading zeros, "
                "which a number type would drop (keys such as postcodes or municipality codes)",
                "leading_zeros",
                count=lead0,
                total=total,
            )
        )
    if other and good >= other:
        examples = _rejected_examples(source, col.source, conv)
        lines = locate([rowid for rowid, _ in examples])
        col.note.rejected = [
            Rejected(line, value) for line, (_, value) in zip(lines, examples, strict=True)
        ]
        col.note.rejected_count = other
        shown = ", ".join(f"{n:,}" for n in lines)
        more = ", ..." if other > len(lines) else ""
        unit = line_label if len(lines) == 1 else f"{line_label}s"
        prefix = "also " if lead0 else "kept as text: "
        sentences.append(
            coded(
                f"{prefix}{_count_of(other, total)} {'is' if other == 1 else 'are'} "
                f"not a valid {conv.what}; {unit} {shown}{more}",
                "also_invalid" if lead0 else "invalid",
                count=other,
                total=total,
                what=conv.what,
                unit=line_label,
                lines=lines,
                more=other > len(lines),
            )
        )
    if sentences:
        col.note.message = joined("; ", sentences)


def _count_of(n: int, total: int) -> str:
    return f"{n:,} {'value' if n == 1 else 'values'} of {total:,}"


def _have(n: int) -> str:
    return "has" if n == 1 else "have"


def _rejected_examples(source: Source, column: str, conv: Conversion) -> list[tuple[int, str]]:
    src = sql_ident(column)
    lead0 = f"AND NOT {_match(LEADING_ZERO, 'v')}" if conv.what == "number" else ""
    rows: list[Any] = source.con.execute(
        f"""
        SELECT rid, raw FROM (
            SELECT rowid AS rid, {src} AS raw, trim({src}) AS v FROM {source.table()}
            WHERE {_misfit_filter(src, conv)}
        )
        WHERE v <> '' AND lower(v) NOT IN ({_markers_sql()})
          AND NOT coalesce({conv.check("v")}, false) {lead0}
        ORDER BY rid LIMIT {MAX_EXAMPLES}
        """
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]
