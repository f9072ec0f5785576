"""`datenschatz sensors ...`: importers, the MQTT bridge, publishing a datastream as a dataset.

Thin: each command builds the hub and calls one service function (or runs the bridge).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

app = typer.Typer(help="SensorThings: importers, MQTT bridge, publishing.", no_args_is_help=True)
import_app = typer.Typer(help="Import other publishers' sensor files.", no_args_is_help=True)
app.add_typer(import_app, name="import")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Files = Annotated[list[Path], typer.Argument(help="Files to import.", exists=True, dir_okay=False)]


def _run_import(kind: str, files: list[Path], as_json: bool) -> None:
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.sensors.importers import sensor_community, uba
    from datenschatz.sensors.importers.entities import base_url_from_settings

    importer = sensor_community.import_files if kind == "sensor-community" else uba.import_files
    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            report = importer(session, files, base_url=base_url_from_settings(hub.settings))
        if emit(report.to_dict(), as_json):
            return
        created = ", ".join(f"{n} {name}" for name, n in sorted(report.created.items()))
        out.print(
            f"{report.files} file(s): {report.readings:,} readings, {report.stored:,} new "
            f"observations, {report.duplicates:,} already stored; created: {created or 'nothing'}."
        )
        if report.skipped_lines:
            out.print(f"[yellow]skipped {report.skipped_lines} value(s):[/]", highlight=False)
            for example in report.skipped:
                out.print(f"  {example}", highlight=False)


@import_app.command("sensor-community")
def import_sensor_community(files: Files, as_json: JsonOption = False) -> None:
    """Import sensor.community archive CSVs (SDS011, DHT22, BME280, ...); safe to repeat."""
    _run_import("sensor-community", files, as_json)


@import_app.command("uba")
def import_uba(files: Files, as_json: JsonOption = False) -> None:
    """Import Umweltbundesamt station lists and hourly values (CSV or JSON); safe to repeat."""
    _run_import("uba", files, as_json)


def bridge(
    url: Annotated[
        str | None, typer.Option(help="Broker URL (default: DATENSCHATZ_MQTT_URL).")
    ] = None,
) -> None:
    """Run the MQTT bridge until interrupted (SIGINT/SIGTERM stop it cleanly)."""
    from datenschatz.cli import err, handled, load_hub
    from datenschatz.mqtt_bridge import bridge_for

    with handled():
        hub = load_hub()
        running = bridge_for(hub, url=url)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            del signum, frame
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        running.start()
        announced = False
        while not stop.wait(0.2):
            if not announced and running.wait_ready(0):
                # Tests and operators wait for this line.
                err.print("MQTT bridge ready (Ctrl+C stops).", highlight=False)
                announced = True
        running.stop()
        s = running.stats
        err.print(
            f"MQTT bridge stopped: {s.stored} stored, {s.duplicates} duplicates, "
            f"{s.rejected} rejected, {s.published} notifications.",
            highlight=False,
        )


app.command("bridge")(bridge)


@app.command("publish")
def publish_datastream(
    datastream: Annotated[int, typer.Argument(help="Datastream @iot.id.")],
    slug: Annotated[str, typer.Option("--slug", help="Dataset slug (created if new).")],
    title: Annotated[str | None, typer.Option(help="Title, for a new dataset.")] = None,
    org: Annotated[str | None, typer.Option(help="Organization slug, for a new dataset.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Store a datastream's observations as the next version (Parquet) of dataset SLUG."""
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.sensors.export import publish_datastream as publish

    with handled(as_json):
        hub = load_hub()
        info = publish(hub, datastream, slug, title=title, org=org, actor="cli")
        if not emit(info.to_dict(), as_json):
            out.print(
                f"{info.dataset} v{info.number}: {info.rows:,} observations of Datastream "
                f"{datastream} ({info.byte_size:,} bytes Parquet). Release it with "
                f"`datenschatz publish {info.dataset}`."
            )
