"""Write-once Parquet files for dataset versions.

A version file is written to a temporary file in the store's tmp directory, flushed with
fsync, hashed and renamed into place (rename is atomic on one file system), then the directory
is fsynced. Only then does the caller record it in the relational store, in one transaction.
A crash at any point leaves either no file, a stray ``*.partial`` in tmp/ (never served), or an
orphan file that no catalog row points at (reported by ``datenschatz store check``).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datenschatz.store.duck import sql_string

if TYPE_CHECKING:
    import duckdb

PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """A complete version file in the store."""

    relpath: str
    byte_size: int
    sha256: str
    row_count: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VersionStore:
    """The directory of version files; paths in the catalog are relative to ``root``."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.tmp = tmp

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, relpath: str) -> Path:
        resolved = (self.root / relpath).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ValueError(f"version path escapes the store: {relpath!r}")
        return resolved

    def write(self, con: duckdb.DuckDBPyConnection, select_sql: str, prefix: str) -> StoredFile:
        """Run ``select_sql`` on ``con`` and store its result as a new version file."""
        self.ensure()
        name = uuid.uuid4().hex
        partial = self.tmp / f"{name}.parquet.partial"
        try:
            con.execute(f"COPY ({select_sql}) TO {sql_string(str(partial))} ({PARQUET_OPTIONS})")
            with partial.open("rb+") as fh:
                os.fsync(fh.fileno())
            sha = sha256_file(partial)
            size = partial.stat().st_size
            row = con.execute(
                f"SELECT count(*) FROM read_parquet({sql_string(str(partial))})"
            ).fetchone()
            rows = int(row[0]) if row else 0
            target_dir = self.root / prefix
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / f"{name}.parquet"
            os.replace(partial, target)
            _fsync_dir(target_dir)
        finally:
            partial.unlink(missing_ok=True)
        return StoredFile(f"{prefix}/{name}.parquet", size, sha, rows)

    def discard(self, relpath: str) -> None:
        """Remove a file whose catalog transaction failed (best effort)."""
        self.path(relpath).unlink(missing_ok=True)

    def files(self) -> Iterator[str]:
        """Relative paths of every version file on disk."""
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*.parquet")):
            yield path.relative_to(self.root).as_posix()

    def partials(self) -> list[Path]:
        """Temporary files left by an interrupted write."""
        if not self.tmp.exists():
            return []
        return sorted(self.tmp.glob("*.partial"))
