"""CSV, TSV and TXT: from bytes on disk to a typed SELECT and a Parquet file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datenschatz.errors import IngestError
from datenschatz.ingest import sniff
from datenschatz.ingest.model import IngestOptions, Rejected, Staged
from datenschatz.ingest.text import read_csv
from datenschatz.store.duck import connect, sql_string

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(spatial=False, temp_dir=tmp_path / "duck")
    yield connection
    connection.close()


def write(tmp_path: Path, data: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def load(con: duckdb.DuckDBPyConnection, path: Path, **options: Any) -> Staged:
    return read_csv(con, path, IngestOptions(**options))


def rows(con: duckdb.DuckDBPyConnection, staged: Staged) -> list[tuple[Any, ...]]:
    return con.execute(staged.select_sql).fetchall()


def types(con: duckdb.DuckDBPyConnection, staged: Staged) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {staged.select_sql}").fetchall()}


def shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"../shared/data/{relative} is not available on this machine")
    return path


# --- encodings ----------------------------------------------------------------------------


def test_windows_1252_with_eszett_and_euro(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write(tmp_path, "Straße;Betrag\nHauptstraße;5 €\nGrößenweg;7 €\n".encode("cp1252"))
    staged = load(con, path)
    assert staged.details["encoding"] == "Windows-1252"
    assert list(types(con, staged)) == ["Straße", "Betrag"]
    assert rows(con, staged) == [("Hauptstraße", "5 €"), ("Größenweg", "7 €")]


def test_latin_1_file(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write(tmp_path, "Ort;Einwohner\nLünen;85000\nGroß Gerau;25000\n".encode("latin-1"))
    staged = load(con, path)
    assert staged.details["encoding"] == "ISO-8859-1"
    assert rows(con, staged) == [("Lünen", 85000), ("Groß Gerau", 25000)]


def test_transcoded_temp_file_is_handed_over_for_cleanup(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(tmp_path, "a;b\nä;1\n".encode("cp1252"))
    staged = load(con, path)
    assert [p.parent for p in staged.cleanup] == [tmp_path / "duck"]
    assert rows(con, staged) == [("ä", 1)]  # the SELECT reads the UTF-8 copy
    assert staged.cleanup[0].read_bytes() == "a;b\nä;1\n".encode()


def test_transcoded_temp_file_is_removed_when_the_file_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(tmp_path, "a;b\nä;1\nö;2;3\n".encode("cp1252"))
    with pytest.raises(IngestError, match="Row has 3 fields"):
        load(con, path)
    assert list((tmp_path / "duck").glob("datenschatz-*")) == []


def test_utf8_bom_is_not_part_of_the_first_name(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(tmp_path, "\ufeffid;Größe\n1;2\n")
    staged = load(con, path)
    assert staged.details["encoding"] == "UTF-8 with BOM"
    assert list(types(con, staged)) == ["id", "Größe"]


def test_utf16_with_bom_is_read(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write(tmp_path, "Name\tWert\nÄpfel\t3\n".encode("utf-16"), "excel.txt")
    staged = load(con, path)
    assert (staged.details["encoding"], staged.details["delimiter"]) == ("UTF-16", "\t")
    assert rows(con, staged) == [("Äpfel", 3)]


def test_non_utf8_byte_after_ascii_head_switches_to_windows_1252(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    head = "id;name\n" + "".join(f"{i};Herne\n" for i in range(sniff.HEAD_BYTES // 10))
    path = write(tmp_path, (head + "99;Straße €\n").encode("cp1252"))
    staged = load(con, path)
    assert staged.details["encoding"] == "Windows-1252"
    assert rows(con, staged)[-1] == (99, "Straße €")


def test_invalid_utf8_after_utf8_head_is_refused_with_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    head = "id;name\n1;Straße\n" + "".join(f"{i};Herne\n" for i in range(sniff.HEAD_BYTES // 10))
    data = head.encode() + b"7;Gr\xf6\xdfe\n"
    path = write(tmp_path, data)
    with pytest.raises(IngestError, match="not valid UTF-8") as err:
        load(con, path)
    assert err.value.details == {"file": "data.csv", "line": data.count(b"\n")}


def test_binary_file_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write(tmp_path, bytes(range(256)) * 16, "blob.csv")
    with pytest.raises(IngestError, match="not text"):
        load(con, path)


# --- dialects -------------------------------------------------------------------------------


def test_semicolon_with_decimal_comma(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write(tmp_path, "Anlage;Leistung [kW];Preis\nA;1.234,5;0,25\nB;17,25;1.000\n")
    staged = load(con, path)
    assert staged.details["decimal_separator"] == ","
    assert types(con, staged)["Leistung [kW]"] == "DOUBLE"
    assert rows(con, staged) == [("A", 1234.5, 0.25), ("B", 17.25, 1000.0)]


@pytest.mark.parametrize(("delimiter", "suffix"), [("\t", "tsv"), ("|", "txt"), (",", "csv")])
def test_other_delimiters(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, delimiter: str, suffix: str
) -> None:
    text = delimiter.join(["id", "wert"]) + "\n" + delimiter.join(["1", "2.5"]) + "\n"
    staged = load(con, write(tmp_path, text, f"d.{suffix}"))
    assert staged.details["delimiter"] == delimiter
    assert rows(con, staged) == [(1, 2.5)]


def test_quoted_fields_hold_delimiters_quotes_and_newlines(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = 'id,text\n1,"Flensburg, Stadt"\n2,"zwei\nZeilen"\n3,"sagte ""ja"""\n'
    staged = load(con, write(tmp_path, text))
    assert rows(con, staged) == [(1, "Flensburg, Stadt"), (2, "zwei\nZeilen"), (3, 'sagte "ja"')]


def test_preamble_of_three_lines(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    text = (
        "Stadtwerke Herne \u2013 Export vom 01.02.2024\n"
        "Zeitraum;Januar 2024\n"
        "\n"
        "Zähler;Verbrauch\nA-1;12,5\nA-2;3\n"
    )
    staged = load(con, write(tmp_path, text))
    assert (staged.details["preamble_lines"], staged.details["header_line"]) == (3, 4)
    assert rows(con, staged) == [("A-1", 12.5), ("A-2", 3.0)]


def test_details_name_what_was_detected(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    staged = load(con, write(tmp_path, "a;b\n1;2\n"))
    assert staged.format == "csv"
    assert staged.details == {
        "encoding": "UTF-8",
        "delimiter": ";",
        "quote_char": '"',
        "preamble_lines": 0,
        "header_line": 1,
        "decimal_separator": ",",
    }


def test_single_column_file(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    staged = load(con, write(tmp_path, "name\nMüller, Hans\n\nMeier\n\n\n"))
    assert staged.details["delimiter"] is None
    assert rows(con, staged) == [("Müller, Hans",), (None,), ("Meier",)]


# --- values -----------------------------------------------------------------------------------


def test_german_dates_and_datetimes(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    text = "Tag;Zeit;Sekunde\n31.12.2024;31.12.2024 14:30;31.12.2024 14:30:15\n"
    staged = load(con, write(tmp_path, text))
    assert list(types(con, staged).values()) == ["DATE", "TIMESTAMP", "TIMESTAMP"]
    got = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM ({staged.select_sql})").fetchall()
    assert got == [("2024-12-31", "2024-12-31 14:30:00", "2024-12-31 14:30:15")]


def test_iso_timestamps_with_offset_become_utc(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = "t,naive\n2024-05-01T10:00:00+02:00,2024-05-01T10:00:00\n"
    staged = load(con, write(tmp_path, text))
    assert types(con, staged) == {"t": "TIMESTAMP WITH TIME ZONE", "naive": "TIMESTAMP"}
    got = con.execute(f"SELECT epoch(t), epoch(naive) FROM ({staged.select_sql})").fetchone()
    assert got == (1714550400.0, 1714557600.0)


def test_unquoted_empty_is_null_and_quoted_empty_stays_empty(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(con, write(tmp_path, 'text;n\n"";""\n;\nx;1\n'))
    assert rows(con, staged) == [("", None), (None, None), ("x", 1)]


def test_stray_null_marker_in_late_row_keeps_column_integer(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    body = [f"{i};{i * 3}\n" for i in range(50_000)]
    body[49_000] = "49000;N/A\n"
    staged = load(con, write(tmp_path, "id;menge\n" + "".join(body)))
    assert types(con, staged)["menge"] == "BIGINT"
    assert staged.notes["menge"].null_markers == {"N/A": 1}
    got = con.execute(f"SELECT count(menge), sum(menge) FROM ({staged.select_sql})").fetchone()
    assert got == (49_999, 3 * (sum(range(50_000)) - 49_000))


def test_stray_text_in_numeric_column_is_reported_with_its_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    body = [f"{i};{i}.5\n" for i in range(5_000)]
    body[4_321] = "4321;abc\n"
    staged = load(con, write(tmp_path, "Export\n\nid;wert\n" + "".join(body)))
    assert types(con, staged)["wert"] == "VARCHAR"
    note = staged.notes["wert"]
    assert note.rejected == [Rejected(4_325, "abc")]
    assert note.message == "kept as text: 1 value of 5,000 is not a valid number; line 4,325"


def test_reported_lines_count_multiline_records_and_blank_lines(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    text = 'id;text;n\n1;"a\nb";5\n\n2;x;abc\n3;y;7\n\n4;z;8\n5;"c\n\nd";9\n6;w;xyz\n'
    staged = load(con, write(tmp_path, text))
    assert [r.line for r in staged.notes["n"].rejected] == [5, 13]


def test_parquet_keeps_the_types(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    text = "id;wert;tag;zeit;ok\n1;1,5;31.12.2024;2024-01-01T10:00:00Z;ja\n2;;01.01.2024;;nein\n"
    staged = load(con, write(tmp_path, text))
    target = tmp_path / "v.parquet"
    con.execute(f"COPY ({staged.select_sql}) TO {sql_string(str(target))} (FORMAT parquet)")
    described = con.execute(f"DESCRIBE SELECT * FROM {sql_string(str(target))}").fetchall()
    assert [str(r[1]) for r in described] == [
        "BIGINT",
        "DOUBLE",
        "DATE",
        "TIMESTAMP WITH TIME ZONE",
        "BOOLEAN",
    ]


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a;b\n1;2\n3;4;5\n", "Row has 3 fields, the header has 2.", 3),
        ('a;b\n1;"x\ny"\n\n3\n', "Row has 1 field, the header has 2.", 5),
        ('a;b\n1;2\n3;"open\n4;5\n', "A quoted field is not closed", 3),
    ],
)
def test_malformed_rows_are_refused_with_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, text: str, message: str, line: int
) -> None:
    with pytest.raises(IngestError, match=message) as err:
        load(con, write(tmp_path, text), display_name="upload.csv")
    assert err.value.details == {"file": "upload.csv", "line": line}


def test_ragged_row_message_shows_no_values(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(IngestError) as err:
        load(con, write(tmp_path, "name;iban\nErika;DE02120300000000202051;x\n"))
    assert "Erika" not in str(err.value)
    assert "DE02" not in str(err.value.to_dict())


@pytest.mark.parametrize(
    ("text", "message", "details"),
    [
        ("id;Wert;wert\n1;2;3\n", "Columns 2 and 3 have the same name", {"column": "wert"}),
        ("id;;x\n1;2;3\n", "Column 2 has no name", {"column": 2}),
        ("id;wert\n", "no data rows below its header", {"line": 1}),
        ("Stadtwerke Herne Export\n", "no data rows below its header", {"line": 1}),
        (" \n\t\n", "empty or contains only blank lines", {}),
        ("", "empty or contains only blank lines", {}),
    ],
)
def test_unusable_headers_and_empty_files_are_refused(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    text: str,
    message: str,
    details: dict[str, Any],
) -> None:
    with pytest.raises(IngestError, match=message) as err:
        load(con, write(tmp_path, text))
    assert details.items() <= err.value.details.items()
    assert err.value.details["file"] == "data.csv"


# --- real open data -----------------------------------------------------------------------


def test_sensor_community_file(con: duckdb.DuckDBPyConnection) -> None:
    path = shared("airquality-sensorcommunity-bochum/2021-04-26_sds011_sensor_3659.csv")
    staged = load(con, path)
    got = types(con, staged)
    assert staged.details["delimiter"] == ";"
    assert got["timestamp"] == "TIMESTAMP"
    assert (got["P1"], got["lat"], got["sensor_id"]) == ("DOUBLE", "DOUBLE", "BIGINT")
    assert got["durP1"] == "VARCHAR"  # empty throughout
    summary = con.execute(
        f"SELECT count(*), count(durP1), min(timestamp)::VARCHAR FROM ({staged.select_sql})"
    ).fetchone()
    assert summary == (573, 0, "2021-04-26 00:01:55")


def test_municipality_keys_keep_leading_zeros(con: duckdb.DuckDBPyConnection) -> None:
    staged = load(con, shared("energy-stats-per-ags/ags_2021.csv"))
    assert types(con, staged) == {"ags": "VARCHAR", "description": "VARCHAR"}
    found = con.execute(
        f"SELECT description FROM ({staged.select_sql}) WHERE ags = '01001000'"
    ).fetchone()
    assert found == ("Flensburg, Stadt",)
    assert "leading zeros" in (staged.notes["ags"].message or "")


def test_column_empty_at_the_top_is_typed_from_later_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    body = [f"{i};\n" for i in range(3_000)] + [f"{i};{i}\n" for i in range(3_000, 3_010)]
    staged = load(con, write(tmp_path, "id;spaet\n" + "".join(body)))
    assert types(con, staged)["spaet"] == "BIGINT"
    got = con.execute(f"SELECT sum(spaet) FROM ({staged.select_sql})").fetchone()
    assert got == (sum(range(3_000, 3_010)),)


def test_clean_file_is_read_again_by_the_select(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(con, write(tmp_path, "a;b\n1;2\n"))
    assert "read_csv(" in staged.select_sql  # no copy of the rows was kept in DuckDB


def test_null_markers_are_counted_without_storing_the_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    staged = load(con, write(tmp_path, "a;b\nx;1\ny;N/A\n"))
    assert "read_csv(" in staged.select_sql
    assert staged.notes["b"].null_markers == {"N/A": 1}


def test_rows_are_stored_once_rejected_values_must_be_located(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(tmp_path, "a;b\nä;1\nö;2\nü;drei\n".encode("cp1252"))
    staged = load(con, path)
    assert "read_csv(" not in staged.select_sql
    assert staged.cleanup == []  # the transcoded copy was removed right away
    assert list((tmp_path / "duck").glob("datenschatz-*")) == []
    assert rows(con, staged) == [("ä", "1"), ("ö", "2"), ("ü", "drei")]
    assert staged.notes["b"].rejected == [Rejected(4, "drei")]
