"""Type inference from all rows of a VARCHAR table."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from datenschatz.errors import IngestError
from datenschatz.ingest.infer import Inference, Source, check_names, infer
from datenschatz.ingest.model import MAX_EXAMPLES, Rejected
from datenschatz.store.duck import connect

FIRST_LINE = 2  # as if the table came from a CSV file with the header on line 1


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(spatial=False)
    yield connection
    connection.close()


def lines(rowids: list[int]) -> list[int]:
    return [FIRST_LINE + r for r in rowids]


def run(
    con: duckdb.DuckDBPyConnection,
    columns: dict[str, list[str | None]],
    *,
    hint: str = ".",
    fixed: dict[str, str] | None = None,
) -> Inference:
    name = f"t_{uuid.uuid4().hex[:8]}"
    arrow = pa.table({f"c{i}": pa.array(v, pa.string()) for i, v in enumerate(columns.values())})
    con.register("arrow_src", arrow)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM arrow_src")
    con.unregister("arrow_src")
    pairs = [(f"c{i}", col) for i, col in enumerate(columns)]
    source = Source(con, name, table=True)
    return infer(source, pairs, locate=lines, decimal_hint=hint, fixed=fixed)


def values(con: duckdb.DuckDBPyConnection, result: Inference, column: str) -> list[Any]:
    rows = con.execute(f'SELECT "{column}" FROM ({result.select_sql})').fetchall()
    return [r[0] for r in rows]


# --- numbers ------------------------------------------------------------------------------


def test_plain_integers_become_bigint(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"n": ["1", "-20", "300", None]})
    assert result.types["n"] == "BIGINT"
    assert values(con, result, "n") == [1, -20, 300, None]


def test_decimal_point_numbers_become_double(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"x": ["1234.56", "1,234.5", "-0.5", "1e3", ".25"]})
    assert result.types["x"] == "DOUBLE"
    assert values(con, result, "x") == [1234.56, 1234.5, -0.5, 1000.0, 0.25]
    assert result.notes["x"].inferred_from == "decimal_point"


def test_decimal_comma_with_thousands_dots_becomes_double(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = run(con, {"kw": ["1.234,56", "2,5", "-7", "12.345.678,9"]}, hint=",")
    assert result.types["kw"] == "DOUBLE"
    assert values(con, result, "kw") == [1234.56, 2.5, -7.0, 12345678.9]
    assert result.notes["kw"].inferred_from == "decimal_comma"


def test_german_thousands_groups_without_decimals_become_bigint(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = run(con, {"n": ["1.234.567", "12"], "y": ["0,5", "1,25"]})
    assert result.types["n"] == "BIGINT"
    assert values(con, result, "n") == [1234567, 12]


def test_ambiguous_column_follows_the_unambiguous_columns(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # "1.234" is 1.234 with a decimal point and 1234 with a decimal comma; y decides.
    result = run(con, {"x": ["1.234", "2.500"], "y": ["0,5", "1,25"]}, hint=".")
    assert result.decimal_separator == ","
    assert values(con, result, "x") == [1234, 2500]
    assert "fit both conventions" in (result.notes["x"].message or "")


@pytest.mark.parametrize(("hint", "expected"), [(",", [1234, 2500]), (".", [1.234, 2.5])])
def test_ambiguous_file_follows_the_hint(
    con: duckdb.DuckDBPyConnection, hint: str, expected: list[float]
) -> None:
    result = run(con, {"x": ["1.234", "2.500"]}, hint=hint)
    assert values(con, result, "x") == expected


def test_leading_zeros_keep_text_with_reason(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"ags": ["05916000", "10000000", "05913000"]})
    assert result.types["ags"] == "VARCHAR"
    assert values(con, result, "ags") == ["05916000", "10000000", "05913000"]
    note = result.notes["ags"]
    assert "leading zeros" in (note.message or "")
    assert note.rejected_count == 0


def test_integer_beyond_bigint_keeps_text(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"id": ["1", "2", "123456789012345678901234"]})
    assert result.types["id"] == "VARCHAR"
    assert result.notes["id"].rejected == [Rejected(4, "123456789012345678901234")]


def test_integers_first_then_decimals_become_double(con: duckdb.DuckDBPyConnection) -> None:
    data: list[str | None] = [*(str(i) for i in range(3000)), "2.5"]
    result = run(con, {"x": data})
    assert result.types["x"] == "DOUBLE"
    assert values(con, result, "x")[-1] == 2.5


def test_empty_head_then_numbers_are_still_typed(con: duckdb.DuckDBPyConnection) -> None:
    data: list[str | None] = [None] * 2500 + ["n/a"] * 10 + ["7", "8"]
    result = run(con, {"x": data})
    assert result.types["x"] == "BIGINT"
    assert values(con, result, "x")[-2:] == [7, 8]
    assert result.notes["x"].null_markers == {"n/a": 10}


# --- null markers and values that do not fit ----------------------------------------------


def test_null_markers_become_null_and_are_counted(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"n": ["1", "N/A", "k.A.", "-", "", "2", "N/A", "#NV", "NULL"]})
    assert result.types["n"] == "BIGINT"
    assert values(con, result, "n") == [1, None, None, None, None, 2, None, None, None]
    assert result.notes["n"].null_markers == {"N/A": 2, "#NV": 1, "-": 1, "NULL": 1, "k.A.": 1}


def test_null_markers_in_a_text_column_stay_text(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"name": ["Herne", "N/A", "-", "Bochum"]})
    assert values(con, result, "name") == ["Herne", "N/A", "-", "Bochum"]
    assert "name" not in result.notes


def test_stray_text_keeps_column_text_and_names_the_line(con: duckdb.DuckDBPyConnection) -> None:
    data: list[str | None] = [str(i) for i in range(10_000)]
    data[9_000] = "abc"
    result = run(con, {"n": data})
    assert result.types["n"] == "VARCHAR"
    note = result.notes["n"]
    assert note.rejected == [Rejected(9_002, "abc")]
    assert note.rejected_count == 1
    assert note.message == "kept as text: 1 value of 10,000 is not a valid number; line 9,002"
    assert values(con, result, "n")[9_000] == "abc"  # nothing lost


def test_rejected_examples_are_capped(con: duckdb.DuckDBPyConnection) -> None:
    data: list[str | None] = [*(str(i) for i in range(50)), *(f"x{i}" for i in range(7))]
    result = run(con, {"n": data})
    note = result.notes["n"]
    assert note.rejected_count == 7
    assert [r.line for r in note.rejected] == [52, 53, 54, 55, 56][:MAX_EXAMPLES]
    assert (note.message or "").endswith("lines 52, 53, 54, 55, 56, ...")


def test_text_column_with_a_few_numbers_is_not_reported(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"name": ["Herne", "Bochum", "42", "Dortmund"]})
    assert result.types["name"] == "VARCHAR"
    assert "name" not in result.notes


def test_padded_values_are_trimmed(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"n": [" 12 ", "7", "  8"]})
    assert values(con, result, "n") == [12, 7, 8]


def test_quoted_empty_string_stays_in_text_and_is_null_in_numbers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = run(con, {"t": ["a", "", None], "n": ["1", "", None]})
    assert values(con, result, "t") == ["a", "", None]
    assert values(con, result, "n") == [1, None, None]


def test_column_of_nulls_and_markers_stays_text(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"e": [None, None], "m": ["N/A", None]})
    assert result.types == {"e": "VARCHAR", "m": "VARCHAR"}
    assert values(con, result, "m") == ["N/A", None]


# --- booleans, dates, timestamps -----------------------------------------------------------


@pytest.mark.parametrize(
    "words", [["ja", "Nein", "JA"], ["wahr", "FALSCH", "Wahr"], ["true", "False", "TRUE"]]
)
def test_boolean_words_of_one_pair(con: duckdb.DuckDBPyConnection, words: list[str]) -> None:
    result = run(con, {"b": [*words, None]})
    assert result.types["b"] == "BOOLEAN"
    assert values(con, result, "b") == [True, False, True, None]


def test_mixed_boolean_pairs_stay_text(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"b": ["ja", "nein", "true", "false"]})
    assert result.types["b"] == "VARCHAR"


def test_zero_and_one_stay_integers(con: duckdb.DuckDBPyConnection) -> None:
    assert run(con, {"b": ["0", "1", "1"]}).types["b"] == "BIGINT"


def test_german_dates_and_datetimes(con: duckdb.DuckDBPyConnection) -> None:
    result = run(
        con,
        {
            "d": ["31.12.2024", "1.2.2024"],
            "t": ["31.12.2024 14:30", "1.2.2024 7:05:09"],
        },
    )
    assert result.types == {"d": "DATE", "t": "TIMESTAMP"}
    assert [str(v) for v in values(con, result, "d")] == ["2024-12-31", "2024-02-01"]
    assert [str(v) for v in values(con, result, "t")] == [
        "2024-12-31 14:30:00",
        "2024-02-01 07:05:09",
    ]
    assert result.notes["t"].inferred_from == "german_datetime"


def test_impossible_calendar_date_keeps_text(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"d": ["28.02.2024", "31.02.2024", "01.03.2024"]})
    assert result.types["d"] == "VARCHAR"
    assert result.notes["d"].rejected == [Rejected(3, "31.02.2024")]
    assert "not a valid date" in (result.notes["d"].message or "")


def test_iso_dates_and_naive_timestamps(con: duckdb.DuckDBPyConnection) -> None:
    result = run(
        con,
        {
            "d": ["2024-01-31", "2024-02-29"],
            "t": ["2021-04-26T00:01:55", "2021-04-26 00:04:22.5"],
            "mixed": ["2024-01-31", "2024-01-31T10:00"],
        },
    )
    assert result.types == {"d": "DATE", "t": "TIMESTAMP", "mixed": "TIMESTAMP"}


def test_offsets_become_timestamptz_in_utc(con: duckdb.DuckDBPyConnection) -> None:
    result = run(
        con, {"t": ["2024-05-01T10:00:00+02:00", "2024-05-01T08:00Z", "2024-05-01T09:00+01:00"]}
    )
    assert result.types["t"] == "TIMESTAMPTZ"
    epochs = con.execute(f'SELECT epoch("t") FROM ({result.select_sql})').fetchall()
    assert {e[0] for e in epochs} == {1714550400.0}
    assert result.notes["t"].inferred_from == "iso_timestamp_offset"


def test_timestamps_with_and_without_offset_stay_text(con: duckdb.DuckDBPyConnection) -> None:
    result = run(
        con,
        {"t": ["2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00"]},
    )
    assert result.types["t"] == "VARCHAR"
    assert result.notes["t"].rejected == [Rejected(4, "2024-05-01T10:00:00")]


def test_fixed_columns_are_cast_without_inference(con: duckdb.DuckDBPyConnection) -> None:
    result = run(con, {"j": ["[1,2]", None], "n": ["1", "2"]}, fixed={"c0": "JSON"})
    assert result.types == {"j": "JSON", "n": "BIGINT"}


# --- names ----------------------------------------------------------------------------------


def test_names_are_trimmed() -> None:
    assert check_names([" id ", "Leistung [kW]"], file="f.csv") == ["id", "Leistung [kW]"]


def test_empty_name_is_refused_with_position() -> None:
    with pytest.raises(IngestError, match="Column 2 has no name") as err:
        check_names(["a", " ", "c"], file="f.csv", line=4)
    assert err.value.details == {"file": "f.csv", "line": 4, "column": 2}


def test_duplicate_names_are_refused_with_both_positions() -> None:
    with pytest.raises(IngestError, match="Columns 1 and 3 have the same name") as err:
        check_names(["Wert", "b", "wert"], file="f.csv", line=1)
    assert err.value.details["positions"] == [1, 3]
