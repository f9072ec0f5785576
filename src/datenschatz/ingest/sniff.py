"""What a delimited text file looks like, decided from its first bytes.

* Encoding: UTF-8 (with or without BOM), UTF-16 with BOM, or a single-byte Western encoding.
  For the latter, Windows-1252 and ISO-8859-1 agree on every byte except 0x80-0x9F, which are
  printable in Windows-1252 (euro sign, German quotes, dashes) and unused control codes in
  ISO-8859-1. Such files are read as Windows-1252 (the five bytes it leaves undefined fall
  back to ISO-8859-1) and reported as ISO-8859-1 when no byte 0x80-0x9F occurs. NUL bytes
  (binary data, UTF-16 without BOM) and a high share of control characters are refused,
  naming the line.
* Dialect: the delimiter (``,`` ``;`` tab ``|``) that splits the most lines into the same number
  of fields, the quote character, and the header: title or comment lines above it (German
  exports often start with "Stadtwerke Herne - Export vom 01.02.2024") are counted as preamble.
  Lines are parsed with the csv module, so quoted fields may hold delimiters and newlines.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from datenschatz.errors import IngestError

HEAD_BYTES = 256 * 1024
MAX_RECORDS = 2000
MAX_PREAMBLE = 30
DELIMITERS = (";", ",", "\t", "|")
SINGLE_COLUMN_DELIMITER = "\x1f"  # never in text: a file without any delimiter is one column
CONTROL_SHARE = 0.01
REGULAR_SHARE = 0.9
MAX_KEY_VALUE_LINES = 5

_C1_PRINTABLE_IN_CP1252 = bytes(
    b for b in range(0x80, 0xA0) if b not in {0x81, 0x8D, 0x8F, 0x90, 0x9D}
)
# Control characters other than tab, newlines, form feed and \x1a (DOS end-of-file mark).
_CONTROL = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Encoding:
    """How to decode a file."""

    codec: str  # Python codec name used to decode
    label: str  # what the report says
    bom: int = 0  # bytes of byte-order mark at the start
    transcode: bool = False  # DuckDB cannot read it as is: convert to UTF-8 first
    certain: bool = True  # False: the head was plain ASCII, so UTF-8 is only assumed


UTF8 = Encoding("utf-8", "UTF-8")
UTF8_ASSUMED = Encoding("utf-8", "UTF-8", certain=False)
UTF8_BOM = Encoding("utf-8-sig", "UTF-8 with BOM", bom=3)
UTF16 = Encoding("utf-16", "UTF-16", bom=2, transcode=True)
WINDOWS_1252 = Encoding("cp1252", "Windows-1252", transcode=True)
LATIN_1 = Encoding("cp1252", "ISO-8859-1", transcode=True)


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """Decode the bytes Windows-1252 leaves undefined as their ISO-8859-1 code points."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("datenschatz-latin1", _latin1_fallback)
SINGLE_BYTE_ERRORS = "datenschatz-latin1"


def single_byte_label(data: bytes) -> Encoding:
    """Windows-1252 if a byte 0x80-0x9F printable there occurs, else ISO-8859-1."""
    return WINDOWS_1252 if has_cp1252_bytes(data) else LATIN_1


def has_cp1252_bytes(data: bytes) -> bool:
    return len(data.translate(None, _C1_PRINTABLE_IN_CP1252)) != len(data)


def line_at(data: bytes, offset: int) -> int:
    """1-based line of a byte offset (counting \\n, or \\r in old Mac files)."""
    before = data[:offset]
    newlines = before.count(b"\n")
    return 1 + (newlines if newlines or b"\r" not in before else before.count(b"\r"))


def sniff_encoding(head: bytes, *, file: str) -> Encoding:
    """The encoding of a file from its first bytes; refuses binary data."""
    if head.startswith(codecs.BOM_UTF8):
        encoding = UTF8_BOM
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    else:
        encoding = UTF8
    if b"\x00" in head:
        utf16 = head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
        raise IngestError(
            "The file is not text: it contains NUL bytes"
            + (" (it looks like UTF-16 without byte-order mark; save it as UTF-8)" if utf16 else "")
            + ".",
            key="ingest.not_text_nul",
            file=file,
            line=line_at(head, head.index(b"\x00")),
        )
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head[encoding.bom :], final=False)
    except UnicodeDecodeError:
        encoding = single_byte_label(head)
        text = head.decode("cp1252", errors=SINGLE_BYTE_ERRORS)
    else:
        if encoding is UTF8 and text.isascii():
            encoding = UTF8_ASSUMED
    _refuse_binary(text, file)
    return encoding


def _refuse_binary(text: str, file: str) -> None:
    controls = _CONTROL.findall(text)
    if len(controls) > max(8, CONTROL_SHARE * len(text)):
        first = _CONTROL.search(text)
        raise IngestError(
            "The file does not look like text: it contains many control characters.",
            key="ingest.not_text_controls",
            file=file,
            line=text.count("\n", 0, first.start() if first else 0) + 1,
        )


@dataclass(frozen=True)
class Dialect:
    """Delimiter, quoting and where the header is."""

    delimiter: str  # SINGLE_COLUMN_DELIMITER when the file has one column
    quote: str
    names: list[str]  # header fields as written (not yet trimmed)
    skip: int  # records before the header (preamble lines, blank lines included)
    header_line: int  # 1-based line where the header starts
    data_line: int  # 1-based line of the first line after the header
    newline: str  # "\n", "\r\n" or "\r"
    sample: tuple[tuple[str, ...], ...] = ()  # rows below the header in the head, as parsed
    sample_is_all: bool = False  # the sample holds every row of the file

    @property
    def preamble_lines(self) -> int:
        return self.header_line - 1

    @property
    def decimal_hint(self) -> str:
        """Decimal separator for numbers that fit both conventions: ';' files are German."""
        return "," if self.delimiter == ";" else "."


@dataclass
class _Record:
    start: int  # 1-based first line
    end: int  # 1-based last line
    fields: list[str]

    @property
    def blank(self) -> bool:
        return not self.fields or (len(self.fields) == 1 and not self.fields[0].strip())

    @property
    def filled(self) -> int:
        return sum(1 for f in self.fields if f.strip())


def _records(text: str, delimiter: str, quote: str, complete: bool) -> tuple[list[_Record], bool]:
    """Records of the head, and whether they are all records of the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote)
    records: list[_Record] = []
    previous = 0
    everything = complete
    try:
        for fields in reader:
            records.append(_Record(previous + 1, reader.line_num, fields))
            previous = reader.line_num
            if len(records) >= MAX_RECORDS:
                everything = False
                break
    except csv.Error:
        everything = False  # e.g. an unterminated quote in the head; the records so far count
    if not complete and len(records) > 1:
        records.pop()  # the head may end inside this one
    return records, everything


def _sample(records: list[_Record], header: int, width: int) -> tuple[tuple[str, ...], ...]:
    return tuple(
        tuple(r.fields) for r in records[header + 1 :] if not r.blank and len(r.fields) == width
    )


@dataclass
class _Layout:
    header: int  # index into records
    width: int
    consistent: int  # records from the header on with ``width`` fields
    rows: int  # non-blank records from the header on
    split: int  # non-blank records (whole head) that the delimiter splits at all
    total: int  # non-blank records (whole head)

    @property
    def regular(self) -> bool:
        """Nearly all rows from the header on have the header's width."""
        return self.consistent >= REGULAR_SHARE * self.rows

    @property
    def splits_most(self) -> bool:
        return self.split * 2 > self.total


def _layout(records: list[_Record]) -> _Layout | None:
    """Where the header is and how many fields rows have, for one delimiter."""
    filled = [r for r in records if not r.blank]
    counts = Counter(len(r.fields) for r in filled if len(r.fields) > 1)
    if not counts:
        return None
    width = max(counts, key=lambda w: (counts[w], w))
    for index, record in enumerate(records[: MAX_PREAMBLE + 1]):
        if record.blank or len(record.fields) != width:
            continue
        if width > 2 and record.filled <= 1:
            continue  # a title padded with delimiters ("Export;;;;"), not a header
        if _key_value_block(records, index, width):
            continue
        rest = [r for r in records[index:] if not r.blank]
        consistent = sum(1 for r in rest if len(r.fields) == width)
        split = sum(1 for r in filled if len(r.fields) > 1)
        return _Layout(index, width, consistent, len(rest), split, len(filled))
    return None


def _key_value_block(records: list[_Record], index: int, width: int) -> bool:
    """A short block of lines below a title and above a blank line is preamble, not a header.

    German exports often start with a title, a few "Zeitraum;Januar 2024" lines and a blank
    line before the table; those lines may have as many fields as the table.
    """
    if not any(not r.blank for r in records[:index]):
        return False  # nothing above: this is the first line, so it is the header
    end = index
    while end < len(records) and not records[end].blank and len(records[end].fields) == width:
        end += 1
    if end - index > MAX_KEY_VALUE_LINES or end >= len(records) or not records[end].blank:
        return False
    return any(len(r.fields) == width for r in records[end:] if not r.blank)


def _newline(text: str) -> str:
    crlf, lf, cr = text.count("\r\n"), text.count("\n"), text.count("\r")
    if crlf and crlf >= lf - crlf:
        return "\r\n"
    if cr and not lf:
        return "\r"
    return "\n"


def sniff_dialect(text: str, *, complete: bool, file: str) -> Dialect:
    """Delimiter, quote and header position from the decoded head of a file.

    ``complete`` says whether ``text`` is the whole file (otherwise its last line may be cut).
    """
    if not text.strip():
        raise IngestError(
            "The file is empty or contains only blank lines.", key="ingest.empty", file=file
        )
    quote = _quote_char(text)
    layouts: list[tuple[tuple[bool, int, int, int], str, _Layout, list[_Record], bool]] = []
    for rank, delimiter in enumerate(DELIMITERS):
        if delimiter not in text:
            continue
        records, everything = _records(text, delimiter, quote, complete)
        layout = _layout(records)
        if layout is not None and (layout.regular or layout.splits_most):
            score = (layout.regular, layout.consistent, layout.width, -rank)
            layouts.append((score, delimiter, layout, records, everything))
    best = max(layouts, key=lambda entry: entry[0], default=None)
    newline = _newline(text)
    if best is None:
        return _single_column(text, quote, complete, newline, file)
    _, delimiter, layout, records, everything = best
    _check_header_width(records, layout, file)
    header = records[layout.header]
    return Dialect(
        delimiter,
        quote,
        header.fields,
        layout.header,
        header.start,
        header.end + 1,
        newline,
        _sample(records, layout.header, layout.width),
        everything and layout.consistent == layout.rows,
    )


def _single_column(text: str, quote: str, complete: bool, newline: str, file: str) -> Dialect:
    records, everything = _records(text, SINGLE_COLUMN_DELIMITER, quote, complete)
    for index, record in enumerate(records):
        if not record.blank:
            return Dialect(
                SINGLE_COLUMN_DELIMITER,
                quote,
                record.fields[:1],
                index,
                record.start,
                record.end + 1,
                newline,
                _sample(records, index, 1),
                everything,
            )
    raise IngestError(
        "The file is empty or contains only blank lines.", key="ingest.empty", file=file
    )


def _check_header_width(records: list[_Record], layout: _Layout, file: str) -> None:
    """Refuse a header line with more fields than the rows below it, instead of skipping it."""
    before = [r for r in records[: layout.header] if not r.blank]
    if before and len(before[-1].fields) > layout.width and before[-1].filled >= 2:
        raise IngestError(
            f"Line {before[-1].start} has {len(before[-1].fields)} fields but the rows below "
            f"it have {layout.width}; if it is the header, every row needs a value (or an "
            "empty field) for each column.",
            key="ingest.header_wider",
            params={"fields": len(before[-1].fields), "width": layout.width},
            file=file,
            line=before[-1].start,
        )


def _quote_char(text: str) -> str:
    """'"' unless the file quotes with apostrophes only."""
    if '"' in text or "'" not in text:
        return '"'
    starts = sum(1 for line in text.splitlines() if line.startswith("'"))
    return "'" if starts >= max(2, len(text.splitlines()) // 2) else '"'
