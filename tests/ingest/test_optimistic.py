"""Large CSV files are read in one optimistic pass; it never yields a different version.

The optimistic reading guesses types from the first rows and checks every value while the
Parquet file is written. When a value defies the guess, the pipeline reads the file carefully
instead. Each test here ingests the same file both ways and compares what was stored.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from datenschatz import errors
from datenschatz.db.models import Version
from datenschatz.hub import Hub
from datenschatz.ingest import text
from datenschatz.ingest.infer import SAMPLE_ROWS
from datenschatz.ingest.model import IngestOptions
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.store.duck import connect, sql_string

CORPUS = Path(__file__).parent / "corpus"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
# Text files with content (the pipeline refuses an empty file before any reader runs).
TEXT_CASES = [
    c
    for c in CASES
    if Path(c["file"]).suffix in {".csv", ".tsv", ".txt"} and (CORPUS / c["file"]).stat().st_size
]


@pytest.fixture
def optimistic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as large: the optimistic pass is tried first."""
    monkeypatch.setattr(text, "OPTIMISTIC_MIN_BYTES", 0)


def regular_rows(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        rows.append(
            f"{i};HER-{rng.randint(1000, 9999)};{rng.randint(0, 9999) / 10:.1f};"
            f"2024-03-{rng.randint(1, 28):02d};2024-03-01T{rng.randint(0, 23):02d}:15:00;"
            f"{rng.choice(['ja', 'nein'])};{rng.choice(['Sodingen', 'Holsterhausen', ''])}"
        )
    return rows


HEADER = "id;station;wert;tag;zeit;geprueft;bezirk"


def stored(hub: Hub, slug: str) -> tuple[dict[str, Any], dict[str, Any], list[tuple[Any, ...]]]:
    with hub.session() as session:
        version = session.scalars(select(Version).where(Version.path.startswith(f"{slug}/"))).one()
        schema, quality, path = version.table_schema, version.quality, version.path
    con = connect(spatial=False)
    try:
        rows = con.execute(
            f"SELECT * FROM read_parquet({sql_string(str(hub.store.path(path)))}) ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return schema, quality, rows


def ingest_both(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, path: Path
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    monkeypatch.setattr(text, "OPTIMISTIC_MIN_BYTES", 1 << 62)
    ingest_file(hub, path, dataset="careful", actor="test")
    monkeypatch.setattr(text, "OPTIMISTIC_MIN_BYTES", 0)
    ingest_file(hub, path, dataset="optimistic", actor="test")
    return stored(hub, "careful"), stored(hub, "optimistic")


def test_a_regular_file_is_written_in_one_pass(sqlite_hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "messwerte.csv"
    path.write_text("\n".join([HEADER, *regular_rows(SAMPLE_ROWS + 500)]) + "\n", "utf-8")
    con = sqlite_hub.duckdb()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(text, "OPTIMISTIC_MIN_BYTES", 0)
            staged = text.read_csv(con, path, IngestOptions())
    finally:
        con.close()
    assert staged.retry is not None
    assert "error(" in staged.select_sql  # values are checked while they are converted


def test_one_pass_and_careful_reading_store_the_same_version(
    sqlite_hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "messwerte.csv"
    path.write_text("\n".join([HEADER, *regular_rows(SAMPLE_ROWS + 500)]) + "\n", "utf-8")
    careful, optimistic = ingest_both(sqlite_hub, monkeypatch, path)
    assert optimistic == careful
    types = {f["name"]: f["type"] for f in careful[0]["fields"]}
    assert types["wert"] == "number"
    assert types["tag"] == "date"
    assert types["geprueft"] == "boolean"


@pytest.mark.parametrize(
    ("late_value", "column"),
    [
        ("k.A.", "wert"),  # a null marker: careful reading records it
        ("12,5", "wert"),  # a decimal comma where points were guessed
        ("1,234.5", "wert"),  # a thousands separator the first rows did not show
        (" 17.0", "wert"),  # padded
        ("2024-02-30", "tag"),  # not a date: the column stays text
        ("vielleicht", "geprueft"),
    ],
)
def test_a_late_misfit_falls_back_to_the_careful_reading(
    sqlite_hub: Hub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    late_value: str,
    column: str,
) -> None:
    rows = regular_rows(SAMPLE_ROWS + 500)
    cells = rows[-3].split(";")
    cells[HEADER.split(";").index(column)] = late_value
    rows[-3] = ";".join(cells)
    path = tmp_path / "spaet.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", "utf-8")
    with caplog.at_level(logging.INFO, logger="datenschatz.ingest.pipeline"):
        careful, optimistic = ingest_both(sqlite_hub, monkeypatch, path)
    assert optimistic == careful
    # The guess was caught out by the late value, once (on the optimistic run).
    assert [r.getMessage() for r in caplog.records if "did not hold" in r.getMessage()] == [
        "optimistic reading of spaet.csv did not hold; reading it carefully"
    ]


@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda c: str(c["file"]))
@pytest.mark.usefixtures("optimistic")
def test_bad_files_fail_alike_through_the_pipeline(sqlite_hub: Hub, case: dict[str, Any]) -> None:
    path = CORPUS / case["file"]
    options = IngestOptions(**case.get("options", {}))
    with pytest.raises(errors.DatenschatzError) as caught:
        ingest_file(sqlite_hub, path, dataset="kaputt", options=options, actor="test")
    error = caught.value
    assert type(error) is getattr(errors, case["error"])
    assert (error.code, error.message, error.details) == (
        case["code"],
        case["message"],
        case["details"],
    )
    with sqlite_hub.session() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 0
    assert list(sqlite_hub.store.files()) == []
    assert sqlite_hub.store.partials() == []


def test_windows_1252_further_down_is_found_by_the_pass_and_read_carefully(
    sqlite_hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ASCII head does not prove UTF-8: the one pass skips the full validation, DuckDB
    refuses the first Windows-1252 byte, and the careful reading transcodes the file."""
    rows = regular_rows(SAMPLE_ROWS + 500)
    rows[-3] = rows[-3].rsplit(";", 1)[0] + ";Börnig"
    path = tmp_path / "windows.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("cp1252"))
    careful, optimistic = ingest_both(sqlite_hub, monkeypatch, path)
    assert optimistic == careful
    assert careful[1]["details"]["encoding"] == optimistic[1]["details"]["encoding"]
    assert any(row[-1] == "Börnig" for row in optimistic[2])


@pytest.mark.usefixtures("optimistic")
def test_invalid_utf8_further_down_is_refused_with_its_line(
    sqlite_hub: Hub, tmp_path: Path
) -> None:
    """A head with UTF-8 umlauts makes the file UTF-8 for sure; a stray byte below is an error
    naming its line, whichever reading meets it first."""
    rows = regular_rows(SAMPLE_ROWS + 500)
    rows[0] = rows[0].rsplit(";", 1)[0] + ";Börnig"
    data = ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")
    bad_line = len(rows) - 1  # the header is line 1
    lines = data.split(b"\n")
    lines[bad_line - 1] = lines[bad_line - 1].replace(b"HER-", b"H\xe4R-", 1)
    path = tmp_path / "kaputt.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(errors.IngestError) as caught:
        ingest_file(sqlite_hub, path, dataset="kaputt", actor="test")
    assert caught.value.details["line"] == bad_line
    assert "UTF-8" in caught.value.message
    assert list(sqlite_hub.store.files()) == []
