from __future__ import annotations

import subprocess
import sys

import pytest

from datenschatz.ingest import readers


@pytest.mark.parametrize("fmt", sorted(readers.READERS))
def test_every_format_has_a_callable_reader(fmt: str) -> None:
    assert callable(readers.reader_for(fmt))


def test_unknown_format_has_no_reader() -> None:
    assert readers.reader_for("docx") is None


def test_reading_csv_does_not_import_the_other_readers() -> None:
    code = (
        "import sys; from datenschatz.ingest import readers; readers.reader_for('csv'); "
        "print(sorted(m for m in ('openpyxl', 'datenschatz.ingest.geo') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
