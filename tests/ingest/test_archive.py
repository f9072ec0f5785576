"""Safe zip extraction: zip bombs, forged sizes, path traversal, links, member counts."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from datenschatz.errors import IngestError, TooLarge
from datenschatz.ingest.archive import RATIO_FLOOR, extract_zip, member_path
from datenschatz.ingest.model import IngestOptions

BOMB_BYTES = 50 * 1000 * 1000


def files_in(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 MB of zeros next to a harmless member; compresses to about 50 KB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", b"harmless")
        zf.writestr("zeros.dbf", bytes(BOMB_BYTES))
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def test_bomb_over_size_limit_is_refused_before_writing_anything(bomb: Path, dest: Path) -> None:
    options = IngestOptions(max_unpacked_bytes=10 * 1000 * 1000, display_name="upload.zip")
    with pytest.raises(TooLarge) as err:
        extract_zip(bomb, dest, options)
    assert err.value.details["file"] == "upload.zip"
    assert err.value.details["member"] == "zeros.dbf"
    assert "10000000 bytes" in err.value.message
    assert files_in(dest) == []


def test_bomb_over_compression_ratio_is_refused(bomb: Path, dest: Path) -> None:
    options = IngestOptions(max_compression_ratio=100)
    with pytest.raises(TooLarge) as err:
        extract_zip(bomb, dest, options)
    assert err.value.details["member"] == "zeros.dbf"
    assert "100:1" in err.value.message
    assert files_in(dest) == []


def _forge_uncompressed_size(path: Path, size: int) -> None:
    """Overwrite the declared size of the only member in both local and central headers."""
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, central + 24, size)
    path.write_bytes(bytes(data))


def test_member_whose_real_size_exceeds_declared_size_is_refused(
    tmp_path: Path, dest: Path
) -> None:
    path = make_zip(tmp_path / "forged.zip", {"parts.dbf": bytes(3 * RATIO_FLOOR)})
    _forge_uncompressed_size(path, 1000)
    with zipfile.ZipFile(path) as zf:
        assert zf.infolist()[0].file_size == 1000  # the lie passes the declared checks
    with pytest.raises(IngestError) as err:
        extract_zip(path, dest, IngestOptions(max_unpacked_bytes=10_000))
    assert err.value.details["member"] == "parts.dbf"
    assert files_in(dest) == []


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "data/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"],
)
def test_member_name_escaping_the_target_is_refused(tmp_path: Path, dest: Path, name: str) -> None:
    path = make_zip(tmp_path / "traversal.zip", {"ok.txt": b"fine", name: b"evil"})
    with pytest.raises(IngestError) as err:
        extract_zip(path, dest, IngestOptions())
    assert err.value.details["file"] == "traversal.zip"
    assert err.value.details["member"] == name
    assert files_in(dest) == []
    assert not (tmp_path / "evil.txt").exists()


def test_symbolic_link_member_is_refused(tmp_path: Path, dest: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"fine")
        info = zipfile.ZipInfo("passwd")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(IngestError, match="symbolic link") as err:
        extract_zip(path, dest, IngestOptions())
    assert err.value.details["member"] == "passwd"
    assert files_in(dest) == []


def test_too_many_members_are_refused(tmp_path: Path, dest: Path) -> None:
    path = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(11)})
    with pytest.raises(TooLarge, match="11 members"):
        extract_zip(path, dest, IngestOptions(), max_members=10)
    assert files_in(dest) == []


def test_members_together_over_size_limit_are_refused(tmp_path: Path, dest: Path) -> None:
    members = {f"part{i}.bin": bytes(range(256)) * 1000 for i in range(3)}  # 256 kB each
    path = make_zip(tmp_path / "sum.zip", members)
    with pytest.raises(TooLarge) as err:
        extract_zip(path, dest, IngestOptions(max_unpacked_bytes=600_000))
    assert err.value.details["member"] == "part2.bin"
    assert files_in(dest) == []


def test_duplicate_member_names_are_refused(tmp_path: Path, dest: Path) -> None:
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.shp", b"one")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("a.shp", b"two")
    with pytest.raises(IngestError, match="more than once"):
        extract_zip(path, dest, IngestOptions())
    assert files_in(dest) == []


def test_file_that_is_not_a_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK\x03\x04 but not really a zip")
    with pytest.raises(IngestError, match="not a valid zip"):
        extract_zip(path, dest, IngestOptions())


def test_small_very_compressible_member_is_accepted(tmp_path: Path, dest: Path) -> None:
    blank = bytes(RATIO_FLOOR // 2)  # ratio far above the limit, but harmless in size
    path = make_zip(tmp_path / "blank.zip", {"blank.dbf": blank})
    written = extract_zip(path, dest, IngestOptions(max_compression_ratio=10))
    assert written == [dest.resolve() / "blank.dbf"]
    assert written[0].read_bytes() == blank


def test_selected_members_are_extracted_with_their_folders(tmp_path: Path, dest: Path) -> None:
    path = make_zip(
        tmp_path / "data.zip",
        {"data/roads.shp": b"shp", "data/roads.dbf": b"dbf", "docs/readme.pdf": b"pdf"},
    )
    written = extract_zip(
        path, dest, IngestOptions(), select=lambda p: p.suffix in {".shp", ".dbf"}
    )
    root = dest.resolve()
    assert written == [root / "data" / "roads.shp", root / "data" / "roads.dbf"]
    assert (root / "data" / "roads.dbf").read_bytes() == b"dbf"
    assert not (root / "docs").exists()


def test_member_path_ignores_dot_segments_and_marks_directories() -> None:
    assert member_path("./a/./b.txt", "x.zip") == PurePosixPath("a/b.txt")
    assert member_path("folder/", "x.zip") is None
