"""`datenschatz privacy treat`: apply declared treatments to a raw version (steward's tool).

The command is a plain function registered on the privacy command group (or, where that group
does not exist, at the top level) by :func:`register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def treat(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    file: Annotated[Path, typer.Option("--file", "-f", help="Treatment spec, YAML or JSON.")],
    version: Annotated[
        int | None, typer.Option(help="Raw version number (default newest).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply the treatments in FILE to a raw version of SLUG: the result is a new version."""
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.privacy.ledger import treatment_run_for
    from datenschatz.privacy.treatments import apply_treatments, load_spec_file

    with handled(as_json):
        spec = load_spec_file(file)
        hub = load_hub()
        info = apply_treatments(hub, slug, raw_version=version, spec=spec, actor="cli")
        from datenschatz.catalog.datasets import get_dataset, get_version

        with hub.session() as session:
            target = get_version(session, get_dataset(session, slug), info.number)
            report = treatment_run_for(session, target.id) or {}
        if emit({**info.to_dict(), "treatment": report}, as_json):
            return
        out.print(
            f"{info.dataset} v{info.number}: {info.rows:,} rows treated from "
            f"v{report.get('raw_version')} (k={report.get('k')}, smallest group "
            f"{report.get('smallest_group')}, suppressed {report.get('suppressed')})."
        )
        if report.get("dp"):
            out.print(
                f"differential privacy: epsilon {report['dp']['epsilon']:g} spent; "
                f"budget {report.get('budget')}"
            )


def register(app: typer.Typer) -> None:
    """Add the ``treat`` command to ``app`` (the privacy group)."""
    app.command("treat")(treat)
