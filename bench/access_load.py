"""Load generators for the requests-per-second figure: wrk when installed, else asyncio.

Both keep ``connections`` HTTP/1.1 keep-alive connections busy on loopback for ``seconds``
and count complete responses. wrk (Debian package ``wrk``) is written in C and costs the
server little CPU on a small machine; the fallback is a minimal asyncio client (raw sockets,
no HTTP library) that needs about a core of its own, so its figures are lower bounds.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    tool: str
    rps: float
    requests: int
    errors: int  # non-2xx answers plus socket errors and timeouts
    seconds: float
    latency_ms: float | None = None  # mean latency as wrk reports it


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _wrk_ms(text: str) -> float | None:
    found = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", text)
    if not found:
        return None
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(url: str, seconds: float, connections: int, threads: int) -> Load:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 60)
    text = done.stdout + done.stderr
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if done.returncode != 0 or not total or not rps:
        raise RuntimeError(f"wrk failed: {text.strip()[-500:]}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    span = float(total.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total.group(3)]
    return Load("wrk", float(rps.group(1)), int(total.group(1)), errors, span, _wrk_ms(text))


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked body); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(host: str, port: int, request: bytes, until: float, tally: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            writer.write(request)
            status = await _read_response(reader)
            tally[0 if 200 <= status < 400 else 1] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        tally[1] += 1
    finally:
        writer.close()


def run_async(host: str, port: int, path: str, seconds: float, connections: int) -> Load:
    """The fallback: ``connections`` keep-alive clients in one event loop."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
    ).encode("latin-1")

    async def main() -> tuple[list[int], float]:
        tally = [0, 0]
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(
            *(_client(host, port, request, until, tally) for _ in range(connections))
        )
        return tally, time.perf_counter() - start

    (ok, failed), span = asyncio.run(main())
    return Load("asyncio", (ok + failed) / span, ok + failed, failed, span)
