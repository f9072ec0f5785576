"""The dataset page: description, licence and attribution, preview, map, chart, downloads, API
examples, versions with their differences, the privacy summary and lineage.

The page asks the access policy like every API does: a hidden dataset answers 404 here too, a
withdrawn one 410 with its public reason. The preview, map and chart load their data in the
browser from the public rows and aggregate APIs, under the same policy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from datenschatz.access.policy import Principal, ensure_dataset, readable_versions
from datenschatz.analysis.lineage import lineage
from datenschatz.catalog.metadata import (
    attribution_text,
    licence_title,
    licence_url,
    read_metadata,
)
from datenschatz.db.models import Dataset, Version
from datenschatz.errors import DatenschatzError
from datenschatz.privacy.gate import stored_report
from datenschatz.privacy.report import public_summary
from datenschatz.store.query import Format
from datenschatz.web.deps import HubDep, PrincipalDep, frequency_label, theme_label
from datenschatz.web.i18n import language_of
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The dataset whose features the map draws as context under geodata (when visible).
CONTEXT_DATASET = "stadtbezirke-herne"
TIME_TYPES = frozenset({"date", "datetime"})
NUMBER_TYPES = frozenset({"number", "integer"})


def _fields(version: Version | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    return [
        {
            "name": f["name"],
            "type": f.get("type", "string"),
            "description": f.get("description", ""),
            "unit": f.get("unit") or "",
        }
        for f in (version.table_schema or {}).get("fields", [])
    ]


def schema_diff(old: Version, new: Version) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: rows, added, removed and retyped columns."""
    before = {f["name"]: f["type"] for f in _fields(old)}
    after = {f["name"]: f["type"] for f in _fields(new)}
    return {
        "rows": new.row_count - old.row_count,
        "added": [n for n in after if n not in before],
        "removed": [n for n in before if n not in after],
        "retyped": [
            {"name": n, "from": before[n], "to": after[n]}
            for n in after
            if n in before and before[n] != after[n]
        ],
        "same_content": new.sha256 == old.sha256,
    }


def _versions(principal: Principal, dataset: Dataset) -> list[dict[str, Any]]:
    readable = sorted(readable_versions(principal, dataset), key=lambda v: v.number)
    rows: list[dict[str, Any]] = []
    for index, version in enumerate(readable):
        rows.append(
            {
                "number": version.number,
                "rows": version.row_count,
                "created_at": version.created_at,
                "published_at": version.published_at,
                "current": dataset.published_version_id == version.id,
                "sha256": version.sha256,
                "diff": schema_diff(readable[index - 1], version) if index else None,
            }
        )
    return list(reversed(rows))


def _privacy(session: Session, version: Version | None) -> dict[str, Any] | None:
    """The public summary of the stored report: roles and figures, never a value."""
    if version is None:
        return None
    report = stored_report(session, version)
    if report is None:
        return None
    summary = public_summary(report)
    roles: dict[str, list[str]] = {}
    for column in summary["columns"]:
        roles.setdefault(str(column["role"] or "unknown"), []).append(str(column["name"]))
    return {
        "passed": summary["passed"],
        "k": summary["k"],
        "smallest_group": summary["smallest_group"],
        "treated": bool(summary["treatments"]),
        "differential_privacy": summary["differential_privacy"],
        "evaluated_at": summary["evaluated_at"],
        "roles": sorted(roles.items()),
        "open_findings": 0 if summary["passed"] else len(report.get("reasons", [])),
    }


def _downloads(base: str, geodata: bool) -> list[dict[str, str]]:
    items = [
        {"format": f.value, "label": f.value.upper(), "url": f"{base}/download.{f.value}"}
        for f in Format
        if f is not Format.GEOJSON or geodata
    ]
    items.insert(
        1,
        {
            "format": "csv-excel",
            "label": "CSV (Excel)",
            "url": f"{base}/download.csv?dialect=excel-de",
        },
    )
    return items


def _api_examples(root: str, slug: str, geodata: bool) -> dict[str, str]:
    rows = f"{root}/api/v1/datasets/{slug}/rows"
    examples = {
        "rows": rows,
        "curl": f"curl '{rows}?_limit=10'",
        "httpx": (
            "import httpx\n\n"
            f'page = httpx.get("{rows}", params={{"_limit": 100}}).json()\n'
            'for row in page["rows"]:\n    print(row)'
        ),
        "pandas": (
            "import pandas as pd\n\n"
            f'df = pd.read_csv("{root}/api/v1/datasets/{slug}/download.csv")\n'
            "print(df.head())"
        ),
        "ckan": f"{root}/api/3/action/package_show?id={slug}",
        "sta": f"{root}/sta/v1.1",
        "dcat": f"{root}/datasets/{slug}.ttl",
    }
    if geodata:
        examples["ogc"] = f"{root}/ogc/collections/{slug}/items"
    return examples


def dataset_context(
    session: Session, principal: Principal, slug: str, root: str, lang: str
) -> dict[str, Any]:
    """Everything the dataset page shows, asked of the services with ``principal``."""
    dataset = ensure_dataset(session, principal, slug)
    meta = read_metadata(dataset)
    version = dataset.published_version
    if version is None:
        readable = readable_versions(principal, dataset)
        version = readable[-1] if readable else None
    fields = _fields(version)
    geodata = bool(version is not None and version.geometry_column)
    page_url = f"{root}{PREFIX}/datasets/{slug}"
    api_base = f"{root}/api/v1/datasets/{slug}"
    preview_fields = [f for f in fields if f["name"] != (version and version.geometry_column)]
    title = (meta.title_en if lang == "en" else None) or dataset.title
    description = (meta.description_en if lang == "en" else None) or dataset.description
    context_visible = False
    if geodata and slug != CONTEXT_DATASET:
        try:
            ensure_dataset(session, principal, CONTEXT_DATASET)
            context_visible = True
        except DatenschatzError:
            context_visible = False
    return {
        "slug": slug,
        "title": title,
        "description": description,
        "organization": dataset.organization.slug,
        "organization_name": dataset.organization.name,
        "access_level": dataset.access_level.value,
        "status": dataset.status.value,
        "meta": meta,
        "themes": [theme_label(c, lang) for c in meta.themes],
        "frequency": frequency_label(meta.accrual_periodicity, lang),
        "licence": licence_title(meta.licence),
        "licence_url": licence_url(meta.licence),
        "attribution": attribution_text(dataset, url=page_url),
        "version": version.number if version is not None else None,
        "rows": version.row_count if version is not None else None,
        "fields": fields,
        "preview_fields": preview_fields,
        "time_fields": [f["name"] for f in fields if f["type"] in TIME_TYPES],
        "number_fields": [f["name"] for f in fields if f["type"] in NUMBER_TYPES],
        "geometry_column": version.geometry_column if version is not None else None,
        "context_url": (
            f"/api/v1/datasets/{CONTEXT_DATASET}/rows?_limit=1000" if context_visible else None
        ),
        "api_base": f"/api/v1/datasets/{slug}",
        "downloads": _downloads(api_base, geodata) if version is not None else [],
        "api": _api_examples(root, slug, geodata),
        "versions": _versions(principal, dataset),
        "privacy": _privacy(session, version),
        "lineage": lineage(session, principal, slug),
    }


@router.get("/datasets/{slug}", response_class=HTMLResponse)
def dataset_page(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> HTMLResponse:
    lang, _ = language_of(request)
    root = str(request.base_url).rstrip("/")
    try:
        with hub.session() as session:
            context = dataset_context(session, principal, slug, root, lang)
        context["tile_url"] = hub.settings.web_tile_url
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(request, "dataset.html", **context)
