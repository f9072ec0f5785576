"""Every bad file in tests/ingest/corpus/ fails with exactly the error cases.yaml names.

The manifest pins the error class, its machine code, the public message and the details
(file, line, column, ...), so a change in any of them is a deliberate, reviewed change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from datenschatz import errors
from datenschatz.ingest import tabular, text
from datenschatz.ingest.model import IngestOptions
from datenschatz.ingest.readers import Reader
from datenschatz.store.duck import connect

CORPUS = Path(__file__).parent / "corpus"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text("utf-8"))
READERS: dict[str, Reader] = {
    ".csv": text.read_csv,
    ".txt": text.read_csv,
    ".xlsx": tabular.read_xlsx,
    ".json": tabular.read_json,
    ".ndjson": tabular.read_ndjson,
}
PERSONAL = ("Erika", "Mustermann", "DE02120300000000202051", "DE02500105170137075030")


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(spatial=False)
    yield connection
    connection.close()


def case_id(case: dict[str, Any]) -> str:
    options = ",".join(case.get("options", {}))
    return f"{case['file']}+{options}" if options else str(case["file"])


def test_every_corpus_file_has_a_case() -> None:
    listed = {case["file"] for case in CASES}
    present = {p.name for p in CORPUS.iterdir() if p.name != "cases.yaml"}
    assert present == listed


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_file_fails_with_the_listed_error(
    con: duckdb.DuckDBPyConnection, case: dict[str, Any]
) -> None:
    path = CORPUS / case["file"]
    reader = READERS[path.suffix]
    with pytest.raises(errors.DatenschatzError) as caught:
        reader(con, path, IngestOptions(**case.get("options", {})))
    error = caught.value
    assert type(error) is getattr(errors, case["error"])
    assert error.code == case["code"]
    assert error.message == case["message"]
    assert error.details == case["details"]
    shown = json.dumps(error.to_dict(), ensure_ascii=False)
    assert not [value for value in PERSONAL if value in shown]
