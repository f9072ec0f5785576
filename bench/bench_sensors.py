"""Sensor benchmark: observations per second in, and "the last 24 h of one datastream" out.

For each database (SQLite, the embedded default; PostgreSQL when DATENSCHATZ_TEST_DATABASE_URL
or --postgres names a server):

1. **HTTP CreateObservations** — a real ``datenschatz serve`` (uvicorn) on loopback; one
   client posts data arrays of ``--rows-per-request`` observations (phenomenonTime, result)
   with a ``sensors:write`` token, ``--http-obs`` in all. obs/s = observations / wall time of
   the posting loop (every answer checked for selfLinks).
2. **MQTT** — a Mosquitto of the benchmark's own on a free loopback port, the bridge as
   ``datenschatz sensors bridge`` (a process of its own), and ``--publishers`` processes that
   publish ``--mqtt-obs`` observations with QoS 1 to ``v1.1/Datastreams(id)/Observations``.
   obs/s = observations / time from the publishers' start until all are stored (the database
   count is polled every 50 ms). Run twice: ingest only (``DATENSCHATZ_MQTT_NOTIFY=false``)
   and with the default notifications (every observation published again to its topics).
3. **Last 24 h** — ``--large`` observations (10 M by default) loaded straight into the table
   (COPY on PostgreSQL, executemany on SQLite; set-up, not measured) over 100 datastreams at
   5-minute spacing ending now, then ``GET /sta/v1.1/Datastreams(id)/Observations?$filter=
   phenomenonTime ge <now-24h>&$orderby=phenomenonTime desc&$top=1000`` (288 observations),
   and the hourly aggregate of the same window, each ``--repeat`` times round a random
   datastream; median and 95th percentile of the HTTP round trip.

Run ``make bench-sensors`` or ``.venv/bin/python bench/bench_sensors.py --help``. The machine is
shared with other work; the report says so with the load average seen at the start.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from common import DEFAULT_DATA_DIR, ROOT, VENV_BIN, describe_machine, machine_facts

sys.path.insert(0, str(ROOT))  # tests.sensors.mqtt_broker: the same broker runner as the tests

DATENSCHATZ = str(VENV_BIN / "datenschatz")
STATIONS = 100
SPACING = timedelta(minutes=5)
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


# --- set-up helpers ---------------------------------------------------------------------------


def free_port() -> int:
    from tests.sensors.mqtt_broker import free_port as port

    return port()


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [DATENSCHATZ, *args], env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"datenschatz {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def postgres_database(base: str, name: str, *, create: bool = True) -> str:
    """A fresh database ``name`` on the server of ``base`` (dropped first if it exists)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base).set(drivername="postgresql")
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )


def station(i: int) -> dict[str, Any]:
    return {
        "name": f"Bench station {i}",
        "description": "benchmark (synthetic)",
        "Locations": [
            {
                "name": f"Bench location {i}",
                "description": "synthetic",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.0 + i / 1000, 51.5]},
            }
        ],
        "Datastreams": [
            {
                "name": f"PM10 bench {i}",
                "description": "synthetic",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": {
                    "name": "microgram per cubic metre",
                    "symbol": "µg/m³",
                    "definition": "http://unitsofmeasure.org/ucum.html#ug/m3",
                },
                "Sensor": {
                    "name": "SDS011",
                    "description": "synthetic",
                    "encodingType": "text/html",
                    "metadata": "https://sensor.community",
                },
                "ObservedProperty": {
                    "name": "PM10",
                    "definition": "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
                    "description": "PM10",
                },
            }
        ],
    }


def make_datastreams(env: dict[str, str], count: int) -> list[int]:
    """``count`` stations with one PM10 datastream each (through the service); their ids."""
    from sqlalchemy import select

    from datenschatz.config import Settings
    from datenschatz.db.sensor_models import StaDatastream
    from datenschatz.hub import Hub
    from datenschatz.sensors import service

    hub = Hub(
        Settings(
            data_dir=Path(env["DATENSCHATZ_DATA_DIR"]), database_url=env["DATENSCHATZ_DATABASE_URL"]
        )
    )
    with hub.session() as session:
        for i in range(count):
            service.create_entity(session, "Things", station(i), base_url="http://bench")
    with hub.session() as session:
        ids = [int(i) for i in session.scalars(select(StaDatastream.id).order_by(StaDatastream.id))]
        for ident in ids:  # the generated FeatureOfInterest, as the first observation would
            service.feature_for_datastream(session, ident)
    hub.engine.dispose()
    return ids


def count_observations(env: dict[str, str]) -> int:
    from sqlalchemy import text

    from datenschatz.db.session import engine_for

    with engine_for(env["DATENSCHATZ_DATABASE_URL"]).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM sta_observation")).scalar_one())


@contextmanager
def server(env: dict[str, str], port: int) -> Iterator[str]:
    proc = subprocess.Popen(
        [DATENSCHATZ, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("datenschatz serve did not answer /health within 120 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- 1. HTTP CreateObservations -----------------------------------------------------------------


def bench_http(
    env: dict[str, str], token: str, datastreams: list[int], total: int, per_request: int
) -> dict[str, Any]:
    port = free_port()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    bodies = []
    made = 0
    while made < total:
        n = min(per_request, total - made)
        ds = datastreams[(made // per_request) % len(datastreams)]
        rows = [
            [
                (start + timedelta(seconds=made + k)).isoformat().replace("+00:00", "Z"),
                round(10 + (made + k) % 400 / 10, 1),
            ]
            for k in range(n)
        ]
        bodies.append(
            json.dumps(
                [
                    {
                        "Datastream": {"@iot.id": ds},
                        "components": ["phenomenonTime", "result"],
                        "dataArray": rows,
                    }
                ]
            ).encode()
        )
        made += n
    auth = "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()
    before = count_observations(env)
    with server(env, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        t0 = time.perf_counter()
        for body in bodies:
            conn.request(
                "POST",
                "/sta/v1.1/CreateObservations",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": auth},
            )
            response = conn.getresponse()
            answer = response.read()
            if response.status != 201:
                raise RuntimeError(
                    f"CreateObservations answered {response.status}: {answer[:300]!r}"
                )
            links = json.loads(answer)
            if any(not link.startswith("http") for link in links):
                raise RuntimeError("CreateObservations reported errors: " + str(links[:3]))
        elapsed = time.perf_counter() - t0
    stored = count_observations(env) - before
    return {
        "observations": total,
        "stored": stored,
        "requests": len(bodies),
        "rows_per_request": per_request,
        "seconds": round(elapsed, 2),
        "obs_per_s": round(total / elapsed),
    }


# --- 2. MQTT ----------------------------------------------------------------------------------


def publisher(port: int, datastream: int, count: int, offset: int) -> None:
    """Publish ``count`` observations with QoS 1 and wait until the broker acknowledged all."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"bench-pub-{offset}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(days=offset)
    topic = f"v1.1/Datastreams({datastream})/Observations"
    infos = []
    for i in range(count):
        moment = (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        infos.append(
            client.publish(
                topic, json.dumps({"phenomenonTime": moment, "result": 10 + i % 400 / 10}), qos=1
            )
        )
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def bench_mqtt(
    env: dict[str, str],
    datastreams: list[int],
    total: int,
    publishers: int,
    notify: bool,
    workdir: Path,
    bridge_count: int = 1,
    run: int = 0,
) -> dict[str, Any]:
    from tests.sensors.mqtt_broker import Mosquitto, mosquitto_binary

    binary = mosquitto_binary()
    if binary is None:
        return {"skipped": "no mosquitto binary (apt-get install mosquitto)"}
    broker = Mosquitto(binary, workdir / f"broker-{uuid.uuid4().hex[:6]}")
    broker.start()
    group = uuid.uuid4().hex[:6]
    bridges: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    for b in range(bridge_count):
        bridge_env = {
            **env,
            "DATENSCHATZ_MQTT_URL": broker.url,
            "DATENSCHATZ_MQTT_NOTIFY": "true" if notify else "false",
            "DATENSCHATZ_MQTT_CLIENT_ID": f"bench-bridge-{group}-{b}",
        }
        if bridge_count > 1:
            bridge_env["DATENSCHATZ_MQTT_SHARED_GROUP"] = f"bench-{group}"
        log = workdir / f"bridge-{b}.log"
        logs.append(log)
        with log.open("wb") as out:
            bridges.append(
                subprocess.Popen(
                    [DATENSCHATZ, "sensors", "bridge"],
                    env=bridge_env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    listener = None
    try:
        deadline = time.monotonic() + 120
        for bridge, log in zip(bridges, logs, strict=True):
            while b"MQTT bridge ready" not in log.read_bytes():
                if time.monotonic() > deadline or bridge.poll() is not None:
                    raise RuntimeError("the bridge did not start: " + log.read_text()[-2000:])
                time.sleep(0.1)
        if notify:  # someone listens, as a dashboard would
            listener = subprocess.Popen(
                [sys.executable, "-c", LISTENER, str(broker.port), str(datastreams[0])],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
        before = count_observations(env)
        per = total // publishers
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--publisher",
                    str(broker.port),
                    str(datastreams[k % len(datastreams)]),
                    str(per),
                    str(k + 100 * run),  # other days per run: no duplicates of earlier runs
                ]
            )
            for k in range(publishers)
        ]
        published = None
        while True:
            n = count_observations(env) - before
            if published is None and all(p.poll() is not None for p in procs):
                published = time.perf_counter() - t0
            if n >= per * publishers:
                break
            if time.perf_counter() - t0 > 1800:
                raise RuntimeError(f"only {n} of {per * publishers} stored after 30 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        for p in procs:
            p.wait(60)
        time.sleep(1)
        stored = count_observations(env) - before
    finally:
        if listener is not None:
            listener.terminate()
        for bridge in bridges:
            bridge.terminate()
        for bridge in bridges:
            try:
                bridge.wait(30)
            except subprocess.TimeoutExpired:
                bridge.kill()
        broker.stop()
    return {
        "observations": per * publishers,
        "stored": stored,
        "publishers": publishers,
        "bridges": bridge_count,
        "notify": notify,
        "seconds": round(elapsed, 2),
        "publish_seconds": round(published or elapsed, 2),
        "obs_per_s": round(per * publishers / elapsed),
    }


LISTENER = """
import sys, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
c.connect("127.0.0.1", int(sys.argv[1]))
c.subscribe(f"v1.1/Datastreams({sys.argv[2]})/Observations", 1)
c.loop_forever()
"""


# --- 3. the last 24 h with many observations stored ----------------------------------------------


def load_large(env: dict[str, str], datastreams: list[int], total: int, now: datetime) -> float:
    """``total`` observations spread over the datastreams, 5 minutes apart, ending at ``now``."""
    from sqlalchemy import text

    from datenschatz.db.session import engine_for

    url = env["DATENSCHATZ_DATABASE_URL"]
    engine = engine_for(url)
    with engine.connect() as conn:
        features = dict(
            conn.execute(
                text(
                    "SELECT o.ds, min(f.id) FROM (SELECT d.id AS ds, tl.location_id AS loc "
                    "FROM sta_datastream d JOIN sta_thing_location tl "
                    "ON tl.thing_id = d.thing_id) o "
                    "JOIN sta_feature_of_interest f ON f.source_location_id = o.loc GROUP BY o.ds"
                )
            ).all()
        )
    per = total // len(datastreams)
    t0 = time.perf_counter()
    if url.startswith("postgresql"):
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with (
            psycopg.connect(plain) as conn,
            conn.cursor() as cur,
            cur.copy(
                "COPY sta_observation (phenomenon_time_start, result_kind, result_number, "
                "datastream_id, feature_of_interest_id) FROM STDIN"
            ) as copy,
        ):
            for ds in datastreams:
                foi = features[ds]
                for k in range(per):
                    moment = now - SPACING * k
                    copy.write_row((moment, 0, 10 + k % 400 / 10, ds, foi))
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute("ANALYZE sta_observation")
    else:
        import sqlite3

        path = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        sql = (
            "INSERT INTO sta_observation (phenomenon_time_start, result_kind, result_number, "
            "datastream_id, feature_of_interest_id) VALUES (?, 0, ?, ?, ?)"
        )
        for ds in datastreams:
            foi = features[ds]
            rows = [
                ((now - SPACING * k).strftime("%Y-%m-%d %H:%M:%S.%f"), 10 + k % 400 / 10, ds, foi)
                for k in range(per)
            ]
            conn.executemany(sql, rows)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()
    return time.perf_counter() - t0


def bench_last_day(
    env: dict[str, str], datastreams: list[int], total: int, repeat: int, workdir: Path
) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    loaded = load_large(env, datastreams, total, now)
    stored = count_observations(env)
    since = (now - timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    port = free_port()
    rng = random.Random(7)
    sta_times: list[float] = []
    agg_times: list[float] = []
    rows_seen = set()
    with server(env, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(path: str) -> tuple[float, Any]:
            t0 = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            took = time.perf_counter() - t0
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
            return took, json.loads(body)

        for warm in datastreams[:3]:
            get(f"/sta/v1.1/Datastreams({warm})/Observations?$top=1")
        for _ in range(repeat):
            ds = rng.choice(datastreams)
            query = quote(f"phenomenonTime ge {since}")
            took, body = get(
                f"/sta/v1.1/Datastreams({ds})/Observations?$filter={query}"
                "&$orderby=phenomenonTime%20desc&$top=1000&$select=phenomenonTime,result"
            )
            sta_times.append(took)
            rows_seen.add(len(body["value"]))
            took, _ = get(
                f"/api/v1/sensors/datastreams/{ds}/aggregate?interval=hour&from={quote(since)}"
            )
            agg_times.append(took)
    return {
        "stored": stored,
        "load_seconds": round(loaded, 1),
        "repeat": repeat,
        "rows_returned": sorted(rows_seen),
        "sta_ms_median": round(statistics.median(sta_times) * 1000, 1),
        "sta_ms_p95": round(sorted(sta_times)[int(0.95 * (len(sta_times) - 1))] * 1000, 1),
        "aggregate_ms_median": round(statistics.median(agg_times) * 1000, 1),
        "aggregate_ms_p95": round(sorted(agg_times)[int(0.95 * (len(agg_times) - 1))] * 1000, 1),
    }


# --- driver -------------------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.data_dir) / f"sensors-{kind}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'datenschatz.sqlite3'}"
    else:
        url = postgres_database(args.postgres, "datenschatz_bench_sensors")
    env = {
        **os.environ,
        "DATENSCHATZ_DATA_DIR": str(workdir / "data"),
        "DATENSCHATZ_DATABASE_URL": url,
        "DATENSCHATZ_LOG_LEVEL": "WARNING",
        "DATENSCHATZ_RATE_LIMIT_TOKEN_PER_MINUTE": "0",
        "DATENSCHATZ_RATE_LIMIT_IP_PER_MINUTE": "0",
    }
    env.pop("DATENSCHATZ_MQTT_URL", None)
    run_cli(env, "init")
    run_cli(env, "user", "add", "bench", "--role", "admin")
    token = run_cli(env, "token", "create", "bench", "--scope", "sensors:write").splitlines()[-1]
    datastreams = make_datastreams(env, STATIONS)
    result: dict[str, Any] = {"database": kind}
    print(f"[{kind}] HTTP CreateObservations ...", flush=True)
    result["http"] = bench_http(env, token, datastreams, args.http_obs, args.rows_per_request)
    print(f"[{kind}]   {result['http']}", flush=True)
    runs = [("mqtt", False, 1), ("mqtt_notify", True, 1)]
    if args.bridges > 1:
        runs.append(("mqtt_shared", False, args.bridges))
    for run, (key, notify, bridges) in enumerate(runs):
        print(f"[{kind}] MQTT (notify={notify}, bridges={bridges}) ...", flush=True)
        result[key] = bench_mqtt(
            env, datastreams, args.mqtt_obs, args.publishers, notify, workdir, bridges, run
        )
        print(f"[{kind}]   {result[key]}", flush=True)
    if args.large:
        print(
            f"[{kind}] loading {args.large:,} observations for the last-24-h query ...", flush=True
        )
        result["last_day"] = bench_last_day(env, datastreams, args.large, args.repeat, workdir)
        print(f"[{kind}]   {result['last_day']}", flush=True)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgres":
            postgres_database(args.postgres, "datenschatz_bench_sensors", create=False)
    return result


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--publisher":
        publisher(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--postgres", default=os.environ.get("DATENSCHATZ_TEST_DATABASE_URL", ""))
    parser.add_argument("--http-obs", type=int, default=200_000)
    parser.add_argument("--rows-per-request", type=int, default=10_000)
    parser.add_argument("--mqtt-obs", type=int, default=30_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument(
        "--bridges",
        type=int,
        default=2,
        help="also run this many bridges in a shared subscription group (1 skips it)",
    )
    parser.add_argument(
        "--large",
        type=int,
        default=10_000_000,
        help="observations stored for the last-24-h query (0 skips it)",
    )
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    facts = machine_facts()
    print(describe_machine(facts), flush=True)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (shared machine)")
    results: list[dict[str, Any]] = []
    for kind in args.databases.split(","):
        if kind == "postgres" and not args.postgres:
            print("postgres: skipped (set DATENSCHATZ_TEST_DATABASE_URL or --postgres)")
            continue
        results.append(run_database(kind, args))
    report = {
        "machine": facts,
        "load_at_start": load,
        "results": results,
        "finished": datetime.now(UTC).isoformat(),
    }
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report["results"], indent=2, default=str))


if __name__ == "__main__":
    main()
