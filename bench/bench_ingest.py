"""Ingest benchmark: `datenschatz ingest` against three peers on the same CSV, side by side.

Peers, each run ``--repeat`` times, interleaved round-robin so that noise on a shared machine
hits all of them alike:

1. ``datenschatz``  — ``datenschatz ingest FILE --dataset bench-N`` through the real console
   script, in a fresh data directory (embedded SQLite default) each time: sniffing, type
   inference, the quality report and the Parquet (zstd) version.
2. ``duckdb``       — bare ``COPY (SELECT * FROM read_csv(FILE)) TO out.parquet`` with zstd,
   the same duckdb as the product: the near-limit of what the product can do.
3. ``sqlite-utils`` — ``sqlite-utils insert db t FILE --csv`` with type detection, from its own
   pinned venv (created on first use).
4. ``postgres``     — ``COPY t FROM STDIN (FORMAT csv, HEADER)`` via psycopg into a pre-created
   typed table, when a server answers; skipped with a reason otherwise.

Each measured run is one child process, started by a tiny wrapper process: wall time from fork to
exit, peak RSS from that child's own ``wait4`` rusage (it covers the child and anything it waited
for, plus the wrapper's ~5 MB it inherits at fork). Set-up (data directory
init, table creation) and checks (row counts, column types) run outside the measured time.

Run ``make bench-ingest`` or ``.venv/bin/python bench/bench_ingest.py --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_DATA_DIR,
    DEFAULT_SEED,
    ROOT,
    SQLITE_UTILS_VENV,
    SQLITE_UTILS_VERSION,
    VENV_BIN,
    count_rows,
    datenschatz_version,
    describe_machine,
    ensure_csv,
    ensure_venv,
    machine_facts,
    sqlite_utils_type_flags,
)
from common import clean_env as _clean_env
from common import fmt as _fmt
from common import kill_group as _kill_group
from common import output as _output
from common import ratio as _ratio
from common import tail as _tail

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_TABLE = "datenschatz_bench_ingest"
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd"  # row groups: DuckDB default, as product
TOOLS = ("datenschatz", "duckdb", "sqlite-utils", "postgres")
# Targets: datenschatz at least this much faster than sqlite-utils ...
MIN_SPEEDUP_VS_SQLITE_UTILS = 20.0
# ... and at most this much slower than the bare DuckDB copy.
MAX_SLOWDOWN_VS_DUCKDB = 2.5

PG_CREATE = f"""
CREATE TABLE {PG_TABLE} (
    reading_id bigint,
    station_code text,
    district text,
    medium text,
    measured_at timestamp,
    installed_on date,
    value double precision,
    temperature_c double precision,
    customer_count integer,
    is_estimated boolean,
    latitude double precision,
    longitude double precision,
    status text,
    remark text
)"""

# The measured child for PostgreSQL: stream the file into COPY, print rows and the server
# backend's peak RSS (VmHWM, readable when the server runs on this machine).
PG_CHILD = f"""
import json, sys, psycopg
with psycopg.connect(sys.argv[1]) as con, con.cursor() as cur:
    pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
    with open(sys.argv[2], "rb") as fh, cur.copy(
        "COPY {PG_TABLE} FROM STDIN (FORMAT csv, HEADER)"
    ) as copy:
        while block := fh.read(1 << 20):
            copy.write(block)
    rows = cur.rowcount
    con.commit()
    hwm = None
    try:
        for line in open(f"/proc/{{pid}}/status"):
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    print(json.dumps({{"rows": rows, "server_hwm_kb": hwm}}))
"""

DUCKDB_CHILD = f"""
import sys, duckdb
q = lambda s: "'" + s.replace("'", "''") + "'"
con = duckdb.connect()
con.execute(
    f"COPY (SELECT * FROM read_csv({{q(sys.argv[1])}})) TO {{q(sys.argv[2])}} ({PARQUET_OPTIONS})"
)
"""


@dataclass
class Run:
    """One measured run of one tool."""

    seconds: float
    max_rss_mb: float
    rows: int | None = None
    note: str = ""


@dataclass
class ToolResult:
    """All runs of one tool, or why it was skipped or failed."""

    name: str
    runs: list[Run] = field(default_factory=list)
    skipped: str = ""
    failed: str = ""
    column_types: dict[str, str] = field(default_factory=dict)

    @property
    def best(self) -> float | None:
        return min(r.seconds for r in self.runs) if self.runs else None

    @property
    def median(self) -> float | None:
        return statistics.median(r.seconds for r in self.runs) if self.runs else None

    @property
    def peak_rss_mb(self) -> float | None:
        return max(r.max_rss_mb for r in self.runs) if self.runs else None


@dataclass
class Measured:
    seconds: float
    max_rss_kb: int
    returncode: int
    stdout: str
    stderr: str


# The measuring wrapper: a minimal Python (-I -S, about 5 MB) that forks and execs the command,
# then reports the wall time and the command's own rusage. A child's ru_maxrss includes the RSS
# its process had before exec, so forking straight from this (large) benchmark process would
# count the benchmark's memory too; forking from the tiny wrapper keeps that floor at ~5 MB.
WRAPPER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    fh.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(cmd: Sequence[str], *, env: dict[str, str], cwd: Path, timeout: float) -> Measured:
    """Run ``cmd`` once under the wrapper: its wall time and its own peak RSS."""
    out_path, err_path = cwd / "child.stdout", cwd / "child.stderr"
    result_path = cwd / "child.measure"
    wrapped = [sys.executable, "-I", "-S", "-c", WRAPPER, str(result_path), *cmd]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            wrapped,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            raise RuntimeError(f"timed out after {timeout:.0f} s") from None
    try:
        seconds, maxrss, code = result_path.read_text().split()
    except (OSError, ValueError):
        raise RuntimeError(f"the measuring wrapper failed (exit {proc.returncode})") from None
    return Measured(
        seconds=float(seconds),
        max_rss_kb=int(maxrss),
        returncode=int(code),
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


def _parquet_types(path: Path) -> dict[str, str]:
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    finally:
        con.close()
    return {str(r[0]): str(r[1]) for r in rows}


def _parquet_rows(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


class Peer:
    """One tool under test. Subclasses say how to set up, run and check one run."""

    name = ""

    def __init__(self, args: argparse.Namespace, csv_path: Path) -> None:
        self.args = args
        self.csv = csv_path
        self.types: dict[str, str] = {}

    def unavailable(self) -> str:
        """Why this peer cannot run here ('' when it can)."""
        return ""

    def version(self) -> str:
        return ""

    def prepare(self, run_dir: Path, rep: int) -> tuple[list[str], dict[str, str]]:
        """Untimed set-up; returns the command and environment of the measured run."""
        raise NotImplementedError

    def check(self, run_dir: Path, measured: Measured, want_types: bool) -> Run:
        """Untimed check of the outcome; fills in rows (and column types when asked)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Clean-up after the last run."""


class Datenschatz(Peer):
    name = "datenschatz"

    @property
    def exe(self) -> Path:
        return VENV_BIN / "datenschatz"

    def unavailable(self) -> str:
        if not self.exe.is_file():
            return f"{self.exe.relative_to(ROOT)} not found (run `make install`)"
        return ""

    def version(self) -> str:
        return datenschatz_version()

    def _env(self, run_dir: Path) -> dict[str, str]:
        return _clean_env(DATENSCHATZ_DATA_DIR=str(run_dir / "data"))

    def prepare(self, run_dir: Path, rep: int) -> tuple[list[str], dict[str, str]]:
        env = self._env(run_dir)
        # Byte-compile our modules as any normal install would (untimed; a no-op once done).
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "compileall", "-q", str(ROOT / "src")],
            env=env,
            capture_output=True,
            check=False,
            timeout=300,
        )
        done = subprocess.run(
            [str(self.exe), "init"],
            env=env,
            cwd=run_dir,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"`datenschatz init` failed: {_tail(done.stderr or done.stdout)}")
        cmd = [str(self.exe), "ingest", str(self.csv), "--dataset", f"bench-{rep}", "--json"]
        return cmd, env

    def check(self, run_dir: Path, measured: Measured, want_types: bool) -> Run:
        rows: int | None = None
        try:
            info = json.loads(measured.stdout)
            rows = int(info.get("rows", info.get("row_count")))
        except (ValueError, TypeError, AttributeError):
            rows = None
        parquets = sorted((run_dir / "data").rglob("*.parquet"))
        if parquets:
            if rows is None:
                rows = _parquet_rows(parquets[-1])
            if want_types:
                self.types = _parquet_types(parquets[-1])
        return Run(measured.seconds, measured.max_rss_kb / 1024, rows)


class DuckDB(Peer):
    name = "duckdb"

    def version(self) -> str:
        return _output([str(VENV_BIN / "python"), "-c", "import duckdb; print(duckdb.__version__)"])

    def prepare(self, run_dir: Path, rep: int) -> tuple[list[str], dict[str, str]]:
        out = run_dir / "out.parquet"
        return [str(VENV_BIN / "python"), "-c", DUCKDB_CHILD, str(self.csv), str(out)], _clean_env()

    def check(self, run_dir: Path, measured: Measured, want_types: bool) -> Run:
        out = run_dir / "out.parquet"
        if want_types:
            self.types = _parquet_types(out)
        return Run(measured.seconds, measured.max_rss_kb / 1024, _parquet_rows(out))


class SqliteUtils(Peer):
    name = "sqlite-utils"

    @property
    def venv(self) -> Path:
        return Path(self.args.sqlite_utils_venv)

    @property
    def exe(self) -> Path:
        return self.venv / "bin" / "sqlite-utils"

    def unavailable(self) -> str:
        return ensure_venv(self.venv, f"sqlite-utils=={SQLITE_UTILS_VERSION}", "sqlite-utils")

    def version(self) -> str:
        tool = _output([str(self.exe), "--version"]).rsplit(" ", 1)[-1]
        code = "import sqlite3; print(sqlite3.sqlite_version)"
        lib = _output([str(self.venv / "bin" / "python"), "-c", code])
        return f"{tool} (SQLite {lib})"

    def type_flags(self) -> list[str]:
        return sqlite_utils_type_flags(self.exe)

    def prepare(self, run_dir: Path, rep: int) -> tuple[list[str], dict[str, str]]:
        db = run_dir / "db.sqlite"
        cmd = [str(self.exe), "insert", str(db), "t", str(self.csv), "--csv", *self.type_flags()]
        return cmd, _clean_env()

    def check(self, run_dir: Path, measured: Measured, want_types: bool) -> Run:
        con = sqlite3.connect(run_dir / "db.sqlite")
        try:
            rows = int(con.execute("SELECT count(*) FROM t").fetchone()[0])
            if want_types:
                info = con.execute("PRAGMA table_info(t)").fetchall()
                self.types = {str(r[1]): str(r[2]) for r in info}
        finally:
            con.close()
        return Run(measured.seconds, measured.max_rss_kb / 1024, rows)


class Postgres(Peer):
    name = "postgres"

    @property
    def url(self) -> str:
        return str(self.args.database_url)

    def _sql(self, *statements: str) -> list[Any]:
        import psycopg

        results: list[Any] = []
        with psycopg.connect(self.url, connect_timeout=5) as con, con.cursor() as cur:
            for statement in statements:
                cur.execute(statement.encode())
                results.append(cur.fetchall() if cur.description else None)
        return results

    def unavailable(self) -> str:
        try:
            self._sql("SELECT 1")
        except ImportError:
            return "psycopg is not installed in this Python"
        except Exception as exc:  # any connection problem means: no server to compare with
            return f"no PostgreSQL server at {_hide_password(self.url)} ({type(exc).__name__})"
        return ""

    def version(self) -> str:
        return str(self._sql("SHOW server_version")[0][0][0])

    def prepare(self, run_dir: Path, rep: int) -> tuple[list[str], dict[str, str]]:
        self._sql(f"DROP TABLE IF EXISTS {PG_TABLE}", PG_CREATE)
        return [str(VENV_BIN / "python"), "-c", PG_CHILD, self.url, str(self.csv)], _clean_env()

    def check(self, run_dir: Path, measured: Measured, want_types: bool) -> Run:
        info = json.loads(measured.stdout.strip().splitlines()[-1])
        client_mb = measured.max_rss_kb / 1024
        server_kb = info.get("server_hwm_kb")
        if want_types:
            cols = self._sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_name = '{PG_TABLE}' ORDER BY ordinal_position"
            )[0]
            self.types = {str(c[0]): str(c[1]) for c in cols}
        self.finish()
        if server_kb:
            note = f"client {client_mb:.0f} MB + server backend {server_kb / 1024:.0f} MB"
            return Run(measured.seconds, client_mb + server_kb / 1024, int(info["rows"]), note)
        return Run(measured.seconds, client_mb, int(info["rows"]), "client only")

    def finish(self) -> None:
        self._sql(f"DROP TABLE IF EXISTS {PG_TABLE}")


def _hide_password(url: str) -> str:
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


PEERS: dict[str, type[Peer]] = {
    "datenschatz": Datenschatz,
    "duckdb": DuckDB,
    "sqlite-utils": SqliteUtils,
    "postgres": Postgres,
}


def run_all(args: argparse.Namespace, csv_path: Path, expected_rows: int) -> list[ToolResult]:
    peers: list[Peer] = []
    results: dict[str, ToolResult] = {}
    for name in args.tools:
        peer = PEERS[name](args, csv_path)
        result = results[name] = ToolResult(name)
        reason = peer.unavailable()
        if reason:
            result.skipped = reason
            print(f"skip {name}: {reason}")
        else:
            peers.append(peer)
    work_root = Path(args.data_dir).resolve() / "runs"
    work_root.mkdir(parents=True, exist_ok=True)
    for rep in range(1, args.repeat + 1):
        for peer in peers:
            result = results[peer.name]
            if result.failed:
                continue
            run_dir = Path(tempfile.mkdtemp(prefix=f"{peer.name}-{rep}-", dir=work_root))
            try:
                cmd, env = peer.prepare(run_dir, rep)
                measured = measure(cmd, env=env, cwd=run_dir, timeout=args.timeout)
                if measured.returncode != 0:
                    raise RuntimeError(
                        f"exit code {measured.returncode}:\n"
                        f"{_tail(measured.stdout, 8)}\n{_tail(measured.stderr)}".strip()
                    )
                run = peer.check(run_dir, measured, want_types=rep == 1)
                if run.rows != expected_rows:
                    run.note = (run.note + "; " if run.note else "") + f"rows {run.rows}"
                    print(f"  WARNING {peer.name}: loaded {run.rows} rows, want {expected_rows}")
                result.runs.append(run)
                if rep == 1:
                    result.column_types = peer.types
                print(
                    f"  {peer.name:<13} run {rep}: {run.seconds:8.2f} s  "
                    f"{run.max_rss_mb:7.0f} MB  {run.note}",
                    flush=True,
                )
            except Exception as exc:
                result.failed = str(exc)
                print(f"  {peer.name} run {rep} FAILED: {exc}", flush=True)
                print(f"  (its run directory is kept for inspection: {run_dir})")
            finally:
                if not args.keep and not result.failed:
                    shutil.rmtree(run_dir, ignore_errors=True)
    for peer in peers:
        try:
            peer.finish()
        except Exception as exc:
            print(f"clean-up of {peer.name} failed: {exc}")
    return [results[name] for name in args.tools]


def checks(results: list[ToolResult]) -> list[dict[str, Any]]:
    by = {r.name: r for r in results}
    ds = by.get("datenschatz")
    out: list[dict[str, Any]] = []

    def add(name: str, peer: str, ok: bool | None, value: float | None, text: str) -> None:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        out.append({"check": name, "peer": peer, "value": value, "result": verdict, "text": text})

    ds_best = ds.best if ds else None
    su = by.get("sqlite-utils")
    if su is not None:
        if ds_best and su.best:
            speed = su.best / ds_best
            ok = speed >= MIN_SPEEDUP_VS_SQLITE_UTILS
            text = (
                f"datenschatz is {speed:.1f}x faster than sqlite-utils (target >= 20x; "
                f"medians: {_ratio(su.median, ds.median if ds else None)})"
            )
            add("speedup_vs_sqlite_utils", "sqlite-utils", ok, speed, text)
        else:
            add("speedup_vs_sqlite_utils", "sqlite-utils", None, None, "not measured")
    duck = by.get("duckdb")
    if duck is not None:
        if ds_best and duck.best:
            slow = ds_best / duck.best
            ok = slow <= MAX_SLOWDOWN_VS_DUCKDB
            text = (
                f"datenschatz takes {slow:.2f}x the bare DuckDB copy (target <= 2.5x; "
                f"medians: {_ratio(ds.median if ds else None, duck.median)})"
            )
            add("slowdown_vs_duckdb", "duckdb", ok, slow, text)
        else:
            add("slowdown_vs_duckdb", "duckdb", None, None, "not measured")
    return out


def report_table(results: list[ToolResult]) -> str:
    ds_best = next((r.best for r in results if r.name == "datenschatz"), None)
    lines = [
        "| tool | runs | best s | median s | peak RSS MB | time vs datenschatz |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.skipped or (r.failed and not r.runs):
            why = r.skipped or "failed: " + r.failed.splitlines()[0]
            lines.append(f"| {r.name} | 0 | - | - | - | {why} |")
            continue
        ratio = f"{r.best / ds_best:.2f}x" if ds_best and r.best else "-"
        lines.append(
            f"| {r.name} | {len(r.runs)} | {_fmt(r.best, '.2f')} | {_fmt(r.median, '.2f')} "
            f"| {_fmt(r.peak_rss_mb, '.0f')} | {ratio} |"
        )
    return "\n".join(lines)


def type_summary(types: dict[str, str]) -> str:
    counts = Counter(t.upper() for t in types.values())
    return ", ".join(f"{t} x{n}" if n > 1 else t for t, n in sorted(counts.items()))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated CSV")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated CSV")
    p.add_argument("--csv", help="use this CSV instead of generating one")
    p.add_argument("--repeat", type=int, default=3, help="runs per tool (best and median)")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma list out of {', '.join(TOOLS)}")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="CSV and run dirs")
    p.add_argument(
        "--sqlite-utils-venv",
        default=str(SQLITE_UTILS_VENV),
        help=f"venv with sqlite-utils (created with =={SQLITE_UTILS_VERSION} if missing)",
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("DATENSCHATZ_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL (env DATENSCHATZ_BENCH_DATABASE_URL)",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    p.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target check fails")
    p.add_argument("--keep", action="store_true", help="keep the run directories")
    args = p.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(args.tools) - set(TOOLS))
    if unknown:
        p.error(f"unknown tools: {', '.join(unknown)}")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine_facts()
    csv_path = ensure_csv(Path(args.data_dir), args.rows, args.seed, args.csv)
    expected = count_rows(csv_path)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"input: {csv_path} ({expected} rows, {size_mb:.1f} MB)")
    print(describe_machine(facts))
    started = datetime.now(UTC)
    results = run_all(args, csv_path, expected)
    facts["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    versions: dict[str, str] = {"python": facts["python"]}
    for name in args.tools:
        res = next(r for r in results if r.name == name)
        if not res.skipped:
            versions[name] = PEERS[name](args, csv_path).version()
    print()
    print("versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()))
    print(
        "parquet: duckdb and datenschatz both write zstd; duckdb uses its default threads "
        f"({facts['usable_cores']}), datenschatz its DATENSCHATZ_DUCKDB_THREADS setting"
    )
    print()
    print(report_table(results))
    for r in results:
        notes = sorted({run.note for run in r.runs if run.note})
        if notes:
            print(f"  {r.name}: {'; '.join(notes)}")
    print()
    for r in results:
        if r.column_types:
            print(f"types {r.name:<13} {type_summary(r.column_types)}")
    print()
    verdicts = checks(results)
    for c in verdicts:
        print(f"{c['result']:<4}  {c['text']}")
    print(f"load average at end: {facts['load_avg_end']}")
    if args.json_out:
        doc = {
            "benchmark": "ingest",
            "started": started.isoformat(timespec="seconds"),
            "input": {"rows": expected, "bytes": csv_path.stat().st_size, "seed": args.seed},
            "repeat": args.repeat,
            "machine": facts,
            "versions": versions,
            "results": [
                {**asdict(r), "best": r.best, "median": r.median, "peak_rss_mb": r.peak_rss_mb}
                for r in results
            ],
            "checks": verdicts,
        }
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json_out}")
    failed = [c for c in verdicts if c["result"] != "PASS"]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
