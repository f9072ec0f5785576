"""Data-access benchmark: the hub's HTTP API side by side with Datasette on the same data.

Per input size (1 M rows; with ``--large`` also 10 M rows of the same generator):

1. Set-up, untimed and cached under ``bench/data/access-<rows>-<seed>/``: the hub's data
   directory (``datenschatz ingest`` + ``publish``) and a SQLite file for Datasette
   (``sqlite-utils insert --csv``, type detection on).
2. Both servers start as subprocesses on 127.0.0.1, free ports, one process each:
   ``datenschatz serve`` (uvicorn, one worker) and ``datasette serve`` (default settings).
3. Each case runs ``--repeat`` rounds, interleaved: in each round the peers answer the same
   request right after each other (their order alternates). Every round uses another filter
   value or metric column, so no answer comes from a cache the other peer lacks (the hub
   remembers exact counts per file and filter). One untimed warm-up request per case first.
4. The CSV export is timed to its last byte while a sampler thread reads the server's RSS,
   and the kernel's peak mark (VmHWM) is reset before and read after each export.
5. Requests per second on a dataset metadata endpoint under wrk (or an asyncio fallback).

Times are client wall times from sending the request to the last byte of the answer.
Run ``make bench-access`` or ``.venv/bin/python bench/bench_access.py --help``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import access_load
from access_setup import (
    DATASET,
    Server,
    build_hub,
    build_sqlite,
    sqlite_summary,
    start_datasette,
    start_hub,
)
from common import (
    DEFAULT_DATA_DIR,
    DEFAULT_SEED,
    SQLITE_UTILS_VENV,
    SQLITE_UTILS_VERSION,
    VENV_BIN,
    count_rows,
    datenschatz_version,
    describe_machine,
    ensure_csv,
    ensure_venv,
    fmt,
    machine_facts,
    output,
)
from generate_csv import DISTRICTS

DATASETTE_VERSION = "0.65.5"
DATASETTE_VENV = Path(__file__).resolve().parent / ".venv-datasette"
HUB = "datenschatz"
DS = "datasette"
DS_NO_FACETS = "datasette, no facets"
API = f"/api/v1/datasets/{DATASET}"
TABLE = f"/bench/{DATASET}"  # Datasette's table page
DEEP_ROW = 900_000  # the deep page starts after this many rows
PAGE = 100
AGG_COLUMNS = ("value", "temperature_c", "customer_count", "latitude", "longitude")
# Targets
MIN_SPEEDUP = 20.0  # hub vs Datasette on filtered page, aggregate, CSV export
MAX_DEEP_SLOWDOWN = 2.0  # hub deep page vs hub first page
MAX_EXPORT_RSS_MB = 500.0  # hub server peak RSS during a 10 M-row CSV export
MIN_RPS = 3000.0  # hub metadata endpoint, one worker
LARGE_ROWS_FOR_RSS = 10_000_000
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


@dataclass
class Series:
    case: str
    peer: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def best(self) -> float | None:
        return min(self.times) if self.samples else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.samples else None

    @property
    def incomplete(self) -> int:
        return sum(not s.complete for s in self.samples)

    @property
    def peak_rss_mb(self) -> float | None:
        peaks = [s.peak_rss_mb for s in self.samples if s.peak_rss_mb is not None]
        return max(peaks) if peaks else None


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


class RssSampler:
    """Samples a server's RSS every few milliseconds while a request runs."""

    def __init__(self, server: Server, interval: float = 0.02) -> None:
        self.server = server
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.server.rss_kb() or 0)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure_once(variant: Variant, server: Server, r: int) -> Sample:
    path = variant.path(r)
    if not variant.stream:
        return variant.parse(fetch(server.port, path))
    base_kb = server.rss_kb() or 0
    hwm_ok = server.reset_hwm()
    with RssSampler(server) as sampler:
        reply = fetch(server.port, path, stream=True)
    sample = variant.parse(reply)
    peak_kb = max(sampler.peak_kb, (server.hwm_kb() or 0) if hwm_ok else 0)
    sample.peak_rss_mb = peak_kb / 1024
    sample.base_rss_mb = base_kb / 1024
    return sample


def hub_deep_cursor(server: Server, rows: int) -> str | None:
    """A cursor of the unfiltered query that points after row ``DEEP_ROW``.

    The cursor is the hub's own (from the first page's ``next`` link), with its position moved
    to row id ``DEEP_ROW - 1`` (0-based ids; the next page starts after it) — what a client
    holds after paging there. The page's first reading_id is checked against Datasette's.
    """
    if rows <= DEEP_ROW + PAGE:
        return None
    doc = _json(fetch(server.port, f"{API}/rows?_limit={PAGE}"))
    token = parse_qs(urlsplit(doc["next"]).query)["_next"][0]
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data["r"] = DEEP_ROW - 1
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def run_cases(
    cases: list[Case], servers: dict[str, Server], args: argparse.Namespace
) -> list[Series]:
    series: dict[tuple[str, str], Series] = {}
    for case in cases:
        for v in case.variants:
            series[case.name, v.peer] = Series(case.name, v.peer)
            try:
                measure_once(v, servers[v.server], -1)  # warm-up, untimed
            except Exception as exc:
                print(f"  warm-up {case.name} / {v.peer} failed: {exc}")
    for case in cases:
        rounds = int(getattr(args, case.repeat_key))
        print(f"  {case.name}: {rounds} rounds", flush=True)
        for r in range(rounds):
            order = case.variants if r % 2 == 0 else tuple(reversed(case.variants))
            values: dict[str, Any] = {}
            for v in order:
                s = series[case.name, v.peer]
                try:
                    sample = measure_once(v, servers[v.server], r)
                except Exception as exc:
                    print(f"    {v.peer} round {r + 1} FAILED: {exc}", flush=True)
                    continue
                s.samples.append(sample)
                if sample.complete:
                    values[v.peer] = sample.value
                rss = f"  peak RSS {sample.peak_rss_mb:.0f} MB" if sample.peak_rss_mb else ""
                print(
                    f"    {v.peer:<22} round {r + 1}: {sample.seconds * 1000:9.1f} ms"
                    f"{rss}  {sample.note}",
                    flush=True,
                )
            if len(set(map(json.dumps, values.values()))) > 1:
                print(f"    WARNING {case.name} round {r + 1}: answers differ: {values}")
                for peer in values:
                    series[case.name, peer].samples[-1].note += " (answers differ!)"
    return list(series.values())


def run_load(servers: dict[str, Server], args: argparse.Namespace) -> dict[str, Any]:
    paths = {HUB: API, DS: f"{TABLE}.json?_size=0&_nocount=1&_nofacet=1&_nosuggest=1"}
    use_wrk = access_load.wrk_path() is not None and not args.no_wrk
    loads: dict[str, list[Any]] = {HUB: [], DS: []}
    print(f"  metadata_rps: {args.rps_repeat} rounds of {args.rps_seconds:.0f} s", flush=True)
    for r in range(args.rps_repeat):
        order = [HUB, DS] if r % 2 == 0 else [DS, HUB]
        for name in order:
            port = servers[name].port
            try:
                if use_wrk:
                    url = f"http://127.0.0.1:{port}{paths[name]}"
                    load = access_load.run_wrk(url, args.rps_seconds, args.rps_connections, 1)
                else:
                    load = access_load.run_async(
                        "127.0.0.1", port, paths[name], args.rps_seconds, args.rps_connections
                    )
            except Exception as exc:
                print(f"    {name} round {r + 1} FAILED: {exc}", flush=True)
                continue
            loads[name].append(load)
            print(
                f"    {name:<22} round {r + 1}: {load.rps:9.0f} req/s ({load.tool}, "
                f"{load.requests} requests, {load.errors} errors)",
                flush=True,
            )
    return {"paths": paths, **{k: [asdict(x) for x in v] for k, v in loads.items()}}


def _by(series: list[Series]) -> dict[tuple[str, str], Series]:
    return {(s.case, s.peer): s for s in series}


def _speedup(ds: Series | None, hub: Series | None) -> tuple[float | None, float | None, bool]:
    """Datasette time / hub time on best and median; True when Datasette was cut short."""
    if not ds or not hub or not ds.best or not hub.best or not ds.median or not hub.median:
        return None, None, False
    return ds.best / hub.best, ds.median / hub.median, ds.incomplete > 0


def report_table(cases: list[Case], series: list[Series]) -> str:
    by = _by(series)
    lines = [
        "| measure | peer | runs | best ms | median ms | Datasette / hub (best, median) | notes |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        hub = by.get((case.name, HUB))
        for v in case.variants:
            s = by.get((case.name, v.peer))
            if s is None or not s.samples:
                lines.append(f"| {case.name} | {v.peer} | 0 | - | - | - | failed |")
                continue
            ratio = "1.00x" if v.peer == HUB else "-"
            if v.peer != HUB:
                best, median, cut = _speedup(s, hub)
                if best and median:
                    ratio = f"{'≥ ' if cut else ''}{best:.1f}x, {median:.1f}x"
            notes = sorted({x.note.strip() for x in s.samples if x.note.strip()})
            if s.incomplete:
                notes.insert(0, f"{s.incomplete} of {len(s.samples)} cut short")
            if s.peak_rss_mb is not None:
                base = max(x.base_rss_mb or 0 for x in s.samples)
                notes.insert(0, f"peak RSS {s.peak_rss_mb:.0f} MB (idle {base:.0f} MB)")
            lines.append(
                f"| {case.name} | {v.peer} | {len(s.samples)} | {fmt(_ms(s.best), '.1f')} "
                f"| {fmt(_ms(s.median), '.1f')} | {ratio} | {'; '.join(notes)} |"
            )
    return "\n".join(lines)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def load_table(loads: dict[str, Any]) -> str:
    lines = [
        "| peer | path | rounds | best req/s | median req/s | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    paths = loads["paths"]
    for name in (HUB, DS):
        runs = loads.get(name, [])
        if not runs:
            lines.append(f"| {name} | `{paths[name]}` | 0 | - | - | - |")
            continue
        rps = [x["rps"] for x in runs]
        errors = sum(x["errors"] for x in runs)
        lines.append(
            f"| {name} | `{paths[name]}` | {len(runs)} | {max(rps):.0f} "
            f"| {statistics.median(rps):.0f} | {errors} |"
        )
    return "\n".join(lines)


def _throughput_text(hub: Series, ds: Series) -> str:
    """Rows per second of both exports: comparable even when Datasette stops at max_csv_mb."""

    def rate(series: Series) -> float | None:
        rates = [s.value / s.seconds for s in series.samples if s.value and s.seconds]
        return statistics.median(rates) if rates else None

    hub_rate, ds_rate = rate(hub), rate(ds)
    if not hub_rate or not ds_rate:
        return ""
    return (
        f"; rows/s: hub {hub_rate:,.0f}, Datasette {ds_rate:,.0f} "
        f"({hub_rate / ds_rate:.1f}x on median throughput)"
    )


def checks(rows: int, series: list[Series], loads: dict[str, Any]) -> list[dict[str, Any]]:
    by = _by(series)
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, value: float | None, text: str) -> None:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        out.append({"rows": rows, "check": name, "value": value, "result": verdict, "text": text})

    for case in ("filtered_page", "aggregate", "csv_export"):
        if (case, HUB) not in by:
            continue  # not selected (--cases)
        best, median, cut = _speedup(by.get((case, DS)), by.get((case, HUB)))
        if best is None or median is None:
            add(f"{case}_speedup", None, None, f"{case}: not measured")
            continue
        ok: bool | None = median >= MIN_SPEEDUP
        bound = ""
        if cut:  # Datasette stopped early: its time is a lower bound of a full answer
            bound = " (Datasette cut short: a lower bound)"
            ok = True if ok else None
        extra = ""
        if case == "csv_export":
            extra = _throughput_text(by[case, HUB], by[case, DS])
        if case == "filtered_page":
            _, bare, _ = _speedup(by.get((case, DS_NO_FACETS)), by.get((case, HUB)))
            if bare is not None:
                extra = f"; {bare:.1f}x against Datasette without facet suggestions"
        add(
            f"{case}_speedup",
            ok,
            median,
            f"{case}: hub {median:.1f}x Datasette on medians, {best:.1f}x on best "
            f"(target >= {MIN_SPEEDUP:.0f}x){bound}{extra}",
        )
    first, deep = by.get(("first_page", HUB)), by.get(("deep_page", HUB))
    if first and deep and first.median and deep.median and first.best and deep.best:
        slow = deep.median / first.median
        add(
            "deep_page_vs_first",
            slow <= MAX_DEEP_SLOWDOWN,
            slow,
            f"deep page (row {DEEP_ROW:,}) takes {slow:.2f}x the first page on medians, "
            f"{deep.best / first.best:.2f}x on best (target <= {MAX_DEEP_SLOWDOWN:.0f}x)",
        )
    export = by.get(("csv_export", HUB))
    if export and export.peak_rss_mb is not None:
        peak = export.peak_rss_mb
        judged = rows >= LARGE_ROWS_FOR_RSS
        add(
            "csv_export_peak_rss",
            (peak < MAX_EXPORT_RSS_MB) if judged else None,
            peak,
            f"hub server peak RSS during the {rows:,}-row CSV export: {peak:.0f} MB "
            f"(target < {MAX_EXPORT_RSS_MB:.0f} MB at 10 M rows"
            f"{'' if judged else '; judged only there'})",
        )
    hub_runs = loads.get(HUB, [])
    if hub_runs:
        med = statistics.median(x["rps"] for x in hub_runs)
        ds_runs = loads.get(DS, [])
        vs = ""
        if ds_runs:
            vs = f"; Datasette {statistics.median(x['rps'] for x in ds_runs):.0f} req/s"
        add(
            "metadata_rps",
            med >= MIN_RPS,
            med,
            f"metadata endpoint: hub {med:.0f} req/s median, one worker "
            f"(target >= {MIN_RPS:.0f}){vs}",
        )
    return out


def run_size(args: argparse.Namespace, rows: int, base_db: Path | None) -> dict[str, Any]:
    data_dir = Path(args.data_dir)
    csv_path = ensure_csv(data_dir, rows, args.seed)
    expected = count_rows(csv_path)
    print(f"\n=== {expected:,} rows: {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB)")
    work = data_dir.resolve() / f"access-{rows}-{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    hub_dir = build_hub(csv_path, work)
    use_fast = args.sqlite_loader == "fast" or (
        args.sqlite_loader == "auto" and base_db is not None and rows > args.rows
    )
    sqlite_utils = Path(args.sqlite_utils_venv) / "bin" / "sqlite-utils"
    db, how = build_sqlite(csv_path, work, sqlite_utils, fast_from=base_db if use_fast else None)
    summary = sqlite_summary(db)
    if summary["rows"] != expected:
        raise RuntimeError(f"{db} holds {summary['rows']} rows, want {expected}")
    servers: dict[str, Server] = {}
    try:
        servers[HUB] = start_hub(hub_dir, work / "hub.log")
        servers[DS] = start_datasette(
            Path(args.datasette_venv), db, work / "datasette.log", args.datasette_setting
        )
        idle = {name: (s.rss_kb() or 0) / 1024 for name, s in servers.items()}
        load_start = [round(x, 2) for x in os.getloadavg()]
        cases = build_cases(hub_deep_cursor(servers[HUB], expected), expected)
        if args.cases:
            cases = [c for c in cases if c.name in args.cases]
        series = run_cases(cases, servers, args)
        loads = run_load(servers, args) if args.rps_repeat > 0 else {"paths": {}}
        after = {name: (s.rss_kb() or 0) / 1024 for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    result = {
        "rows": expected,
        "csv_bytes": csv_path.stat().st_size,
        "sqlite": {**summary, "built_by": how},
        "server_rss_mb": {"after_start": idle, "at_end": after},
        "load_avg": {"start": load_start, "end": [round(x, 2) for x in os.getloadavg()]},
        "series": [
            {**asdict(s), "best": s.best, "median": s.median, "peak_rss_mb": s.peak_rss_mb}
            for s in series
        ],
        "loads": loads,
        "checks": checks(expected, series, loads),
    }
    print()
    print(report_table(cases, series))
    if loads.get(HUB) or loads.get(DS):
        print()
        print(load_table(loads))
    print(f"\nserver RSS after start {_mb(idle)}, at the end {_mb(after)}")
    print(f"SQLite file: {summary['bytes'] / 1e6:.0f} MB, built by {how}, no indexes")
    return result


def _mb(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.0f} MB" for k, v in values.items())


def versions(args: argparse.Namespace) -> dict[str, str]:
    py = str(VENV_BIN / "python")
    code = (
        "import importlib.metadata as m; "
        "print(' '.join(m.version(p) for p in ('duckdb', 'uvicorn', 'fastapi', 'sqlalchemy')))"
    )
    duck, uvi, fastapi, sqla = (output([py, "-c", code]).split() + ["?"] * 4)[:4]
    ds_py = str(Path(args.datasette_venv) / "bin" / "python")
    ds_code = (
        "import importlib.metadata as m, sqlite3; "
        "print(m.version('datasette'), m.version('uvicorn'), sqlite3.sqlite_version)"
    )
    ds, ds_uvi, ds_sqlite = (output([ds_py, "-c", ds_code]).split() + ["?"] * 3)[:3]
    su = output([str(Path(args.sqlite_utils_venv) / "bin" / "sqlite-utils"), "--version"])
    wrk = output(["wrk", "--version"]).split("[")[0].strip() if access_load.wrk_path() else "-"
    return {
        "python": output([py, "-c", "import platform; print(platform.python_version())"]),
        "datenschatz": datenschatz_version(),
        "duckdb": duck,
        "uvicorn (hub)": uvi,
        "fastapi": fastapi,
        "sqlalchemy": sqla,
        "datasette": ds,
        "uvicorn (datasette)": ds_uvi,
        "sqlite (datasette)": ds_sqlite,
        "sqlite-utils": su.rsplit(" ", 1)[-1],
        "load generator": wrk if not args.no_wrk else "asyncio fallback",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the base size")
    p.add_argument("--large", action="store_true", help="also run the large size")
    p.add_argument("--large-rows", type=int, default=10_000_000, help="rows of the large size")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated CSV")
    p.add_argument("--repeat", type=int, default=7, help="rounds per query case")
    p.add_argument("--export-repeat", type=int, default=3, help="rounds of the CSV export")
    p.add_argument("--rps-repeat", type=int, default=3, help="rounds of the load test (0: skip)")
    p.add_argument("--rps-seconds", type=float, default=10.0, help="seconds per load round")
    p.add_argument("--rps-connections", type=int, default=32, help="keep-alive connections")
    p.add_argument("--cases", help=f"comma list of cases to run (default all: {', '.join(CASES)})")
    p.add_argument("--no-wrk", action="store_true", help="use the asyncio load generator")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="CSV and stores")
    p.add_argument(
        "--sqlite-loader",
        choices=("auto", "sqlite-utils", "fast"),
        default="auto",
        help="auto: sqlite-utils for the base size, the bulk loader (same table) for --large",
    )
    p.add_argument(
        "--datasette-setting",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="pass a setting to Datasette (default: none, its defaults)",
    )
    p.add_argument("--datasette-venv", default=str(DATASETTE_VENV), help="venv with Datasette")
    p.add_argument("--sqlite-utils-venv", default=str(SQLITE_UTILS_VENV), help="sqlite-utils venv")
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target check fails")
    args = p.parse_args(argv)
    if min(args.repeat, args.export_repeat) < 1 or args.rps_repeat < 0:
        p.error("--repeat and --export-repeat must be at least 1")
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()] if args.cases else []
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        p.error(f"unknown cases: {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine_facts()
    print(describe_machine(facts))
    for venv, req, exe in (
        (Path(args.datasette_venv), f"datasette=={DATASETTE_VERSION}", "datasette"),
        (Path(args.sqlite_utils_venv), f"sqlite-utils=={SQLITE_UTILS_VERSION}", "sqlite-utils"),
    ):
        reason = ensure_venv(venv, req, exe)
        if reason:
            print(reason, file=sys.stderr)
            return 2
    if access_load.wrk_path() is None and not args.no_wrk:
        print("wrk not found: the load test uses the asyncio fallback (lower figures)")
        args.no_wrk = True
    started = datetime.now(UTC)
    sizes = [args.rows] + ([args.large_rows] if args.large else [])
    results = []
    base_db: Path | None = None
    for rows in sizes:
        results.append(run_size(args, rows, base_db))
        if base_db is None:
            base_db = Path(args.data_dir).resolve() / f"access-{rows}-{args.seed}" / "bench.db"
    facts["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    vers = versions(args)
    print("\nversions: " + "; ".join(f"{k} {v}" for k, v in vers.items()))
    print(f"load average at end: {facts['load_avg_end']}")
    verdicts = [c for r in results for c in r["checks"]]
    print()
    for c in verdicts:
        print(f"{c['result']:<4}  [{c['rows']:,} rows] {c['text']}")
    if args.json_out:
        doc = {
            "benchmark": "access",
            "started": started.isoformat(timespec="seconds"),
            "seed": args.seed,
            "repeat": {
                "queries": args.repeat,
                "export": args.export_repeat,
                "rps": args.rps_repeat,
            },
            "datasette_settings": args.datasette_setting,
            "machine": facts,
            "versions": vers,
            "sizes": results,
        }
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json_out}")
    failed = [c for c in verdicts if c["result"] == "FAIL"]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
