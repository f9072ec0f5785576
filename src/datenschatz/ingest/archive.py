"""Safe extraction of uploaded zip archives.

An uploaded zip is untrusted: it may be a zip bomb (a few kilobytes that unpack to gigabytes),
carry member names that climb out of the target directory (``../../etc/passwd``, ``/tmp/x``,
``C:\\x``), symbolic links, or far too many members. :func:`extract_zip` refuses all of these
before it writes a byte, using the sizes the archive declares, and then counts the bytes it
really writes, because declared sizes can lie. On any refusal nothing it wrote is left behind.

Limits come from :class:`~datenschatz.ingest.model.IngestOptions`: ``max_unpacked_bytes`` for
the whole archive and ``max_compression_ratio`` per member. The ratio is only enforced above
:data:`RATIO_FLOOR` bytes, because small, very regular files (a DBF of blank text fields)
legitimately compress far better than the limit and cannot hurt anyone.
"""

from __future__ import annotations

import contextlib
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from datenschatz.errors import IngestError, TooLarge
from datenschatz.ingest.model import IngestOptions

MAX_MEMBERS = 10_000
RATIO_FLOOR = 1024 * 1024
CHUNK = 64 * 1024

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHOWN_NAME_LIMIT = 120


def shown_member(name: str) -> str:
    """A member name fit for a message: control characters replaced, length bounded."""
    text = _CONTROL.sub("?", name)
    return text if len(text) <= _SHOWN_NAME_LIMIT else text[: _SHOWN_NAME_LIMIT - 1] + "…"


def member_path(name: str, archive: str) -> PurePosixPath | None:
    """The safe relative path of a member, None for a directory entry; refuses unsafe names."""
    normalised = name.replace("\\", "/")
    if not normalised or "\x00" in normalised:
        raise IngestError(
            "The archive has a member with an empty or invalid name.",
            key="ingest.archive_member_name",
            file=archive,
            member=shown_member(name),
        )
    if normalised.startswith("/") or _DRIVE.match(normalised):
        raise IngestError(
            f"The archive member '{shown_member(name)}' has an absolute path; "
            "archives must only hold relative names.",
            key="ingest.archive_member_outside",
            file=archive,
            member=shown_member(name),
        )
    parts = [p for p in normalised.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise IngestError(
            f"The archive member '{shown_member(name)}' points outside the archive (\"..\").",
            key="ingest.archive_member_outside",
            file=archive,
            member=shown_member(name),
        )
    if normalised.endswith("/"):
        return None
    if not parts:
        raise IngestError(
            "The archive has a member with an empty or invalid name.",
            key="ingest.archive_member_name",
            file=archive,
            member=shown_member(name),
        )
    return PurePosixPath(*parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def check_archive(
    zf: zipfile.ZipFile,
    options: IngestOptions,
    archive: str,
    *,
    max_members: int = MAX_MEMBERS,
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every file member with its safe path, after checking names and declared sizes."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise TooLarge(
            f"The archive has {len(infos)} members; at most {max_members} are allowed.",
            key="ingest.archive_too_many",
            params={"count": len(infos), "max": max_members},
            file=archive,
        )
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    seen: set[str] = set()
    declared_total = 0
    for info in infos:
        path = member_path(info.filename, archive)
        shown = shown_member(info.filename)
        if _is_symlink(info):
            raise IngestError(
                f"The archive member '{shown}' is a symbolic link; links are not accepted.",
                key="ingest.archive_link",
                file=archive,
                member=shown,
            )
        if path is None:
            continue
        if info.flag_bits & 0x1:
            raise IngestError(
                f"The archive member '{shown}' is encrypted; upload it without a password.",
                key="ingest.archive_encrypted",
                file=archive,
                member=shown,
            )
        key = path.as_posix().lower()
        if key in seen:
            raise IngestError(
                f"The archive holds the member '{shown}' more than once.",
                key="ingest.archive_duplicate",
                file=archive,
                member=shown,
            )
        seen.add(key)
        declared_total += info.file_size
        if declared_total > options.max_unpacked_bytes:
            raise TooLarge(
                f"The archive unpacks to more than {options.max_unpacked_bytes} bytes "
                "(limit DATENSCHATZ_MAX_UNPACKED_BYTES).",
                key="ingest.archive_too_large",
                params={"limit_bytes": options.max_unpacked_bytes},
                file=archive,
                member=shown,
            )
        _check_ratio(info.file_size, info.compress_size, options, archive, shown)
        members.append((info, path))
    return members


def _check_ratio(
    unpacked: int, packed: int, options: IngestOptions, archive: str, shown: str
) -> None:
    if unpacked > RATIO_FLOOR and unpacked > options.max_compression_ratio * max(packed, 1):
        raise TooLarge(
            f"The archive member '{shown}' is compressed more than "
            f"{options.max_compression_ratio}:1, which looks like a zip bomb "
            "(limit DATENSCHATZ_MAX_COMPRESSION_RATIO).",
            key="ingest.zip_bomb",
            params={"ratio": options.max_compression_ratio},
            file=archive,
            member=shown,
        )


def extract_zip(
    path: Path,
    dest: Path,
    options: IngestOptions,
    *,
    select: Callable[[PurePosixPath], bool] | None = None,
    max_members: int = MAX_MEMBERS,
) -> list[Path]:
    """Extract the members of ``path`` that ``select`` accepts (all by default) into ``dest``.

    ``dest`` must be an existing directory owned by the caller. Returns the written files in
    archive order. Raises TooLarge or IngestError naming the archive and member; files this
    call wrote are then removed again.
    """
    archive = options.display_name or path.name
    written: list[Path] = []
    created_dirs: list[Path] = []
    root = dest.resolve()
    try:
        with zipfile.ZipFile(path) as zf:
            members = check_archive(zf, options, archive, max_members=max_members)
            budget = options.max_unpacked_bytes
            for info, relpath in members:
                if select is not None and not select(relpath):
                    continue
                target = root.joinpath(*relpath.parts)
                if not target.resolve().is_relative_to(root):  # defence in depth
                    raise IngestError(
                        "An archive member points outside the archive.",
                        key="ingest.archive_member_outside",
                        file=archive,
                        member=shown_member(info.filename),
                    )
                _make_parents(target.parent, root, created_dirs)
                budget -= _extract_member(zf, info, target, written, budget, options, archive)
    except zipfile.BadZipFile:
        _remove(written, created_dirs)
        raise IngestError(
            "The file is not a valid zip archive.", key="ingest.archive_invalid", file=archive
        ) from None
    except BaseException:
        _remove(written, created_dirs)
        raise
    return written


def _make_parents(directory: Path, root: Path, created: list[Path]) -> None:
    missing = []
    current = directory
    while current != root and not current.exists():
        missing.append(current)
        current = current.parent
    for d in reversed(missing):
        d.mkdir()
        created.append(d)


def _extract_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    written: list[Path],
    budget: int,
    options: IngestOptions,
    archive: str,
) -> int:
    """Copy one member, counting real bytes against its declared size and the budget."""
    shown = shown_member(info.filename)
    count = 0
    try:
        with zf.open(info) as src, target.open("xb") as out:
            written.append(target)
            while chunk := src.read(CHUNK):
                count += len(chunk)
                if count > budget:
                    raise TooLarge(
                        f"The archive unpacks to more than {options.max_unpacked_bytes} bytes "
                        "(limit DATENSCHATZ_MAX_UNPACKED_BYTES).",
                        key="ingest.archive_too_large",
                        params={"limit_bytes": options.max_unpacked_bytes},
                        file=archive,
                        member=shown,
                    )
                if count > info.file_size:
                    raise IngestError(
                        f"The archive member '{shown}' is larger than the archive declares; "
                        "the archive is damaged or forged.",
                        key="ingest.archive_damaged",
                        file=archive,
                        member=shown,
                    )
                _check_ratio(count, info.compress_size, options, archive, shown)
                out.write(chunk)
    except FileExistsError:
        raise IngestError(
            f"The archive holds the member '{shown}' more than once.",
            key="ingest.archive_duplicate",
            file=archive,
            member=shown,
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise IngestError(
            f"The archive member '{shown}' is damaged (its data does not match its checksum "
            "or declared size).",
            key="ingest.archive_damaged",
            file=archive,
            member=shown,
        ) from None
    except NotImplementedError:
        raise IngestError(
            f"The archive member '{shown}' uses a compression method that is not supported; "
            "use plain zip (deflate).",
            key="ingest.archive_compression",
            file=archive,
            member=shown,
        ) from None
    if count != info.file_size:
        raise IngestError(
            f"The archive member '{shown}' is smaller than the archive declares; "
            "the archive is damaged.",
            file=archive,
            member=shown,
        )
    return count


def _remove(files: list[Path], dirs: list[Path]) -> None:
    for f in files:
        f.unlink(missing_ok=True)
    for d in reversed(dirs):
        with contextlib.suppress(OSError):
            d.rmdir()
