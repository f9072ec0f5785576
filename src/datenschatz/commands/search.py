"""`datenschatz search ...`: search the catalog from the shell, rebuild the search index.

The CLI searches as an anonymous caller: it finds what the public finds.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Catalog search: query it, rebuild its index.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command("query")
def query(
    words: Annotated[list[str] | None, typer.Argument(help="Words to search for.")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--facet", "-f", help="FACET=VALUE filter, e.g. theme=ENVI (repeatable)."),
    ] = None,
    sort: Annotated[str, typer.Option(help="relevance, newest, title or most_used.")] = "relevance",
    limit: Annotated[int, typer.Option(help="Datasets to show.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Search the published catalog (German stemming, umlauts folded)."""
    from datenschatz.access.policy import ANONYMOUS
    from datenschatz.catalog.search import parse_search, search
    from datenschatz.cli import emit, handled, load_hub, out
    from datenschatz.errors import InputError

    with handled(as_json):
        pairs = [("q", " ".join(words or [])), ("sort", sort), ("limit", str(limit))]
        for item in where or []:
            name, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"Expected FACET=VALUE, got {item!r}.", parameter="facet")
            pairs.append((name.strip(), value.strip()))
        hub = load_hub()
        with hub.session() as session:
            result = search(session, ANONYMOUS, parse_search(pairs))
        hits = [
            {"slug": h.dataset.slug, "title": h.dataset.title, "score": h.score}
            for h in result.hits
        ]
        facets = {
            name: {v.value: v.count for v in values} for name, values in result.facets.items()
        }
        if emit({"total": result.total, "results": hits, "facets": facets}, as_json):
            return
        out.print(f"{result.total} dataset(s)")
        for hit in hits:
            out.print(f"  {hit['slug']}: {hit['title']}", highlight=False, markup=False)


@app.command("reindex")
def reindex(as_json: JsonOption = False) -> None:
    """Rebuild the whole search index (it is kept current on every change; use after restores)."""
    from datenschatz.catalog.search_index import reindex_all
    from datenschatz.cli import emit, handled, load_hub, out

    with handled(as_json):
        hub = load_hub()
        with hub.session() as session:
            count = reindex_all(session)
        if not emit({"indexed": count}, as_json):
            out.print(f"indexed {count} dataset(s)")
