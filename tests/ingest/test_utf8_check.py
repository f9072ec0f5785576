"""UTF-8 validation of a whole CSV file in small chunks: exact lines across chunk borders."""

from __future__ import annotations

from pathlib import Path

import pytest

from datenschatz.ingest.text import VALIDATE_CHUNK, _first_invalid_utf8


@pytest.mark.parametrize("chunks", [1, 2])
def test_character_split_by_a_chunk_border_is_valid_and_later_lines_count(
    tmp_path: Path, chunks: int
) -> None:
    border = VALIDATE_CHUNK * chunks
    head = b"h\n" + b"x" * (border - 3)  # the next character starts one byte before the border
    body = head + "ä\n".encode() + b"a;b\n" * 10
    assert body[border - 1 : border + 1] == "ä".encode()
    path = tmp_path / "a.csv"
    path.write_bytes(body)
    assert _first_invalid_utf8(path) is None
    path.write_bytes(body + b"x;\xe4\n")  # Latin-1 ä on line 13
    assert _first_invalid_utf8(path) == 13


def test_truncated_character_at_the_end_of_the_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"a\n" * VALIDATE_CHUNK + b"\xc3")
    assert _first_invalid_utf8(path) == VALIDATE_CHUNK + 1
