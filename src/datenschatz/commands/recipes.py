"""`datenschatz recipe create|run|show` and `datenschatz lineage`: derived datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from datenschatz.commands import cli_admin
from datenschatz.errors import InputError

recipe_app = typer.Typer(help="Recipes: reproducible derived datasets.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@recipe_app.command("create")
def recipe_create(
    slug: Annotated[str, typer.Argument(help="The output dataset (the file's output:).")],
    file: Annotated[Path, typer.Option("--file", "-f", help="recipe.yaml")],
    as_json: JsonOption = False,
) -> None:
    """Store the recipe of dataset SLUG (replacing its earlier recipe)."""
    from datenschatz.analysis.recipes import create_recipe
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise InputError(
                "The recipe file cannot be read as UTF-8 text.", file=file.name
            ) from None
        hub = load_hub()
        data = create_recipe(hub, cli_admin(), text, source=file.name, output=slug)
        if not emit(data, as_json):
            out.print(f"recipe of {slug} saved; run it with: datenschatz recipe run {slug}")


@recipe_app.command("run")
def recipe_run(
    slug: Annotated[str | None, typer.Argument(help="Output dataset to compute.")] = None,
    stale: Annotated[bool, typer.Option("--stale", help="Re-run every stale recipe.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run the recipe of SLUG, or every stale recipe (--stale): each writes a new version."""
    from datenschatz.analysis.recipes import run_recipe, run_stale
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        if (slug is None) == (not stale):
            raise InputError("Give a dataset SLUG or --stale, not both.", parameter="slug")
        hub = load_hub()
        infos = run_stale(hub, cli_admin()) if stale else [run_recipe(hub, cli_admin(), slug or "")]
        if not emit([i.to_dict() for i in infos], as_json):
            for info in infos:
                out.print(f"{info.dataset} v{info.number}: {info.rows:,} rows", highlight=False)
            if stale and not infos:
                out.print("no stale recipes")


@recipe_app.command("show")
def recipe_show(
    slug: Annotated[str, typer.Argument(help="Output dataset.")],
    as_json: JsonOption = False,
) -> None:
    """Show the recipe of SLUG, its last run and whether it is stale."""
    from datenschatz.analysis.recipes import show_recipe
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            data = show_recipe(session, cli_admin(), slug)
        if emit(data, as_json):
            return
        out.print(data["text"], highlight=False, markup=False)
        state = "stale: " + "; ".join(data["stale_reasons"]) if data["stale"] else "current"
        out.print(f"[bold]{state}[/]", highlight=False)


def lineage(
    slug: Annotated[str, typer.Argument(help="Dataset slug.")],
    as_json: JsonOption = False,
) -> None:
    """Which datasets and versions feed SLUG, and which datasets use it."""
    from datenschatz.analysis.lineage import lineage as lineage_of
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            data = lineage_of(session, cli_admin(), slug)
        if emit(data, as_json):
            return
        for item in data["derived_from"]:
            out.print(
                f"← {item['dataset']} v{item['version']} (as {item['alias']}, "
                f"sha256 {item['sha256'][:12]}…)",
                highlight=False,
            )
        for item in data["used_by"]:
            out.print(f"→ {item['dataset']} (as {item['as']})", highlight=False)
        if data["stale"]:
            out.print("[yellow]stale:[/] an input has a newer version; recipe run --stale")
