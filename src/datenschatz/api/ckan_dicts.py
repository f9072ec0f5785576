"""CKAN's dictionaries (package, resource, organization, group) and its parameter reading.

Datasets are CKAN packages named (and identified) by their slug; each download format of the
published version is a resource with the stable id ``<slug>.<format>`` (``luft.csv``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from datenschatz.access.policy import Principal
from datenschatz.catalog import organizations
from datenschatz.catalog.metadata import licence_title, licence_url
from datenschatz.catalog.search import Hit
from datenschatz.catalog.search_index import TABULAR_FORMATS, format_name
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.store.query.exports import Format

_OPEN_LICENCES = frozenset(
    {
        "dl-by-de/2.0",
        "dl-zero-de/2.0",
        "cc-by/4.0",
        "cc-by-sa/4.0",
        "cc-by-de/3.0",
        "cc-by-sa-de/3.0",
        "cc-by",
        "cc-by-sa",
        "cc-zero",
        "odbl",
        "odby",
        "odcpddl",
        "other-open",
    }
)


@dataclass(frozen=True)
class Call:
    """One action call: who asks, on which hub, from which base URL, with which parameters."""

    hub: Hub
    principal: Principal
    base_url: str
    params: dict[str, Any]

    # --- parameters ---------------------------------------------------------------------

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise InputError(f"Missing value: {name}.", parameter=name)
            return default
        if not isinstance(value, str | int | float):
            raise InputError(f"{name} must be a string.", parameter=name)
        return str(value)

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise InputError(f"{name} must be a whole number.", parameter=name)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be a whole number.", parameter=name) from None
        if number < minimum:
            raise InputError(f"{name} must be at least {minimum}.", parameter=name)
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise InputError(f"{name} must be true or false.", parameter=name)

    def names(self, name: str) -> list[str] | None:
        """A list given as a JSON list, a JSON string of one, or comma-separated text."""
        value = self.params.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise InputError(f"{name} is not a valid JSON list.", parameter=name) from None
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{name} must be a list of names.", parameter=name)
        return [str(v) for v in value]

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self.params.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise InputError(f"{name} is not a valid JSON object.", parameter=name) from None
        if not isinstance(value, dict):
            raise InputError(f"{name} must be a JSON object.", parameter=name)
        return value

    # --- links --------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


# --- dictionaries ---------------------------------------------------------------------------


def ckan_time(value: datetime | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC without an offset."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def resource_id(slug: str, fmt: Format) -> str:
    return f"{slug}.{fmt.value}"


def formats(hit: Hit) -> list[Format]:
    if hit.dataset.published_version is None:
        return []
    formats = list(TABULAR_FORMATS)
    if hit.dataset.geometry_column is not None:
        formats.append(Format.GEOJSON)
    return formats


def resource_dict(call: Call, hit: Hit, fmt: Format, position: int) -> dict[str, Any]:
    info = hit.dataset
    return {
        "id": resource_id(info.slug, fmt),
        "package_id": info.slug,
        "name": f"{info.title} ({format_name(fmt)})",
        "description": (
            f"Version {info.published_version}, {info.rows} rows, as {format_name(fmt)}."
        ),
        "format": format_name(fmt),
        "mimetype": fmt.media_type,
        "url": call.url(f"/api/v1/datasets/{info.slug}/download.{fmt.value}"),
        "url_type": None,
        "state": "active",
        "position": position,
        "datastore_active": True,
        "created": ckan_time(info.created_at),
        "last_modified": ckan_time(info.modified_at),
        "metadata_modified": ckan_time(info.modified_at),
        "size": None,
        "hash": "",
    }


def _org_brief(slug: str, name: str) -> dict[str, Any]:
    return {
        "id": slug,
        "name": slug,
        "title": name,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
    }


def package_dict(call: Call, hit: Hit) -> dict[str, Any]:
    info, meta = hit.dataset, hit.metadata
    contact = meta.contact
    resources = [resource_dict(call, hit, f, i) for i, f in enumerate(formats(hit))]
    tags = [{"name": k, "display_name": k, "state": "active"} for k in meta.keywords]
    groups = [
        {"name": g, "id": g, "title": g, "display_name": g} for g in hit.facets.get("group", [])
    ]
    extras = {
        "title_en": meta.title_en,
        "description_en": meta.description_en,
        "themes": ",".join(meta.themes) or None,
        "access_level": info.access_level,
        "accrual_periodicity": meta.accrual_periodicity,
        "geocoding": ",".join(meta.geocoding) or None,
        "contributor_id": meta.contributor_id,
        "temporal_start": meta.temporal_start.isoformat() if meta.temporal_start else None,
        "temporal_end": meta.temporal_end.isoformat() if meta.temporal_end else None,
        "spatial_bbox": json.dumps(meta.spatial_bbox) if meta.spatial_bbox else None,
        "conforms_to": meta.conforms_to,
        "provenance": meta.provenance,
        "issued": meta.issued.isoformat() if meta.issued else None,
    }
    return {
        "id": info.slug,
        "name": info.slug,
        "title": info.title,
        "notes": info.description,
        "type": "dataset",
        "state": "active",
        "private": info.access_level != "public",
        "license_id": meta.licence,
        "license_title": licence_title(meta.licence),
        "license_url": licence_url(meta.licence),
        "isopen": meta.licence in _OPEN_LICENCES,
        "owner_org": info.organization,
        "organization": _org_brief(info.organization, info.organization_name),
        "author": info.organization_name,
        "author_email": None,
        "maintainer": contact.name if contact else None,
        "maintainer_email": contact.email if contact else None,
        "url": meta.landing_page or call.url(f"/api/v1/datasets/{info.slug}"),
        "version": str(info.published_version) if info.published_version else None,
        "metadata_created": ckan_time(info.created_at),
        "metadata_modified": ckan_time(info.modified_at),
        "tags": tags,
        "num_tags": len(tags),
        "groups": groups,
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items() if v],
    }


def org_dict(info: organizations.OrganizationInfo) -> dict[str, Any]:
    return {
        **_org_brief(info.slug, info.name),
        "display_name": info.name,
        "description": info.description,
        "package_count": info.dataset_count,
        "organization_type": info.type,
        "homepage": info.homepage,
        "extras": [
            {"key": k, "value": v}
            for k, v in (
                ("contributor_id", info.contributor_id),
                ("municipality_key", info.municipality_key),
            )
            if v
        ],
    }


def group_dict(info: organizations.GroupInfo) -> dict[str, Any]:
    return {
        "id": info.slug,
        "name": info.slug,
        "title": info.title,
        "display_name": info.title,
        "description": info.description,
        "package_count": info.dataset_count,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "image_url": "",
    }
