"""Encoding and dialect sniffing on the head of a delimited text file."""

from __future__ import annotations

import codecs
import random

import pytest

from datenschatz.errors import IngestError
from datenschatz.ingest import sniff


def dialect(text: str, complete: bool = True) -> sniff.Dialect:
    return sniff.sniff_dialect(text, complete=complete, file="x.csv")


# --- encoding -----------------------------------------------------------------------------


def test_ascii_head_is_utf8_but_only_assumed() -> None:
    enc = sniff.sniff_encoding(b"a;b\n1;2\n", file="x.csv")
    assert (enc.codec, enc.certain, enc.transcode) == ("utf-8", False, False)


def test_utf8_umlauts_make_utf8_certain() -> None:
    enc = sniff.sniff_encoding("name\nStraße\n".encode(), file="x.csv")
    assert (enc.label, enc.certain) == ("UTF-8", True)


def test_utf8_bom_is_recognised() -> None:
    enc = sniff.sniff_encoding(codecs.BOM_UTF8 + b"a;b\n", file="x.csv")
    assert (enc.label, enc.bom, enc.transcode) == ("UTF-8 with BOM", 3, False)


def test_utf8_sequence_cut_at_end_of_head_is_still_utf8() -> None:
    head = ("a\n" + "ä" * 10).encode()[:-1]  # the head ends inside the last character
    assert sniff.sniff_encoding(head, file="x.csv").label == "UTF-8"


def test_euro_sign_byte_means_windows_1252() -> None:
    enc = sniff.sniff_encoding("preis\n5 €\nStraße\n".encode("cp1252"), file="x.csv")
    assert (enc.label, enc.transcode) == ("Windows-1252", True)


def test_western_bytes_without_c1_range_are_reported_as_latin_1() -> None:
    enc = sniff.sniff_encoding("ort\nGröße\nStraße\n".encode("latin-1"), file="x.csv")
    assert (enc.label, enc.codec) == ("ISO-8859-1", "cp1252")


def test_bytes_undefined_in_cp1252_decode_as_latin_1() -> None:
    assert b"a\x81b".decode("cp1252", errors=sniff.SINGLE_BYTE_ERRORS) == "a\x81b"


def test_utf16_with_bom_is_transcoded() -> None:
    enc = sniff.sniff_encoding("a;b\n1;2\n".encode("utf-16"), file="x.csv")
    assert (enc.label, enc.transcode) == ("UTF-16", True)


def test_utf16_without_bom_is_refused_with_hint() -> None:
    with pytest.raises(IngestError, match="UTF-16 without byte-order mark") as err:
        sniff.sniff_encoding("a;b\n1;2\n".encode("utf-16-le"), file="x.csv")
    assert err.value.details == {"file": "x.csv", "line": 1}


def test_nul_byte_is_refused_naming_its_line() -> None:
    with pytest.raises(IngestError, match="NUL bytes") as err:
        sniff.sniff_encoding(b"a;b\n1;2\n3;\x00\n", file="x.csv")
    assert err.value.details["line"] == 3


def test_binary_garbage_without_nul_is_refused() -> None:
    rnd = random.Random(7)
    data = bytes(rnd.choice([b for b in range(1, 256) if b != 0]) for _ in range(4000))
    with pytest.raises(IngestError, match="not look like text"):
        sniff.sniff_encoding(data, file="x.csv")


def test_line_at_counts_newlines_before_offset() -> None:
    assert sniff.line_at(b"a\nb\nc", 4) == 3
    assert sniff.line_at(b"a\rb\rc", 4) == 3


# --- dialect ------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_delimiter_is_detected(delimiter: str) -> None:
    rows = ["name", "wert", "datum"], ["Herne", "1", "2024-01-01"], ["Bochum", "2", "2024-01-02"]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    found = dialect(text)
    assert (found.delimiter, found.names, found.header_line) == (delimiter, rows[0], 1)


def test_semicolon_wins_over_decimal_commas() -> None:
    found = dialect("wert;menge\n1,5;2,25\n3,5;4\n2;7,5\n")
    assert (found.delimiter, found.decimal_hint) == (";", ",")


def test_comma_file_hints_decimal_point() -> None:
    assert dialect("a,b\n1.5,2\n").decimal_hint == "."


def test_quoted_delimiters_and_newlines_do_not_confuse_the_delimiter() -> None:
    found = dialect('id,text\n1,"Flensburg, Stadt"\n2,"zwei\nZeilen, mit Komma"\n3,x\n')
    assert (found.delimiter, found.names, found.data_line) == (",", ["id", "text"], 2)


def test_three_preamble_lines_are_skipped() -> None:
    text = (
        "Stadtwerke Herne \u2013 Export vom 01.02.2024\n"
        "Zeitraum;Januar 2024\n"
        "\n"
        "id;name;wert\n1;a;2\n2;b;3\n"
    )
    found = dialect(text)
    assert (found.preamble_lines, found.header_line, found.skip) == (3, 4, 3)
    assert found.names == ["id", "name", "wert"]
    assert found.data_line == 5


def test_title_padded_with_delimiters_is_preamble() -> None:
    found = dialect("Export Strom;;;\nid;a;b;c\n1;2;3;4\n")
    assert (found.header_line, found.names) == (2, ["id", "a", "b", "c"])


def test_header_with_empty_name_is_still_the_header() -> None:
    assert dialect("a;;c\n1;2;3\n").names == ["a", "", "c"]


def test_file_without_delimiter_is_one_column() -> None:
    found = dialect("name\nMüller, Hans\nSchmidt\nMeier\n")
    assert (found.delimiter, found.names) == (sniff.SINGLE_COLUMN_DELIMITER, ["name"])


def test_header_wider_than_all_rows_is_refused() -> None:
    with pytest.raises(IngestError, match="has 4 fields but the rows below it have 3") as err:
        dialect("a;b;c;d\n1;2;3\n4;5;6\n")
    assert err.value.details["line"] == 1


def test_last_line_of_incomplete_head_is_ignored() -> None:
    found = dialect("a;b\n1;2\n3;4\n5;6;7;8", complete=False)
    assert found.names == ["a", "b"]


def test_apostrophe_quoting_is_detected() -> None:
    assert dialect("'a';'b'\n'1';'x;y'\n'2';'z'\n").quote == "'"


@pytest.mark.parametrize("text", ["", "   \n\n \t\n"])
def test_blank_text_is_refused(text: str) -> None:
    with pytest.raises(IngestError, match="empty or contains only blank lines"):
        dialect(text)


@pytest.mark.parametrize(("text", "newline"), [("a\nb\n", "\n"), ("a\r\nb\r\n", "\r\n")])
def test_newline_style_is_detected(text: str, newline: str) -> None:
    assert dialect(text).newline == newline


def test_key_value_lines_as_wide_as_the_table_are_preamble() -> None:
    text = "Stadtwerke Herne\nZeitraum;Januar 2024\nStand;01.02.2024\n\nZähler;kWh\nA;1\nB;2\n"
    found = dialect(text)
    assert (found.header_line, found.names) == (5, ["Zähler", "kWh"])


def test_first_line_stays_header_even_before_a_blank_line() -> None:
    found = dialect("id;wert\n\n1;2\n3;4\n")
    assert (found.header_line, found.names) == (1, ["id", "wert"])
