"""`datenschatz privacy ...`: column roles, scans and privacy reports (a steward's tools).

The CLI acts as the local administrator: it may set roles of every dataset. Output names
columns, entity types and row numbers, never a cell value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from datenschatz.commands import cli_admin

app = typer.Typer(help="Privacy gate: column roles, scans, reports.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _parse_assignments(items: list[str]) -> dict[str, str]:
    from datenschatz.errors import InputError

    roles: dict[str, str] = {}
    for item in items:
        column, sep, role = item.rpartition("=")
        if not sep or not column or not role:
            raise InputError(
                f"Expected COLUMN=ROLE, got {item!r}.", parameter="roles", column=column or None
            )
        roles[column] = role
    return roles


def _print_verdict(report: dict[str, Any]) -> None:
    from datenschatz.cli import out

    state = "[green]passes[/]" if report["passed"] else "[red]does not pass[/]"
    out.print(f"{report['dataset']} v{report['version']}: privacy gate {state} (k={report['k']})")
    for reason in report["reasons"]:
        out.print(f"  - {reason}", highlight=False, markup=False)
    for note in report.get("notes", []):
        out.print(f"  note: {note}", highlight=False, markup=False)


@app.command("roles")
def roles(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    assignments: Annotated[
        list[str] | None, typer.Argument(help="COLUMN=ROLE pairs to set and confirm.")
    ] = None,
    accept_proposed: Annotated[
        bool, typer.Option("--accept-proposed", help="Confirm the gate's proposed roles.")
    ] = False,
    version: Annotated[int | None, typer.Option(help="Version number (default newest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show column roles, or set (COLUMN=ROLE ...) and confirm them (--accept-proposed)."""
    from rich.table import Table

    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.privacy import service

    with handled(as_json):
        hub = load_hub()
        given = _parse_assignments(assignments or [])
        if given or accept_proposed:
            service.update_roles(
                hub, cli_admin(), slug, given, accept=accept_proposed, number=version
            )
        columns = service.column_roles(hub, cli_admin(), slug, version)
        if emit(columns, as_json):
            return
        table = Table("column", "role", "confirmed", "proposed", "found")
        for c in columns:
            table.add_row(
                c["column"],
                c["role"] or "",
                "yes" if c["confirmed"] else "[red]no[/]",
                c["proposed_role"] or "",
                ", ".join(c["entities"]),
            )
        out.print(table)


@app.command("scan")
def scan(
    target: Annotated[str, typer.Argument(help="A file to scan, or a dataset slug.")],
    version: Annotated[int | None, typer.Option(help="Version of a dataset (default newest).")] = (
        None
    ),
    as_json: JsonOption = False,
) -> None:
    """Scan a file or a dataset's version for personal data and propose column roles."""
    from rich.table import Table

    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.privacy import service

    with handled(as_json):
        hub = load_hub()
        path = Path(target)
        if path.is_file():
            scanned = service.scan_path(hub, path)
            columns = [
                {
                    "column": c["name"],
                    "type": c["type"],
                    "proposed_role": c["proposed_role"],
                    "proposal_reason": c["proposal_reason"],
                    "hits": c["hits"],
                }
                for c in scanned["columns"]
            ]
        else:
            evaluated = service.privacy_report(hub, cli_admin(), target, version)
            columns = [
                {
                    "column": c["name"],
                    "type": c["type"],
                    "proposed_role": c["proposed_role"],
                    "proposal_reason": c["proposal_reason"],
                    "hits": c["hits"],
                }
                for c in evaluated["columns"]
            ]
        if emit({"target": path.name if path.is_file() else target, "columns": columns}, as_json):
            return
        table = Table("column", "type", "proposed role", "found (entity: rows, examples)")
        for c in columns:
            found = "; ".join(
                f"{h['entity']}: {h['count']}"
                + (f" (rows {', '.join(map(str, h['rows']))})" if h.get("rows") else "")
                for h in c["hits"]
            )
            table.add_row(c["column"], c["type"], c["proposed_role"] or "", found)
        out.print(table)


@app.command("report")
def report(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    version: Annotated[int | None, typer.Option(help="Version number (default newest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate a version's privacy report afresh and show it (stored with the version)."""
    from datenschatz.cli import emit, handled, load_hub
    from datenschatz.privacy import service

    with handled(as_json):
        hub = load_hub()
        data = service.privacy_report(hub, cli_admin(), slug, version)
        if emit(data, as_json):
            return
        _print_verdict(data)
