"""The `datenschatz` command line: a thin adapter over the service layer."""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from datenschatz.commands.accounts import audit_app, token_app, user_app
from datenschatz.commands.catalog import register as register_catalog
from datenschatz.commands.measures import measure_app
from datenschatz.commands.privacy import app as privacy_app
from datenschatz.commands.recipes import lineage as lineage_command
from datenschatz.commands.recipes import recipe_app
from datenschatz.commands.releases import register as register_releases
from datenschatz.commands.search import app as search_app
from datenschatz.commands.sensors import app as sensors_app
from datenschatz.commands.sensors import bridge as mqtt_bridge_command
from datenschatz.commands.treat import register as register_treat
from datenschatz.errors import ConfigError, DatenschatzError

if TYPE_CHECKING:
    from datenschatz.hub import Hub

app = typer.Typer(
    help="Datenschatz: the data hub of the city and its Stadtwerke.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Relational store.", no_args_is_help=True)
store_app = typer.Typer(help="Version store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(store_app, name="store")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(measure_app, name="measure")
app.add_typer(recipe_app, name="recipe")
app.command("lineage")(lineage_command)
register_releases(app)  # `datenschatz release|withdraw|challenge|grant`
register_catalog(app)  # `datenschatz meta|org|group|harvest`
app.add_typer(privacy_app, name="privacy")
register_treat(privacy_app)  # `datenschatz privacy treat`
app.add_typer(sensors_app, name="sensors")
app.add_typer(search_app, name="search")
app.command("mqtt", help="Run the MQTT bridge (the same as `sensors bridge`).")(mqtt_bridge_command)

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def fail(exc: DatenschatzError, as_json: bool = False) -> NoReturn:
    if as_json:
        print(json.dumps(exc.to_dict(), ensure_ascii=False, default=str))
    else:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        for check in exc.details.get("checks", []):
            if not check["passed"]:
                err.print(f"  - {check['check']}: {check['reason']}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, ConfigError) else 1)


def load_hub(*, migrate: bool = True) -> Hub:
    """Build the hub from the environment; bring the schema up to date if asked."""
    from datenschatz.hub import Hub

    hub = Hub.from_env()
    logging.basicConfig(level=hub.settings.log_level, format="%(levelname)s %(name)s %(message)s")
    # Alembic narrates every migration step at INFO; only its warnings matter on the console.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))
    hub.data_dir.mkdir(parents=True, exist_ok=True)
    hub.store.ensure()
    if migrate:
        ensure_current_schema(hub)
    return hub


def ensure_current_schema(hub: Hub) -> None:
    from datenschatz.db.migrate import ensure_schema

    ensure_schema(hub.engine)


@contextmanager
def handled(as_json: bool = False) -> Iterator[None]:
    try:
        yield
    except DatenschatzError as exc:
        fail(exc, as_json)


@contextmanager
def stage_progress(total: int, label: str) -> Iterator[Callable[[str], None]]:
    """A rich progress bar advanced by named stages (on stderr, not in --json output)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(stage: str) -> None:
            bar.update(task, advance=1, description=f"{label}: {stage}")

        yield advance
        bar.update(task, completed=total)


def emit(data: Any, as_json: bool) -> bool:
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str, indent=2))
    return as_json


@app.command()
def init(as_json: JsonOption = False) -> None:
    """Create the data directory and bring the database schema up to date."""
    with handled(as_json):
        hub = load_hub()
        from datenschatz.db.migrate import current_revision

        info = {
            "data_dir": str(hub.data_dir),
            "database": hub.engine.url.render_as_string(hide_password=True),
            "revision": current_revision(hub.engine),
        }
        if not emit(info, as_json):
            out.print(f"Initialised {info['data_dir']} (schema {info['revision']}).")


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="The file to ingest.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset slug.")],
    title: Annotated[str | None, typer.Option(help="Title, for a new dataset.")] = None,
    org: Annotated[str | None, typer.Option(help="Organization slug.")] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the coordinates, e.g. EPSG:25832.")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet name.")] = None,
    make_valid: Annotated[
        bool, typer.Option("--make-valid", help="Repair invalid geometries.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Ingest FILE as a new version of a dataset (created if new)."""
    from datenschatz.ingest.model import IngestOptions
    from datenschatz.ingest.pipeline import ingest_file

    with handled(as_json):
        # The schema check runs beside the file's conversion (see ingest_file).
        hub = load_hub(migrate=False)
        options = IngestOptions(
            crs=crs,
            sheet=sheet,
            make_valid=make_valid,
            display_name=file.name,
            max_unpacked_bytes=hub.settings.max_unpacked_bytes,
            max_compression_ratio=hub.settings.max_compression_ratio,
        )
        with stage_progress(5, file.name) as progress:
            info = ingest_file(
                hub,
                file,
                dataset=dataset,
                title=title,
                org=org,
                options=options,
                progress=progress,
                prepare=lambda: ensure_current_schema(hub),
            )
        from datenschatz.privacy.gate import summary_of

        privacy = summary_of(hub, info.dataset, info.number)
        data = {**info.to_dict(), "quality": info.quality, "privacy": privacy}
        if not emit(data, as_json):
            out.print(
                f"{info.dataset} v{info.number}: {info.rows:,} rows, "
                f"{len(info.table_schema['fields'])} columns, {info.byte_size:,} bytes "
                f"(sha256 {info.sha256[:12]}…)"
            )
            for warning in info.quality.get("warnings", []):
                out.print(f"[yellow]warning:[/] {warning}", highlight=False)
            for column in info.quality.get("columns", []):
                if column.get("rejected_count") or column.get("message"):
                    out.print(
                        f"[yellow]note:[/] column {column['name']!r}: "
                        f"{column.get('message') or str(column['rejected_count']) + ' rejected'}",
                        highlight=False,
                    )
            if privacy is not None:
                out.print(f"privacy: {privacy['text']}", highlight=False)
        hub.engine.dispose()
        _EXIT.fast = True


@app.command()
def versions(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")], as_json: JsonOption = False
) -> None:
    """List the versions of a dataset."""
    from datenschatz.catalog.datasets import list_versions

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            infos = list_versions(session, slug)
        if emit([i.to_dict() for i in infos], as_json):
            return
        table = Table("version", "rows", "bytes", "format", "source", "by", "created", "published")
        for i in infos:
            table.add_row(
                str(i.number),
                f"{i.rows:,}",
                f"{i.byte_size:,}",
                i.format,
                i.source_name,
                i.created_by,
                i.created_at.strftime("%Y-%m-%d %H:%M"),
                "yes" if i.published else "",
            )
        out.print(table)


@app.command()
def publish(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    version: Annotated[int | None, typer.Option(help="Version number (default newest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a version after every automatic check passes."""
    from datenschatz.services.publish import publish as publish_version

    with handled(as_json):
        hub = load_hub()
        info = publish_version(hub, slug, version, actor="cli")
        if not emit(info.to_dict(), as_json):
            out.print(f"Published {info.dataset} v{info.number}.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the HTTP API (and later the web UI)."""
    with handled():
        hub = load_hub()
        run_server(hub, host or hub.settings.host, port or hub.settings.port)


def run_server(hub: Hub, host: str, port: int) -> None:
    import uvicorn

    from datenschatz.analysis.scheduler import running_scheduler
    from datenschatz.api.app import create_app
    from datenschatz.mqtt_bridge import running_bridge

    out.print(f"Datenschatz serves on [bold]http://{host}:{port}[/] (Ctrl+C stops).")
    # With DATENSCHATZ_MQTT_URL set, the MQTT bridge runs beside the HTTP API.
    # With DATENSCHATZ_RECIPE_SCHEDULE_MINUTES set, stale recipes re-run by themselves.
    with running_bridge(hub, base_url=f"http://{host}:{port}/sta/v1.1"), running_scheduler(hub):
        uvicorn.run(create_app(hub), host=host, port=port, log_level="warning")


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after loading.")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Load the demo data (real open data and marked synthetic data), then serve."""
    from datenschatz.demo.loader import DEMO_STEPS, load_demo

    with handled():
        hub = load_hub()
        with stage_progress(DEMO_STEPS, "demo") as progress:
            infos = load_demo(hub, progress=progress)
        out.print(f"Demo data: {len(infos)} datasets ready in {hub.data_dir}.")
        if serve_after:
            run_server(hub, host or hub.settings.host, port or hub.settings.port)


@app.command()
def settings(as_json: JsonOption = False) -> None:
    """Show every setting: environment variable, type, default and meaning."""
    from datenschatz.config import settings_help

    rows = settings_help()
    if emit(
        [dict(zip(("variable", "type", "default", "help"), r, strict=True)) for r in rows], as_json
    ):
        return
    table = Table("variable", "type", "default", "meaning")
    for row in rows:
        table.add_row(*row)
    out.print(table)


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Apply pending database migrations."""
    from datenschatz.db.migrate import current_revision

    with handled(as_json):
        hub = load_hub()
        revision = current_revision(hub.engine)
        if not emit({"revision": revision}, as_json):
            out.print(f"Database schema at revision {revision}.")


@store_app.command("check")
def store_check(
    clean: Annotated[
        bool, typer.Option("--clean", help="Delete orphans and interrupted writes.")
    ] = False,
    min_age: Annotated[
        float, typer.Option(help="With --clean: only files older than this many seconds.")
    ] = 3600.0,
    as_json: JsonOption = False,
) -> None:
    """Verify every version's hash; report missing files, orphans and interrupted writes."""
    from datenschatz.store.check import check_store, clean_store

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            report = check_store(session, hub.store)
        removed = clean_store(hub.store, report, min_age) if clean else []
        if not emit({**report.to_dict(), "removed": removed}, as_json):
            out.print(f"{report.ok} of {report.checked} versions intact.")
            for label, items in (
                ("corrupt (hash mismatch)", report.corrupt),
                ("missing file", report.missing),
                ("orphan file (no catalog row)", report.orphans),
                ("interrupted write (tmp)", report.partials),
            ):
                for item in items:
                    out.print(f"[red]{label}:[/] {item}", highlight=False)
            for name in removed:
                out.print(f"removed {name}", highlight=False)
        if not report.healthy:
            raise typer.Exit(1)


class _Exit:
    """Set by a command that leaves nothing to clean up (see :func:`main`)."""

    fast = False


_EXIT = _Exit()


def _root() -> None:
    """Datenschatz: the data hub of the city and its Stadtwerke."""


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs ``args``: only the command or group they name first, if one.

    Before it parses anything, typer turns every registered command into a click command,
    reading each function's parameters: for all of them that costs a tenth of a second on
    every run. A command line that names a command first (as every real use does) gets an app
    with that command or group alone; help, completion and unknown names get the full app.
    """
    if not args or args[0].startswith("-"):
        return app
    commands = [
        c
        for c in app.registered_commands
        if (c.name or typer.main.get_command_name(getattr(c.callback, "__name__", ""))) == args[0]
    ]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if len(commands) + len(groups) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands = commands
    only.registered_groups = groups
    if commands:
        only.callback()(_root)  # a group, as the full app: one command alone would be the root
    return only


def main() -> None:
    try:
        app_for(sys.argv[1:])()
    except ConfigError as exc:  # raised while building settings, before any command ran
        err.print(f"error: {exc}", highlight=False)
        sys.exit(2)
    except SystemExit as exc:
        if not _EXIT.fast or exc.code not in (0, None):
            raise
        # The command's files are fsynced, its transactions committed and its connections
        # closed: skip the interpreter's teardown of DuckDB, pyarrow and SQLAlchemy, which
        # costs a quarter of a second after every ingest.
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(0)


if __name__ == "__main__":
    main()
