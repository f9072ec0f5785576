"""Helpers shared by the benchmark scripts: paths, child environments, input, machine facts.

The scripts run as ``python bench/<script>.py``, so this module is importable as ``common``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATA_DIR = ROOT / "bench" / "data"
DEFAULT_SEED = 20240601
SQLITE_UTILS_VERSION = "4.2.1"
SQLITE_UTILS_VENV = ROOT / "bench" / ".venv-sqlite-utils"


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (a child started with a new session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child: no DATENSCHATZ_* settings leak in from the caller.

    PYTHONDONTWRITEBYTECODE is dropped too (some sandboxes set it): with it, an editable
    install compiles every module of ours from source on every run, which a normal install
    does once. The installed peers' packages were compiled by pip at install time.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DATENSCHATZ_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(extra)
    return env


def output(cmd: Sequence[str]) -> str:
    """The stripped output of a short command, or why it could not run."""
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({type(exc).__name__})"
    return (done.stdout or done.stderr).strip()


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def ratio(top: float | None, bottom: float | None) -> str:
    return f"{top / bottom:.2f}x" if top and bottom else "-"


def ensure_venv(venv: Path, requirement: str, exe: str) -> str:
    """Create ``venv`` with ``requirement`` unless ``venv/bin/exe`` exists; '' or why not."""
    if (venv / "bin" / exe).is_file():
        return ""
    print(f"creating {venv} with {requirement} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = str(venv / "bin" / "pip")
        subprocess.run([pip, "install", "-q", requirement], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"could not install {requirement} into {venv}: {exc}"
    return ""


def sqlite_utils_type_flags(exe: Path) -> list[str]:
    """3.x needs --detect-types; 4.x detects by default (and offers --no-detect-types)."""
    helptext = output([str(exe), "insert", "--help"])
    return ["--detect-types"] if "--detect-types" in helptext else []


def datenschatz_version() -> str:
    """The installed datenschatz version with its git commit (marked when src/ is dirty)."""
    code = "import importlib.metadata as m; print(m.version('datenschatz'))"
    ver = output([str(VENV_BIN / "python"), "-c", code])
    commit = output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if not re.fullmatch(r"[0-9a-f]{7,}", commit):
        return ver
    dirty = output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"])
    return f"{ver} (git {commit}{' + uncommitted changes in src/' if dirty else ''})"


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": ram_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
    }


def describe_machine(facts: dict[str, Any]) -> str:
    return (
        f"machine: {facts['cpu']}, {facts['cores']} cores ({facts['usable_cores']} usable), "
        f"{facts['ram_gib']} GiB RAM, kernel {facts['kernel']}, load {facts['load_avg_start']}"
    )


def ensure_csv(data_dir: Path, rows: int, seed: int, csv: str | None = None) -> Path:
    """The benchmark CSV: ``csv`` when given, else generated once under ``data_dir``."""
    if csv:
        return Path(csv).resolve()
    path = data_dir.resolve() / f"ingest-{rows}-{seed}.csv"
    if not path.is_file():
        print(f"generating {path} ({rows} rows, seed {seed}) ...", flush=True)
        gen = [sys.executable, str(ROOT / "bench" / "generate_csv.py"), str(path)]
        subprocess.run([*gen, "--rows", str(rows), "--seed", str(seed)], check=True)
    return path


def count_rows(path: Path) -> int:
    """Data rows by the CSV module (quoted newlines would count once); also warms the cache."""
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1
