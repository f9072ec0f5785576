"""The CKAN actions: each translates CKAN parameters into one service call and its result back.

Groups are the catalog's groups; tags its keywords. Access is decided by the services (the
policy): what the caller may not see looks absent here as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datenschatz import __version__
from datenschatz.api.ckan_dicts import (
    Call,
    formats,
    group_dict,
    org_dict,
    package_dict,
    resource_dict,
)
from datenschatz.catalog import organizations, search
from datenschatz.catalog.search import Hit, SearchQuery, Sort
from datenschatz.catalog.views import list_datasets
from datenschatz.errors import InputError, NotFound
from datenschatz.services import data
from datenschatz.services.sql import run_sql
from datenschatz.store.query.exports import Format

# The CKAN API level these actions follow (reported by status_show).
CKAN_VERSION = "2.10.0"
MAX_ROWS = 1000
DEFAULT_ROWS = 10
DATASTORE_DEFAULT_LIMIT = 100

# CKAN facet and fq field names → our facets.
CKAN_FIELDS = {
    "organization": "organization",
    "owner_org": "organization",
    "groups": "group",
    "tags": "tag",
    "license_id": "licence",
    "res_format": "format",
    "theme": "theme",
    "access_level": "access_level",
    "has_geodata": "has_geodata",
    "has_time_series": "has_time_series",
}
_SORTS = {
    "score": Sort.RELEVANCE,
    "rank": Sort.RELEVANCE,
    "metadata_modified": Sort.NEWEST,
    "metadata_created": Sort.NEWEST,
    "title_string": Sort.TITLE,
    "title": Sort.TITLE,
    "name": Sort.TITLE,
    "views_recent": Sort.MOST_USED,
    "views_total": Sort.MOST_USED,
}
_DATASTORE_TYPES = {
    "integer": "int",
    "number": "numeric",
    "string": "text",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "object": "json",
    "array": "json",
    "geojson": "json",
}


# --- actions --------------------------------------------------------------------------------


def _search_terms(call: Call) -> tuple[str, list[tuple[str, str]]]:
    """Free text and (facet, value) filters from ``q`` and ``fq``."""
    filters: list[tuple[str, str]] = []
    words: list[str] = []
    q = call.text("q").strip()
    if q in ("*:*", "*"):
        q = ""
    for token in _split(q, "q"):
        field, _, value = token.partition(":")
        if value and field in CKAN_FIELDS:
            filters.append((CKAN_FIELDS[field], value))
        else:
            words.append(token)
    for token in _split(call.text("fq"), "fq"):
        field, colon, value = token.lstrip("+").partition(":")
        if not colon or not value:
            raise InputError("fq takes field:value terms.", parameter="fq")
        if field == "dataset_type" and value == "dataset":
            continue
        if field not in CKAN_FIELDS:
            known = ", ".join(sorted(CKAN_FIELDS))
            raise InputError(f"fq cannot filter on {field!r}; use {known}.", parameter="fq")
        filters.append((CKAN_FIELDS[field], value))
    return " ".join(words), filters


def _split(text: str, parameter: str) -> list[str]:
    """Whitespace-separated terms; a double-quoted part keeps its spaces (quotes dropped)."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if quoted:
        raise InputError("An opening quote has no closing quote.", parameter=parameter)
    if current:
        tokens.append("".join(current))
    return tokens


def _sort(text: str) -> Sort:
    first = text.split(",")[0].split()
    if not first:
        return Sort.RELEVANCE
    sort = _SORTS.get(first[0])
    if sort is None or len(first) > 2 or (len(first) == 2 and first[1] not in ("asc", "desc")):
        known = ", ".join(_SORTS)
        raise InputError(f"Cannot sort by {text!r}; sort by one of {known}.", parameter="sort")
    return sort


def package_search(call: Call) -> dict[str, Any]:
    """Search datasets: q, fq (field:value), rows, start, sort, facet.field, facet.limit."""
    q, filters = _search_terms(call)
    sort_text = call.text("sort")
    facet_fields = call.names("facet.field") or []
    facets: list[str] = []
    for name in facet_fields:
        if name not in CKAN_FIELDS:
            raise InputError(f"Cannot facet on {name!r}.", parameter="facet.field")
        facets.append(CKAN_FIELDS[name])
    query = SearchQuery(
        q=q,
        filters=tuple(filters),
        sort=_sort(sort_text),
        limit=min(call.integer("rows", DEFAULT_ROWS), MAX_ROWS),
        offset=call.integer("start", 0),
        facets=tuple(dict.fromkeys(facets)),
        facet_limit=call.integer("facet.limit", 50, minimum=-1),
    )
    with call.hub.session() as session:
        result = search.search(session, call.principal, query)
    requested = {CKAN_FIELDS[name]: name for name in facet_fields}
    search_facets = {
        requested[facet]: {
            "title": requested[facet],
            "items": [{"name": v.value, "display_name": v.label, "count": v.count} for v in values],
        }
        for facet, values in result.facets.items()
    }
    return {
        "count": result.total,
        "sort": sort_text or "score desc, metadata_modified desc",
        "results": [package_dict(call, hit) for hit in result.hits],
        "facets": {
            requested[facet]: {v.value: v.count for v in values}
            for facet, values in result.facets.items()
        },
        "search_facets": search_facets,
    }


def _entry(call: Call, name: str) -> Hit:
    with call.hub.session() as session:
        return search.entry(session, call.principal, name)


def package_show(call: Call) -> dict[str, Any]:
    """One dataset by id or name."""
    return package_dict(call, _entry(call, call.text("id", required=True)))


def package_list(call: Call) -> list[str]:
    """The names of the datasets you may see, in name order (limit, offset)."""
    limit = call.integer("limit", 0)
    with call.hub.session() as session:
        _total, page = list_datasets(
            session, call.principal, limit=limit or 1_000_000, offset=call.integer("offset", 0)
        )
    return [info.slug for info in page]


def _listing(call: Call, items: list[dict[str, Any]], key: str) -> list[Any]:
    sort = call.text("sort", default="name asc").split()
    field = sort[0] if sort else "name"
    if field not in ("name", "title", "package_count"):
        raise InputError(
            f"Cannot sort by {field!r}; use name, title or package_count.", parameter="sort"
        )
    items.sort(key=lambda d: d[field], reverse=len(sort) > 1 and sort[1] == "desc")
    wanted = call.names(key)
    if wanted is not None:
        items = [d for d in items if d["name"] in wanted]
    offset = call.integer("offset", 0)
    limit = call.integer("limit", 0)
    items = items[offset : offset + limit if limit else None]
    if call.flag("all_fields"):
        return items
    return [d["name"] for d in items]


def organization_list(call: Call) -> list[Any]:
    """Organizations: names, or dicts with all_fields (sort, limit, offset, organizations)."""
    with call.hub.session() as session:
        infos = organizations.list_organizations(session, call.principal)
    return _listing(call, [org_dict(i) for i in infos], "organizations")


def organization_show(call: Call) -> dict[str, Any]:
    """One organization; include_datasets adds its datasets (up to 1000)."""
    name = call.text("id", required=True)
    with call.hub.session() as session:
        info = organizations.organization_detail(session, call.principal, name)
        body = org_dict(info)
        if call.flag("include_datasets"):
            query = SearchQuery(filters=(("organization", info.slug),), limit=MAX_ROWS, facets=())
            found = search.search(session, call.principal, query)
            body["packages"] = [package_dict(call, hit) for hit in found.hits]
    return body


def group_list(call: Call) -> list[Any]:
    """Groups (topics): names, or dicts with all_fields."""
    with call.hub.session() as session:
        infos = organizations.list_groups(session, call.principal)
    return _listing(call, [group_dict(i) for i in infos], "groups")


def group_show(call: Call) -> dict[str, Any]:
    """One group."""
    with call.hub.session() as session:
        info = organizations.group_detail(session, call.principal, call.text("id", required=True))
    return group_dict(info)


def tag_list(call: Call) -> list[Any]:
    """The keywords of the datasets you may see (query: part of the name; all_fields)."""
    query = SearchQuery(limit=0, facets=("tag",), facet_limit=-1)
    with call.hub.session() as session:
        result = search.search(session, call.principal, query)
    part = call.text("query").casefold()
    names = sorted(v.value for v in result.facets["tag"] if part in v.value.casefold())
    if call.flag("all_fields"):
        return [{"id": n, "name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


def _resource(call: Call, name: str, parameter: str) -> tuple[Hit, Format]:
    slug, dot, fmt = name.rpartition(".")
    if not dot:
        raise NotFound("No such resource.", resource=name)
    hit = _entry(call, slug)
    for offered in formats(hit):
        if offered.value == fmt:
            return hit, offered
    raise NotFound("No such resource.", resource=name, parameter=parameter)


def resource_show(call: Call) -> dict[str, Any]:
    """One resource (a download format of a dataset's published version) by id."""
    hit, fmt = _resource(call, call.text("id", required=True), "id")
    return resource_dict(call, hit, fmt, formats(hit).index(fmt))


def status_show(call: Call) -> dict[str, Any]:
    """What this site is and which API level it speaks."""
    return {
        "site_title": "Datenschatz",
        "site_description": "Open data of the city and its Stadtwerke.",
        "site_url": call.base_url.rstrip("/"),
        "ckan_version": CKAN_VERSION,
        "datenschatz_version": __version__,
        "api_version": 3,
        "locale_default": "de",
        "extensions": ["datastore"],
    }


def _datastore_pairs(call: Call) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for column, value in (call.mapping("filters") or {}).items():
        values = value if isinstance(value, list) else [value]
        texts = [_value_text(v) for v in values]
        if len(texts) == 1:
            pairs.append((f"{column}__eq", texts[0]))
        else:
            pairs.append((f"{column}__in", ",".join(texts)))
    q = call.params.get("q")
    if isinstance(q, dict):
        pairs.extend((f"{column}__contains", _value_text(v)) for column, v in q.items())
    elif q not in (None, ""):
        pairs.append(("q", call.text("q")))
    fields = call.names("fields")
    if fields:
        pairs.append(("_fields", ",".join(fields)))
    for part in call.text("sort").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise InputError("sort takes 'column' or 'column desc' items.", parameter="sort")
        descending = len(words) == 2 and words[1].lower() == "desc"
        pairs.append(("_sort_desc" if descending else "_sort", words[0].strip('"')))
    return pairs


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def datastore_search(call: Call) -> dict[str, Any]:
    """Records of a resource: filters, q, fields, sort, limit, offset, include_total."""
    name = call.text("resource_id") or call.text("id", required=True)
    hit, _fmt = _resource(call, name, "resource_id")
    limit = call.integer("limit", DATASTORE_DEFAULT_LIMIT)
    offset = call.integer("offset", 0)
    maximum = call.hub.settings.max_rows_per_page
    if limit > maximum:
        raise InputError(f"limit must be at most {maximum}.", parameter="limit")
    base = _datastore_pairs(call)
    records: list[dict[str, Any]] = []
    skip, cursor = offset, None
    while True:
        wanted = min(maximum, max(skip + limit - len(records), 1))
        pairs = [*base, ("_limit", str(wanted))] + ([("_next", cursor)] if cursor else [])
        page = data.rows(call.hub, call.principal, hit.dataset.slug, pairs)
        rows = page.rows
        dropped = min(skip, len(rows))
        skip -= dropped
        records.extend(rows[dropped:])
        if len(records) >= limit or page.next_cursor is None:
            break
        cursor = page.next_cursor
    body: dict[str, Any] = {
        "resource_id": name,
        "fields": [
            {"id": f["name"], "type": _DATASTORE_TYPES.get(str(f.get("type")), "text")}
            for f in page.fields
        ],
        "records": records[:limit],
        "limit": limit,
        "offset": offset,
        "_links": {
            "start": f"/api/3/action/datastore_search?resource_id={name}",
            "next": f"/api/3/action/datastore_search?resource_id={name}&offset={offset + limit}",
        },
    }
    if call.flag("include_total", True):
        body["total"] = page.count.value
        body["total_was_estimated"] = page.count.estimated
    return body


def datastore_search_sql(call: Call) -> dict[str, Any]:
    """One read-only SELECT over the datasets you may see (tables are dataset names)."""
    sql = call.text("sql", required=True)
    result = run_sql(call.hub, call.principal, sql)
    names = [c.name for c in result.columns]
    return {
        "sql": sql,
        "fields": [{"id": c.name, "type": c.type.lower()} for c in result.columns],
        "records": [dict(zip(names, row, strict=True)) for row in result.rows],
        "records_truncated": result.truncated,
    }


Action = Callable[[Call], Any]

ACTIONS: dict[str, Action] = {
    "package_search": package_search,
    "package_show": package_show,
    "package_list": package_list,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "tag_list": tag_list,
    "resource_show": resource_show,
    "status_show": status_show,
    "datastore_search": datastore_search,
    "datastore_search_sql": datastore_search_sql,
}
# Actions whose mistakes are query errors (CKAN's "Search Query Error"), not validation errors.
SEARCH_ACTIONS = frozenset({"package_search"})
# CKAN actions that change things: refused, the catalog is written through the native API.
WRITE_ACTIONS = frozenset(
    f"{entity}_{verb}"
    for entity in ("package", "resource", "organization", "group", "tag", "user", "dataset")
    for verb in ("create", "update", "patch", "delete", "purge")
) | frozenset({"datastore_create", "datastore_upsert", "datastore_delete", "member_create"})
