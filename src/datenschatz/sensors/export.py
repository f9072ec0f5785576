"""A datastream's observations as an ordinary dataset version (Parquet), for download.

The observations are read in chunks (the memory used does not grow with the datastream),
written to a temporary Parquet file, and committed through the one version-store path
(:func:`datenschatz.ingest.pipeline.commit_version`): the version gets its Table Schema,
quality report, row count and SHA-256 like any upload, and is published through the normal
release (privacy gate included). Columns:

``observation_id``, ``phenomenon_time`` (UTC), ``phenomenon_time_end`` (for intervals),
``result_time``, ``result`` (number), and ``result_text`` (other results as JSON text) when
the datastream has any non-numeric result.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from datenschatz.catalog.datasets import VersionInfo, check_slug
from datenschatz.db.sensor_models import StaDatastream, StaObservation
from datenschatz.errors import InputError, NotFound
from datenschatz.hub import Hub
from datenschatz.ingest.model import Staged
from datenschatz.ingest.pipeline import Source, commit_version
from datenschatz.store.duck import sql_string
from datenschatz.store.versions import sha256_file

CHUNK = 50_000
SCHEMA = pa.schema(
    [
        ("observation_id", pa.int64()),
        ("phenomenon_time", pa.timestamp("us", tz="UTC")),
        ("phenomenon_time_end", pa.timestamp("us", tz="UTC")),
        ("result_time", pa.timestamp("us", tz="UTC")),
        ("result", pa.float64()),
        ("result_text", pa.string()),
    ]
)


def _text(kind: int, text: str | None, other: Any) -> str | None:
    if kind in (0, 1):
        return None
    if kind == 2:
        return text
    return json.dumps(other, ensure_ascii=False)


def _write_observations(hub: Hub, datastream_id: int, target: Path) -> tuple[int, bool]:
    """All observations of the datastream into ``target``; (rows, any non-numeric result)."""
    obs = StaObservation
    query = (
        select(
            obs.id,
            obs.phenomenon_time_start,
            obs.phenomenon_time_end,
            obs.result_time,
            obs.result_kind,
            obs.result_number,
            obs.result_string,
            obs.result_json,
        )
        .where(obs.datastream_id == datastream_id)
        .order_by(obs.phenomenon_time_start, obs.id)
        .execution_options(yield_per=CHUNK)
    )
    rows = 0
    texts = False
    with hub.session() as session, pq.ParquetWriter(target, SCHEMA) as writer:
        for part in session.execute(query).partitions():
            columns: list[list[Any]] = [[] for _ in range(6)]
            for ident, start, end, result_time, kind, number, text, other in part:
                columns[0].append(ident)
                columns[1].append(start)
                columns[2].append(end)
                columns[3].append(result_time)
                columns[4].append(number if kind in (0, 1) else None)
                value = _text(kind, text, other)
                texts = texts or value is not None
                columns[5].append(value)
            writer.write_table(pa.Table.from_arrays(columns_as_arrays(columns), schema=SCHEMA))
            rows += len(part)
    return rows, texts


def columns_as_arrays(columns: list[list[Any]]) -> list[pa.Array]:
    return [pa.array(values, type=SCHEMA.field(i).type) for i, values in enumerate(columns)]


def publish_datastream(
    hub: Hub,
    datastream_id: int,
    slug: str,
    *,
    title: str | None = None,
    org: str | None = None,
    actor: str,
) -> VersionInfo:
    """Store the datastream's observations as the next version of ``slug`` (a draft if new).

    A trusted operation (the CLI); the version is published, like any other, only through a
    release that passes the automatic checks.
    """
    check_slug(slug)
    with hub.session() as session:
        datastream = session.get(StaDatastream, datastream_id)
        if datastream is None:
            raise NotFound("No such datastream.", datastream=datastream_id)
        name = datastream.name
    hub.store.ensure()
    tmp = hub.settings.tmp_dir / f"datastream-{datastream_id}-{uuid.uuid4().hex}.parquet"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        rows, texts = _write_observations(hub, datastream_id, tmp)
        if rows == 0:
            raise InputError("The datastream has no observations yet.", datastream=datastream_id)
        columns = "observation_id, phenomenon_time, phenomenon_time_end, result_time, result"
        if texts:
            columns += ", result_text"
        staged = Staged(
            select_sql=f"SELECT {columns} FROM read_parquet({sql_string(str(tmp))})",
            format="sensorthings",
            details={"datastream": datastream_id},
        )
        source = Source(f"Datastream {datastream_id}: {name}", tmp.stat().st_size, sha256_file(tmp))
        con = hub.duckdb(spatial=False)
        try:
            return commit_version(
                hub,
                con,
                staged,
                dataset=slug,
                source=source,
                title=title or f"Observations: {name}",
                org=org,
                actor=actor,
            )
        finally:
            con.close()
    finally:
        tmp.unlink(missing_ok=True)
