"""Set-up of the data-access benchmark: the two stores, the two servers, their memory.

- The hub: a data directory where the CSV was ingested and published with the real console
  script (``datenschatz init``, ``ingest``, ``publish``), served by ``datenschatz serve``.
- Datasette: a SQLite file built with ``sqlite-utils insert DB readings CSV --csv`` (type
  detection), served by ``datasette serve DB`` with its default settings.

Both stores are built once per input file and reused (``bench/data/access-<rows>-<seed>/``);
they are built under a ``.part`` name and renamed when complete. sqlite-utils needs tens of
minutes per million rows on a loaded two-core machine, so the large size (``--large``, with
the default ``--sqlite-loader auto``) is built with the table definition sqlite-utils chose for
the base size and a plain ``executemany`` of the same converted values (``fast_sqlite_load``).
"""

from __future__ import annotations

import csv
import http.client
import shutil
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import VENV_BIN, clean_env, kill_group, sqlite_utils_type_flags, tail

DATASET = "readings"  # the hub's dataset slug and the SQLite table name
SQLITE_DB = "bench.db"  # Datasette serves it as the database "bench"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


@dataclass
class Server:
    """One server process on 127.0.0.1 (its own session, so its children die with it)."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kb(self) -> int | None:
        return _proc_status_kb(self.pid, "VmRSS")

    def hwm_kb(self) -> int | None:
        return _proc_status_kb(self.pid, "VmHWM")

    def reset_hwm(self) -> bool:
        """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False if not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(self.pid)
                self.proc.wait()


def _answers(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def start_server(
    name: str, cmd: list[str], env: dict[str, str], port: int, log: Path, ready_path: str
) -> Server:
    """Start ``cmd`` and wait until ``ready_path`` answers 200 (at most two minutes)."""
    fh = log.open("wb")
    proc = subprocess.Popen(
        cmd,
        stdout=fh,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    fh.close()
    server = Server(name, port, proc, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail(text)}")
        if _answers(port, ready_path):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{name} did not answer on port {port} within 120 s")


def start_hub(data_dir: Path, log: Path) -> Server:
    port = free_port()
    cmd = [str(VENV_BIN / "datenschatz"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    # One load client on 127.0.0.1 sends thousands of requests a minute: no per-address limit.
    env = clean_env(DATENSCHATZ_DATA_DIR=str(data_dir), DATENSCHATZ_RATE_LIMIT_IP_PER_MINUTE="0")
    return start_server("datenschatz", cmd, env, port, log, f"/api/v1/datasets/{DATASET}")


def start_datasette(venv: Path, db: Path, log: Path, settings: list[list[str]]) -> Server:
    port = free_port()
    cmd = [str(venv / "bin" / "datasette"), "serve", str(db), "-h", "127.0.0.1", "-p", str(port)]
    for name, value in settings:
        cmd += ["--setting", name, value]
    return start_server("datasette", cmd, clean_env(), port, log, "/-/versions.json")


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{tail(done.stderr)}")
    return done.stdout


def build_hub(csv_path: Path, work: Path) -> Path:
    """The hub's data directory with the CSV ingested and published (built once)."""
    final = work / "hub-data"
    if (final / "datenschatz.sqlite3").is_file():
        return final
    part = work / "hub-data.part"
    shutil.rmtree(part, ignore_errors=True)
    exe = str(VENV_BIN / "datenschatz")
    env = clean_env(DATENSCHATZ_DATA_DIR=str(part))
    start = time.perf_counter()
    print(f"  hub: ingest and publish {csv_path.name} ...", flush=True)
    _run([exe, "init"], env, "datenschatz init")
    _run([exe, "ingest", str(csv_path), "--dataset", DATASET, "--json"], env, "ingest")
    _run([exe, "publish", DATASET, "--json"], env, "publish")
    part.rename(final)
    print(f"  hub: ready in {time.perf_counter() - start:.0f} s", flush=True)
    return final


def build_sqlite(
    csv_path: Path, work: Path, sqlite_utils: Path, *, fast_from: Path | None = None
) -> tuple[Path, str]:
    """The SQLite file for Datasette (built once) and how it was built.

    With ``fast_from`` (a database sqlite-utils built from a smaller file of the same
    generator), its table definition is reused and the rows are bulk-loaded.
    """
    final = work / SQLITE_DB
    how_file = work / (SQLITE_DB + ".how")
    if final.is_file():
        how = how_file.read_text().strip() if how_file.is_file() else "sqlite-utils"
        return final, how
    part = work / (SQLITE_DB + ".part")
    part.unlink(missing_ok=True)
    Path(str(part) + "-journal").unlink(missing_ok=True)
    start = time.perf_counter()
    if fast_from is None:
        print(f"  sqlite: sqlite-utils insert ... {csv_path.name} (slow) ...", flush=True)
        cmd = [str(sqlite_utils), "insert", str(part), DATASET, str(csv_path), "--csv"]
        _run([*cmd, *sqlite_utils_type_flags(sqlite_utils)], clean_env(), "sqlite-utils insert")
        how = "sqlite-utils"
    else:
        print(f"  sqlite: bulk load with the schema of {fast_from} ...", flush=True)
        fast_sqlite_load(csv_path, part, fast_from)
        how = f"bulk load with the table definition sqlite-utils chose for {fast_from.parent.name}"
    part.rename(final)
    how_file.write_text(how + "\n")
    print(f"  sqlite: ready in {time.perf_counter() - start:.0f} s", flush=True)
    return final, how


def _converter(declared: str) -> type[int] | type[float] | None:
    return {"INTEGER": int, "REAL": float, "FLOAT": float}.get(declared.upper())


def fast_sqlite_load(csv_path: Path, db: Path, schema_db: Path) -> None:
    """Load ``csv_path`` into ``db`` as sqlite-utils would, with ``schema_db``'s table.

    sqlite-utils with type detection stores INTEGER/REAL columns as numbers and an empty
    field of such a column as NULL; text columns keep the text ('' stays ''). The same here.
    """
    src = sqlite3.connect(schema_db)
    try:
        row = src.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [DATASET]
        ).fetchone()
        info = src.execute(f'PRAGMA table_info("{DATASET}")').fetchall()
    finally:
        src.close()
    if row is None:
        raise RuntimeError(f"{schema_db} has no table {DATASET}")
    convert = [_converter(str(c[2])) for c in info]
    con = sqlite3.connect(db)
    try:
        con.execute(str(row[0]))
        marks = ", ".join("?" * len(convert))
        insert = f'INSERT INTO "{DATASET}" VALUES ({marks})'
        with csv_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            if header != [str(c[1]) for c in info]:
                raise RuntimeError(f"the columns of {csv_path.name} differ from {schema_db}")
            batch: list[list[object]] = []
            for fields in reader:
                batch.append(
                    [
                        (None if v == "" else f(v)) if f is not None else v
                        for f, v in zip(convert, fields, strict=True)
                    ]
                )
                if len(batch) >= 50_000:
                    con.executemany(insert, batch)
                    batch.clear()
            con.executemany(insert, batch)
        con.commit()
    finally:
        con.close()


def sqlite_summary(db: Path) -> dict[str, Any]:
    """Row count, column types and size of the Datasette file (for the record)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(f'SELECT max(rowid) FROM "{DATASET}"').fetchone()[0]
        info = con.execute(f'PRAGMA table_info("{DATASET}")').fetchall()
        indexes = con.execute(f'PRAGMA index_list("{DATASET}")').fetchall()
    finally:
        con.close()
    return {
        "rows": rows,
        "types": {str(c[1]): str(c[2]) for c in info},
        "indexes": len(indexes),
        "bytes": db.stat().st_size,
    }
