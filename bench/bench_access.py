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
   remembers exact counts per file and filter). One untimed warm-up request per query case
   first (not for the export).
4. The CSV export is timed to its last byte while a sampler thread reads the server's RSS,
   and the kernel's peak mark (VmHWM) is reset before and read after each export.
5. Requests per second on a dataset metadata endpoint under wrk (or an asyncio fallback).

Times are client wall times from sending the request to the last byte of the answer.
Run ``make bench-access`` or ``.venv/bin/python bench/bench_access.py --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import access_load
from access_cases import (
    API,
    CASES,
    DS,
    HUB,
    TABLE,
    Case,
    Sample,
    Variant,
    build_cases,
    fetch,
    hub_deep_cursor,
)
from access_report import Series, checks, load_table, report_table
from access_setup import (
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
    machine_facts,
    output,
)

DATASETTE_VERSION = "0.65.5"
DATASETTE_VENV = Path(__file__).resolve().parent / ".venv-datasette"


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


def run_cases(
    cases: list[Case], servers: dict[str, Server], args: argparse.Namespace
) -> list[Series]:
    series: dict[tuple[str, str], Series] = {}
    for case in cases:
        for v in case.variants:
            series[case.name, v.peer] = Series(case.name, v.peer)
            if v.stream:
                continue  # an export runs long enough; a warm-up would double its cost
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
        cases = build_cases(hub_deep_cursor(servers[HUB].port, expected), expected)
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
