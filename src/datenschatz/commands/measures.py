"""`datenschatz measure create|evaluate|list|show`: the city's measures and their effects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from datenschatz.commands import cli_admin
from datenschatz.errors import InputError

measure_app = typer.Typer(
    help="Measures and the evaluation of their effects.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise InputError("The measure file cannot be read.", file=path.name) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError("The measure file is not valid YAML.", file=path.name, line=line) from None
    if not isinstance(data, dict):
        raise InputError("The measure file must hold a mapping of keys.", file=path.name)
    return data


@measure_app.command("create")
def measure_create(
    file: Annotated[Path, typer.Option("--file", "-f", help="measure.yaml")],
    replace: Annotated[bool, typer.Option(help="Replace a measure of the same name.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Record a measure from a YAML file."""
    from datenschatz.analysis.measures import create_measure, measure_dict, parse_spec
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        spec = parse_spec(_read_yaml(file), source=file.name)
        hub = load_hub()
        with hub.session() as session:
            data = measure_dict(create_measure(session, cli_admin(), spec, replace=replace))
        if not emit(data, as_json):
            out.print(f"measure {data['name']} recorded (start {data['start']})", highlight=False)


@measure_app.command("evaluate")
def measure_evaluate(
    name: Annotated[str, typer.Argument(help="Measure name.")],
    as_json: JsonOption = False,
) -> None:
    """Estimate the measure's effect now, store and print the evaluation."""
    from datenschatz.analysis.measures import evaluate_measure
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        hub = load_hub()
        data = evaluate_measure(hub, cli_admin(), name)
        if emit(data, as_json):
            return
        for label, key in (("difference-in-differences", "did"), ("before/after", "before_after")):
            e = data[key]
            pct = f" ({e['percent']:+.1f} %)" if e["percent"] is not None else ""
            out.print(
                f"{label}: {e['estimate']:+.2f} {e['unit']}{pct}, "
                f"95 % interval {e['ci_low']:+.2f} to {e['ci_high']:+.2f}",
                highlight=False,
            )
        placebo = data["placebo"]
        if placebo is not None:
            out.print(
                f"placebo: {placebo['estimate']:+.2f}, interval {placebo['ci_low']:+.2f} "
                f"to {placebo['ci_high']:+.2f}",
                highlight=False,
            )
        for warning in data["warnings"]:
            out.print(f"[yellow]warning:[/] {warning}", highlight=False)


@measure_app.command("list")
def measure_list(as_json: JsonOption = False) -> None:
    """List the recorded measures."""
    from datenschatz.analysis.measures import list_measures
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            data = list_measures(session)
        if not emit(data, as_json):
            for m in data:
                out.print(f"{m['name']}  start {m['start']}  {m['title']}", highlight=False)
