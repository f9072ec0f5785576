"""File → checked version: the one ingest path used by CLI, API, web and demo.

:func:`ingest_file` reads a source file; :func:`commit_version` stores any staged result (a
file's, or later a recipe's) as the next version of a dataset. Both change nothing in catalog
or store when they raise.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from datenschatz.errors import DatenschatzError, IngestError, InputError, TooLarge
from datenschatz.hub import Hub
from datenschatz.ingest import readers
from datenschatz.ingest.model import IngestOptions, Staged
from datenschatz.ingest.quality import build_report
from datenschatz.slugs import check_slug
from datenschatz.store.versions import sha256_file

if TYPE_CHECKING:
    from datenschatz.catalog.datasets import VersionInfo

log = logging.getLogger(__name__)

RETRIES = 10

Progress = Callable[[str], None]


def _no_progress(_stage: str) -> None:
    return None


@dataclass(frozen=True)
class Source:
    """Provenance of a version: where its content came from."""

    name: str
    size: int
    sha256: str


def ingest_file(
    hub: Hub,
    path: Path,
    *,
    dataset: str,
    title: str | None = None,
    org: str | None = None,
    options: IngestOptions | None = None,
    actor: str = "cli",
    extra: dict[str, Any] | None = None,
    progress: Progress = _no_progress,
    prepare: Callable[[], object] | None = None,
) -> VersionInfo:
    """Parse, check and store ``path`` as the next version of ``dataset``.

    Creates the dataset (as a draft, access level internal) if it is new. Bad input raises an
    IngestError naming file, line and column; nothing is then changed in catalog or store.

    While DuckDB converts the file (without holding the GIL), a thread hashes the source and
    loads what the commit needs: the relational layer, and ``prepare`` if given (the CLI's
    schema check). Its failure is raised before the catalog changes.
    """
    check_slug(dataset)
    options = options or IngestOptions(
        max_unpacked_bytes=hub.settings.max_unpacked_bytes,
        max_compression_ratio=hub.settings.max_compression_ratio,
    )
    shown = options.display_name or path.name
    if not path.is_file():
        raise InputError(
            "The file does not exist or is not a regular file.", key="ingest.not_a_file", file=shown
        )
    size = path.stat().st_size
    if size > hub.settings.max_upload_bytes:
        raise TooLarge(
            f"The file is larger than the limit of {hub.settings.max_upload_bytes} bytes "
            "(DATENSCHATZ_MAX_UPLOAD_BYTES).",
            key="ingest.too_large",
            params={"limit_bytes": hub.settings.max_upload_bytes},
            file=shown,
        )
    if size == 0:
        raise IngestError("The file is empty.", key="ingest.empty", file=shown)
    fmt = readers.detect_format(path, shown)
    con = hub.duckdb(spatial=fmt in readers.SPATIAL_FORMATS)
    staged = None
    # The source hash (provenance) is computed beside the parse; hashlib releases the GIL.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest") as pool:
        source = pool.submit(lambda: Source(shown, size, sha256_file(path)))
        ready = pool.submit(_prepare_commit, hub, prepare)
        try:
            progress("parsing")
            staged = readers.read(con, path, options, fmt)
            info = commit_version(
                hub,
                con,
                staged,
                dataset=dataset,
                source=source,
                title=title,
                org=org,
                actor=actor,
                extra=extra,
                progress=progress,
                ready=ready,
            )
            _privacy_scan(hub, con, info)
        finally:
            con.close()
            for tmp in staged.cleanup if staged else []:
                tmp.unlink(missing_ok=True)
    log.info("ingested %s as %s v%d (%d rows)", fmt, dataset, info.number, info.rows)
    return info


def _resolved(source: Source | Future[Source]) -> Source:
    return source.result() if isinstance(source, Future) else source


def _prepare_commit(hub: Hub, prepare: Callable[[], object] | None) -> None:
    """Load the relational layer, the privacy gate and the search index, open the engine, and
    run ``prepare``: the steps after the write need them."""
    import datenschatz.catalog.datasets
    import datenschatz.catalog.search_index
    import datenschatz.governance.audit
    import datenschatz.privacy.gate  # noqa: F401

    _ = hub.engine
    if prepare is not None:
        prepare()


def _privacy_scan(hub: Hub, con: duckdb.DuckDBPyConnection, info: VersionInfo) -> None:
    """The version's first privacy report (scan and role proposals); publish evaluates again."""
    from datenschatz.privacy.gate import evaluate_version

    try:
        evaluate_version(hub, info.dataset, info.number, con=con)
    except (duckdb.Error, DatenschatzError):
        log.warning("privacy scan of %s v%d failed; publish scans again", info.dataset, info.number)


def commit_version(
    hub: Hub,
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    *,
    dataset: str,
    source: Source | Future[Source],
    title: str | None = None,
    org: str | None = None,
    actor: str,
    extra: dict[str, Any] | None = None,
    progress: Progress = _no_progress,
    ready: Future[None] | None = None,
) -> VersionInfo:
    """Write ``staged`` as the next version of ``dataset``: file first, then one transaction.

    The file is complete (fsynced, renamed) before the catalog row exists; if the transaction
    fails, the file is removed again. ``source`` may still be computed by another thread, and
    ``ready`` (if given) is waited for before the transaction; an error of either is raised.
    """
    check_slug(dataset)
    progress("writing")
    try:
        stored = hub.store.write(con, staged.select_sql, prefix=dataset)
    except duckdb.Error:
        if staged.retry is None:
            raise
        name = _resolved(source).name
        log.info("optimistic reading of %s did not hold; reading it carefully", name)
        staged = staged.retry()
        stored = hub.store.write(con, staged.select_sql, prefix=dataset)
    try:
        source = _resolved(source)
        if stored.row_count == 0:
            raise IngestError("The file has no data rows.", key="ingest.no_rows", file=source.name)
        progress("reporting")
        schema, quality, bbox = build_report(con, hub.store.path(stored.relpath), staged)
        if ready is not None:
            ready.result()
        # Imported here, not at module level: an ingest loads the relational layer while
        # DuckDB writes (see ingest_file).
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError

        from datenschatz.catalog.datasets import (
            VersionInfo,
            get_or_create_dataset,
            next_version_number,
        )
        from datenschatz.db.models import Dataset, Version
        from datenschatz.governance import audit

        for attempt in range(1, RETRIES + 1):
            try:
                with hub.session() as session:
                    ds, _created = get_or_create_dataset(
                        session, dataset, title=title, org=org, extra=extra
                    )
                    # Serialise version numbering per dataset (PostgreSQL row lock; SQLite
                    # serialises writers itself and relies on the retry below).
                    session.execute(select(Dataset.id).where(Dataset.id == ds.id).with_for_update())
                    version = Version(
                        dataset=ds,
                        number=next_version_number(session, ds),
                        path=stored.relpath,
                        row_count=stored.row_count,
                        byte_size=stored.byte_size,
                        sha256=stored.sha256,
                        table_schema=schema,
                        quality=quality,
                        geometry_column=staged.geometry_column,
                        source_crs=staged.source_crs,
                        bbox=bbox,
                        source_name=source.name,
                        source_format=staged.format,
                        source_size=source.size,
                        source_sha256=source.sha256,
                        created_by=actor,
                    )
                    session.add(version)
                    session.flush()
                    audit.record(
                        session,
                        actor=actor,
                        action="dataset.ingest",
                        object_type="dataset",
                        object_id=dataset,
                        details={"version": version.number, "rows": version.row_count},
                    )
                    return VersionInfo.of(version)
            except IntegrityError:
                # A concurrent ingest took the same version number or created the dataset
                # first; read again and take the next number.
                if attempt == RETRIES:
                    raise
                log.info("version number taken concurrently, retrying (%d)", attempt)
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")
    except BaseException:
        hub.store.discard(stored.relpath)
        raise
