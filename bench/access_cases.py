"""The requests of the data-access benchmark: what each peer is asked, and how to read it.

Each case pairs the hub's request with Datasette's equivalent; round ``r`` picks the filter value
or metric column, so that the peers answer the same question in a round and another one in the
next. A parser turns a reply into a ``Sample``: its time, whether the answer is complete (not
cut by a time or size limit) and the value both peers must agree on.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from access_setup import DATASET
from generate_csv import DISTRICTS

HUB = "datenschatz"
DS = "datasette"
DS_NO_FACETS = "datasette, no facets"
API = f"/api/v1/datasets/{DATASET}"
TABLE = f"/bench/{DATASET}"  # Datasette's table page
DEEP_ROW = 900_000  # the deep page starts after this many rows
PAGE = 100
AGG_COLUMNS = ("value", "temperature_c", "customer_count", "latitude", "longitude")
CASES = (
    "filtered_page",
    "first_page",
    "deep_page",
    "aggregate",
    "filtered_count",
    "csv_export",
)


@dataclass
class Reply:
    status: int
    seconds: float
    body: bytes
    size: int
    lines: int


def fetch(port: int, path: str, *, stream: bool = False, timeout: float = 1800.0) -> Reply:
    """GET ``path``; time to the last byte. ``stream`` counts bytes and lines, keeps nothing."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        start = time.perf_counter()
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        resp = conn.getresponse()
        if not stream:
            body = resp.read()
            return Reply(resp.status, time.perf_counter() - start, body, len(body), 0)
        size = lines = 0
        while block := resp.read(1 << 20):
            size += len(block)
            lines += block.count(b"\n")
        return Reply(resp.status, time.perf_counter() - start, b"", size, lines)
    finally:
        conn.close()


@dataclass
class Sample:
    seconds: float
    complete: bool  # False: timed out, or an answer without what was asked (e.g. no count)
    value: Any = None  # what both peers must agree on (a count, the first id, ...)
    note: str = ""
    peak_rss_mb: float | None = None
    base_rss_mb: float | None = None


Parse = Callable[[Reply], Sample]


@dataclass(frozen=True)
class Variant:
    """How one peer answers one case: the path for round ``r`` and how to read the reply."""

    peer: str  # label in the tables
    server: str  # HUB or DS
    path: Callable[[int], str]
    parse: Parse
    stream: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    variants: tuple[Variant, ...]
    repeat_key: str = "repeat"  # which --option sets its rounds


def _json(reply: Reply) -> Any:
    return json.loads(reply.body)


def _timed_out(reply: Reply) -> bool:
    return reply.status != 200 and b"too long" in reply.body


def _failed(reply: Reply) -> Sample:
    if _timed_out(reply):
        return Sample(reply.seconds, False, note="timed out (SQL time limit)")
    text = reply.body[:300].decode("utf-8", "replace")
    raise RuntimeError(f"HTTP {reply.status}: {text}")


def _hub_page(reply: Reply) -> Sample:
    if reply.status != 200:
        return _failed(reply)
    doc = _json(reply)
    count = doc["count"]
    note = "count estimated" if count["estimated"] else ""
    first = doc["rows"][0]["reading_id"] if doc["rows"] else None
    return Sample(reply.seconds, not count["estimated"], (count["value"], first), note)


def _ds_page(reply: Reply) -> Sample:
    if reply.status != 200:
        return _failed(reply)
    doc = _json(reply)
    count = doc["filtered_table_rows_count"]
    first = None
    if doc["rows"]:
        first = int(doc["rows"][0][doc["columns"].index("reading_id")])
    note = "count omitted (time limit)" if count is None else ""
    return Sample(reply.seconds, count is not None, (count, first), note)


def _hub_groups(reply: Reply) -> Sample:
    if reply.status != 200:
        return _failed(reply)
    rows = _json(reply)["rows"]
    groups = sorted((r.get("district"), r["count"]) for r in rows)
    return Sample(reply.seconds, True, groups)


def _ds_groups(reply: Reply) -> Sample:
    if reply.status != 200:
        return _failed(reply)
    rows = _json(reply)
    groups = sorted((r.get("district"), r["count"]) for r in rows)
    return Sample(reply.seconds, True, groups)


def _csv_rows(expected: int) -> Parse:
    """Reads a streamed CSV reply: complete only with every row (Datasette cuts at max_csv_mb)."""

    def parse(reply: Reply) -> Sample:
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status}")
        rows = reply.lines - 1  # the generator writes no line breaks inside fields
        note = f"{reply.size / 1e6:.0f} MB"
        if rows != expected:
            note += f", {rows:,} of {expected:,} rows"
        return Sample(reply.seconds, rows == expected, rows, note)

    return parse


def _q(text: str) -> str:
    return quote(text, safe="")


def _district(r: int) -> str:
    return "Herne-Mitte" if r < 0 else DISTRICTS[r % len(DISTRICTS)]


def _agg_column(r: int) -> str:
    return AGG_COLUMNS[r % len(AGG_COLUMNS)]


def _threshold(r: int) -> str:
    return "5.25" if r < 0 else f"{10.5 + r:.2f}"


def _ds_sql(sql: str) -> str:
    return f"/bench.json?sql={_q(sql)}&_shape=array"


def build_cases(deep_cursor: str | None, expected: int) -> list[Case]:
    cases = [
        Case(
            "filtered_page",
            f"filtered page with its total count (district=…, {PAGE} rows)",
            (
                Variant(
                    HUB,
                    HUB,
                    lambda r: f"{API}/rows?district={_q(_district(r))}&_limit={PAGE}",
                    _hub_page,
                ),
                Variant(
                    DS,
                    DS,
                    lambda r: f"{TABLE}.json?district={_q(_district(r))}&_size={PAGE}",
                    _ds_page,
                ),
                Variant(
                    DS_NO_FACETS,
                    DS,
                    lambda r: (
                        f"{TABLE}.json?district={_q(_district(r))}&_size={PAGE}"
                        "&_nofacet=1&_nosuggest=1"
                    ),
                    _ds_page,
                ),
            ),
        ),
        Case(
            "first_page",
            f"first page, no filter ({PAGE} rows)",
            (
                Variant(HUB, HUB, lambda r: f"{API}/rows?_limit={PAGE}", _hub_page),
                Variant(DS, DS, lambda r: f"{TABLE}.json?_size={PAGE}", _ds_page),
            ),
        ),
    ]
    if deep_cursor is not None:
        cases.append(
            Case(
                "deep_page",
                f"page at row {DEEP_ROW:,} (keyset cursor, {PAGE} rows)",
                (
                    Variant(
                        HUB,
                        HUB,
                        lambda r: f"{API}/rows?_limit={PAGE}&_next={deep_cursor}",
                        _hub_page,
                    ),
                    Variant(
                        DS, DS, lambda r: f"{TABLE}.json?_size={PAGE}&_next={DEEP_ROW}", _ds_page
                    ),
                ),
            )
        )
    cases += [
        Case(
            "aggregate",
            "group-by aggregate (district; count, avg of a number column)",
            (
                Variant(
                    HUB,
                    HUB,
                    lambda r: (
                        f"{API}/aggregate?group_by=district&metrics=count,avg:{_agg_column(r)}"
                    ),
                    _hub_groups,
                ),
                Variant(
                    DS,
                    DS,
                    lambda r: _ds_sql(
                        f"select district, count(*) as count, avg({_agg_column(r)}) as avg "
                        "from readings group by district order by district"
                    ),
                    _ds_groups,
                ),
            ),
        ),
        Case(
            "filtered_count",
            "count with a filter (value > x)",
            (
                Variant(
                    HUB,
                    HUB,
                    lambda r: f"{API}/aggregate?metrics=count&value__gt={_threshold(r)}",
                    _hub_groups,
                ),
                Variant(
                    DS,
                    DS,
                    lambda r: _ds_sql(
                        f"select count(*) as count from readings where value > {_threshold(r)}"
                    ),
                    _ds_groups,
                ),
            ),
        ),
        Case(
            "csv_export",
            "full CSV export (time to last byte; server peak RSS)",
            (
                Variant(
                    HUB, HUB, lambda r: f"{API}/download.csv", _csv_rows(expected), stream=True
                ),
                Variant(
                    DS,
                    DS,
                    lambda r: f"{TABLE}.csv?_stream=on&_size=max",
                    _csv_rows(expected),
                    stream=True,
                ),
            ),
            repeat_key="export_repeat",
        ),
    ]
    return cases


def hub_deep_cursor(port: int, rows: int) -> str | None:
    """A cursor of the unfiltered query that points after row ``DEEP_ROW``.

    The cursor is the hub's own (from the first page's ``next`` link), with its position moved
    to row id ``DEEP_ROW - 1`` (0-based ids; the next page starts after it) — what a client
    holds after paging there. The page's first reading_id is checked against Datasette's.
    """
    if rows <= DEEP_ROW + PAGE:
        return None
    doc = _json(fetch(port, f"{API}/rows?_limit={PAGE}"))
    token = parse_qs(urlsplit(doc["next"]).query)["_next"][0]
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data["r"] = DEEP_ROW - 1
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
