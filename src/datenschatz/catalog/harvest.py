"""Harvesting: another catalog's metadata into an organization, as metadata-only datasets.

Two sources: a DCAT catalog (a file or URL in Turtle, RDF/XML or JSON-LD, Hydra pages followed)
and a CKAN portal (``package_search`` paged). Every remote dataset becomes a draft dataset of
the organization, without a version: its remote download links are kept as links (shown as
distributions in our DCAT output), and nothing is published without the release checks.

A run is idempotent: remote datasets are keyed on the source and their identifier there
(:class:`~datenschatz.db.catalog_models.HarvestRecord`), so a re-run updates and never
duplicates. Datasets gone at the source are marked withdrawn; one that comes back returns to
draft. A source that cannot be read completely changes nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS
from rdflib.term import Node
from sqlalchemy import select
from sqlalchemy.orm import Session

from datenschatz.access.policy import Principal, ensure_admin
from datenschatz.catalog import vocab
from datenschatz.catalog.datasets import SLUG_RE
from datenschatz.catalog.metadata import DatasetMetadata, apply_metadata
from datenschatz.db.catalog_models import HarvestRecord
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Organization, utcnow
from datenschatz.errors import InputError, NotFound
from datenschatz.governance import audit

HYDRA: Final = Namespace("http://www.w3.org/ns/hydra/core#")
DCATDE: Final = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD: Final = Namespace("http://www.w3.org/2006/vcard/ns#")

MAX_BYTES: Final = 50 * 1024 * 1024  # one page of a remote catalog
MAX_PAGES: Final = 10_000
TIMEOUT: Final = 30.0
CKAN_ROWS: Final = 100
ACCEPT: Final = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8"

# Licence ids CKAN portals commonly use, mapped to the dcat-ap.de list.
CKAN_LICENCES: Final = {
    "dl-de-by-2.0": "dl-by-de/2.0",
    "dl-de-by-1.0": "dl-by-de/1.0",
    "dl-de-zero-2.0": "dl-zero-de/2.0",
    "cc-by-4.0": "cc-by/4.0",
    "cc-by-sa-4.0": "cc-by-sa/4.0",
    "cc-zero": "cc-zero",
    "cc0-1.0": "cc-zero",
    "odc-odbl": "odbl",
    "odc-by": "odby",
    "odc-pddl": "odcpddl",
    "other-open": "other-open",
    "other-closed": "other-closed",
}


@dataclass
class RemoteDataset:
    """One dataset of a remote catalog, as far as it maps onto our metadata."""

    remote_id: str
    title: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    distributions: list[dict[str, str]] = field(default_factory=list)
    modified: str | None = None


@dataclass
class HarvestReport:
    source: str
    organization: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    dropped_fields: int = 0  # remote values that did not fit our vocabularies

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "organization": self.organization,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "dropped_fields": self.dropped_fields,
        }


Fetch = Callable[[str, str], tuple[bytes, str]]


def fetch_url(url: str, accept: str) -> tuple[bytes, str]:
    """GET ``url`` (http/https only): (body, media type). At most :data:`MAX_BYTES`."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError("Only http and https URLs can be harvested.", parameter="source")
    request = urllib.request.Request(
        url, headers={"Accept": accept, "User-Agent": "datenschatz-harvester"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body: bytes = response.read(MAX_BYTES + 1)
            media = response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        raise InputError(
            f"The source answered HTTP {exc.code}.", parameter="source", url=url
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InputError(
            "The source cannot be reached.", parameter="source", url=url, reason=str(exc)[:200]
        ) from None
    if len(body) > MAX_BYTES:
        raise InputError("A page of the source is too large.", parameter="source", url=url)
    return body, media


# -- DCAT -----------------------------------------------------------------------------------


_RDF_FORMATS: Final = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
}
_SUFFIX_FORMATS: Final = {
    ".ttl": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}


def _rdf_format(location: str, media: str | None) -> str:
    if media and media in _RDF_FORMATS:
        return _RDF_FORMATS[media]
    path = urllib.parse.urlsplit(location).path if "://" in location else location
    return _SUFFIX_FORMATS.get(Path(path).suffix.lower(), "turtle")


def _parse(body: bytes, fmt: str, location: str) -> Graph:
    graph = Graph()
    try:
        with warnings.catch_warnings():
            # rdflib's JSON-LD parser still builds a ConjunctiveGraph internally
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
            graph.parse(data=body, format=fmt, publicID=location)
    except Exception as exc:  # rdflib raises many kinds for bad input
        raise InputError(
            f"The source is not readable as {fmt}.",
            parameter="source",
            reason=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
        ) from None
    return graph


def dcat_pages(source: str, fetch: Fetch = fetch_url) -> Iterator[Graph]:
    """Each page of a DCAT catalog: a local file, or a URL whose Hydra next pages are followed."""
    if "://" not in source:
        path = Path(source)
        if not path.is_file():
            raise InputError("No such file.", parameter="source", file=path.name)
        yield _parse(path.read_bytes(), _rdf_format(source, None), path.resolve().as_uri())
        return
    seen: set[str] = set()
    url: str | None = source
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            break
        seen.add(url)
        body, media = fetch(url, ACCEPT)
        graph = _parse(body, _rdf_format(url, media), url)
        yield graph
        url = _next_page(graph)


def _next_page(graph: Graph) -> str | None:
    for predicate in (HYDRA.next, HYDRA.nextPage):
        for target in graph.objects(None, predicate):
            if isinstance(target, URIRef):
                return str(target)
    return None


def _lang_text(graph: Graph, node: Node, predicate: URIRef, lang: str | None) -> str | None:
    """A literal in ``lang`` (None: German, else untagged, else any)."""
    values = [o for o in graph.objects(node, predicate) if isinstance(o, Literal)]
    if lang is not None:
        return next((str(v) for v in values if v.language == lang), None)
    for wanted in ("de", None):
        for value in values:
            if value.language == wanted:
                return str(value)
    return str(values[0]) if values else None


def _iri_codes(graph: Graph, node: Node, predicate: URIRef, base: str) -> list[str]:
    return [
        str(o).removeprefix(base)
        for o in graph.objects(node, predicate)
        if isinstance(o, URIRef) and str(o).startswith(base)
    ]


def _first_iri(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    for value in graph.objects(node, predicate):
        if isinstance(value, URIRef) and str(value).startswith(("http://", "https://")):
            return str(value)
    return None


def _date(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            return None


def dcat_datasets(graph: Graph) -> Iterator[RemoteDataset]:
    """The datasets described in one page of a DCAT catalog."""
    for node in sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str):
        identifier = _lang_text(graph, node, DCTERMS.identifier, None)
        remote_id = identifier or (str(node) if isinstance(node, URIRef) else None)
        title = _lang_text(graph, node, DCTERMS.title, None)
        if not remote_id or not title:
            continue
        meta: dict[str, Any] = {
            "title_en": _lang_text(graph, node, DCTERMS.title, "en"),
            "description_en": _lang_text(graph, node, DCTERMS.description, "en"),
            "keywords": [str(k) for k in graph.objects(node, DCAT.keyword)],
            "themes": _iri_codes(graph, node, DCAT.theme, vocab.THEME_BASE),
            "contributor_id": next(
                iter(_iri_codes(graph, node, DCATDE.contributorID, vocab.CONTRIBUTOR_BASE)), None
            ),
            "geocoding": _iri_codes(graph, node, DCTERMS.spatial, vocab.MUNICIPALITY_BASE)
            or _iri_codes(graph, node, DCATDE.politicalGeocodingURI, vocab.MUNICIPALITY_BASE),
            "accrual_periodicity": next(
                iter(_iri_codes(graph, node, DCTERMS.accrualPeriodicity, vocab.FREQUENCY_BASE)),
                None,
            ),
            "landing_page": _first_iri(graph, node, DCAT.landingPage),
            "conforms_to": _first_iri(graph, node, DCTERMS.conformsTo),
            "issued": _date(graph.value(node, DCTERMS.issued)),
        }
        provenance = graph.value(node, DCTERMS.provenance)
        if provenance is not None:
            label: Node | None = provenance
            if not isinstance(provenance, Literal):
                label = graph.value(provenance, RDFS.label)
            meta["provenance"] = str(label) if label is not None else None
        contact = graph.value(node, DCAT.contactPoint)
        if contact is not None:
            email = _first_any(graph, contact, VCARD.hasEmail)
            meta["contact"] = {
                "name": _lang_text(graph, contact, VCARD.fn, None) or "Kontakt",
                "email": urllib.parse.unquote(email.removeprefix("mailto:")) if email else None,
                "url": _first_iri(graph, contact, VCARD.hasURL),
            }
        distributions = []
        licences: list[str] = []
        for dist in graph.objects(node, DCAT.distribution):
            url = _first_iri(graph, dist, DCAT.downloadURL) or _first_iri(
                graph, dist, DCAT.accessURL
            )
            if url is None:
                continue
            fmt = graph.value(dist, DCTERMS.format)
            distributions.append(
                {
                    "url": url,
                    "format": str(fmt).rsplit("/", 1)[-1] if fmt is not None else "",
                    "title": _lang_text(graph, dist, DCTERMS.title, None) or "",
                }
            )
            licences += [str(o) for o in graph.objects(dist, DCTERMS.license)]
        meta["licence"] = _licence(licences)
        modified = graph.value(node, DCTERMS.modified)
        yield RemoteDataset(
            remote_id=remote_id,
            title=title,
            description=_lang_text(graph, node, DCTERMS.description, None) or "",
            metadata=meta,
            distributions=distributions,
            modified=str(modified) if modified is not None else None,
        )


def _first_any(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    value = graph.value(node, predicate)
    return str(value) if value is not None else None


def _licence(candidates: list[str]) -> str | None:
    """Our licence id for the first remote licence we recognize; 'other-open' for the rest."""
    for candidate in candidates:
        ident = candidate.strip().removeprefix(vocab.LICENCE_BASE)
        if ident in vocab.LICENCES:
            return ident
        if ident.lower() in CKAN_LICENCES:
            return CKAN_LICENCES[ident.lower()]
    return "other-open" if candidates else None


# -- CKAN -----------------------------------------------------------------------------------


def ckan_packages(
    base_url: str, fetch: Fetch = fetch_url, rows: int = CKAN_ROWS
) -> Iterator[dict[str, Any]]:
    """Every package of a CKAN portal, through ``package_search`` pages of ``rows``."""
    root = base_url.rstrip("/")
    if not root.endswith("/api/3/action"):
        root += "/api/3/action"
    start = 0
    while True:
        query = urllib.parse.urlencode({"rows": rows, "start": start, "sort": "name asc"})
        body, _media = fetch(f"{root}/package_search?{query}", "application/json")
        try:
            answer = json.loads(body)
            result = answer["result"]
            count = int(result["count"])
            packages = list(result["results"])
        except (ValueError, KeyError, TypeError):
            raise InputError(
                "The source does not answer like a CKAN package_search.", parameter="source"
            ) from None
        if not answer.get("success", True):
            raise InputError("The CKAN portal reported an error.", parameter="source")
        yield from (p for p in packages if isinstance(p, dict))
        start += len(packages)
        if not packages or start >= count or start >= MAX_PAGES * rows:
            return


def ckan_dataset(package: dict[str, Any]) -> RemoteDataset | None:
    remote_id = str(package.get("id") or package.get("name") or "")
    title = str(package.get("title") or package.get("name") or "")
    if not remote_id or not title:
        return None
    extras = {
        str(e.get("key")): e.get("value")
        for e in package.get("extras") or []
        if isinstance(e, dict)
    }
    email = package.get("maintainer_email") or package.get("author_email")
    name = package.get("maintainer") or package.get("author") or "Kontakt"
    contact_url = extras.get("contact_url") or package.get("url")
    themes = [
        str(g.get("name", "")).upper()
        for g in package.get("groups") or []
        if isinstance(g, dict) and str(g.get("name", "")).upper() in vocab.THEMES
    ]
    contributors = extras.get("contributorID")
    if isinstance(contributors, str) and contributors.startswith("["):
        try:
            contributors = json.loads(contributors)
        except ValueError:
            contributors = None
    contributor = contributors[0] if isinstance(contributors, list) and contributors else None
    meta: dict[str, Any] = {
        "keywords": [
            str(t.get("display_name") or t.get("name"))
            for t in package.get("tags") or []
            if isinstance(t, dict)
        ],
        "themes": themes,
        "licence": _licence([str(package["license_id"])]) if package.get("license_id") else None,
        "contact": {"name": str(name), "email": email, "url": contact_url}
        if (email or contact_url)
        else None,
        "contributor_id": contributor if isinstance(contributor, str) else None,
        "landing_page": package.get("url") or None,
        "issued": _date(extras.get("issued") or package.get("metadata_created")),
        "accrual_periodicity": str(extras.get("frequency") or "").rsplit("/", 1)[-1] or None,
    }
    distributions = [
        {
            "url": str(r.get("url")),
            "format": str(r.get("format") or ""),
            "title": str(r.get("name") or ""),
        }
        for r in package.get("resources") or []
        if isinstance(r, dict) and str(r.get("url") or "").startswith(("http://", "https://"))
    ]
    return RemoteDataset(
        remote_id=remote_id,
        title=title,
        description=str(package.get("notes") or ""),
        metadata=meta,
        distributions=distributions,
        modified=str(package.get("metadata_modified") or "") or None,
    )


# -- storing ----------------------------------------------------------------------------------


def _lenient(remote: RemoteDataset) -> tuple[dict[str, Any], int]:
    """The remote metadata our model accepts, field by field; and how many fields it refused."""
    accepted: dict[str, Any] = {}
    dropped = 0
    for name, value in remote.metadata.items():
        if value in (None, "", [], {}):
            continue
        try:
            DatasetMetadata(**{name: value})
        except ValidationError:
            if isinstance(value, list):  # keep the members that fit
                kept = [v for v in value if _fits(name, v)]
                dropped += len(value) - len(kept)
                if kept:
                    accepted[name] = kept
            else:
                dropped += 1
            continue
        accepted[name] = value
    accepted["title"] = remote.title.strip()[:500]
    accepted["description"] = remote.description.strip() or remote.title.strip()
    return accepted, dropped


def _fits(name: str, value: Any) -> bool:
    try:
        DatasetMetadata(**{name: [value]})
    except ValidationError:
        return False
    return True


def _slug_base(text: str) -> str:
    umlauts: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
    folded = text.lower().translate(str.maketrans(umlauts))
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80].strip("-")
    return slug or "datensatz"


def _free_slug(session: Session, org: Organization, remote: RemoteDataset) -> str:
    base = _slug_base(f"{org.slug}-{remote.title}")
    slug, n = base, 1
    while session.scalar(select(Dataset.id).where(Dataset.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    if not SLUG_RE.fullmatch(slug):  # pragma: no cover - _slug_base keeps to the pattern
        raise InputError("Cannot derive a slug.", parameter="title")
    return slug


def store(
    session: Session,
    principal: Principal,
    org_slug: str,
    source: str,
    remotes: Iterator[RemoteDataset],
) -> HarvestReport:
    """Bring ``remotes`` (the complete content of ``source``) into the organization."""
    ensure_admin(principal)
    org = session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        raise NotFound("No such organization.", organization=org_slug)
    report = HarvestReport(source=source, organization=org.slug)
    records = {
        r.remote_id: r
        for r in session.scalars(select(HarvestRecord).where(HarvestRecord.source == source))
    }
    # Read the whole source first: a source that breaks half-way changes nothing.
    collected: dict[str, RemoteDataset] = {}
    for remote in remotes:
        collected.setdefault(remote.remote_id, remote)
    now = utcnow()
    for remote_id, remote in collected.items():
        values, dropped = _lenient(remote)
        report.dropped_fields += dropped
        record = records.get(remote_id)
        if record is not None and record.organization_id != org.id:
            raise InputError(
                "This source is harvested into another organization.",
                parameter="org",
                source=source,
            )
        links = {
            "remote_distributions": remote.distributions,
            "harvest": {
                "source": source,
                "remote_id": remote_id,
                "remote_modified": remote.modified,
            },
        }
        if record is None:
            slug = _free_slug(session, org, remote)
            dataset = Dataset(
                slug=slug,
                title=values["title"],
                description=values["description"],
                organization_id=org.id,
                access_level=AccessLevel.PUBLIC,
                status=DatasetStatus.DRAFT,
                extra=links,
            )
            session.add(dataset)
            session.flush()
            session.add(
                HarvestRecord(
                    source=source,
                    remote_id=remote_id,
                    dataset_id=dataset.id,
                    organization_id=org.id,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
            apply_metadata(
                session,
                dataset,
                values,
                actor=principal.name,
                replace=True,
                require_mandatory=False,
            )
            report.created.append(dataset.slug)
            continue
        dataset = session.get_one(Dataset, record.dataset_id)
        record.last_seen_at = now
        before = (dataset.title, dataset.description, dict(dataset.extra), dataset.status)
        if dataset.status is DatasetStatus.WITHDRAWN:
            dataset.status = DatasetStatus.DRAFT
        extra = {**dataset.extra, **links}
        if extra != dataset.extra:
            dataset.extra = extra
        apply_metadata(
            session, dataset, values, actor=principal.name, replace=True, require_mandatory=False
        )
        after = (dataset.title, dataset.description, dict(dataset.extra), dataset.status)
        (report.updated if after != before else report.unchanged).append(dataset.slug)
    for remote_id, record in records.items():
        if remote_id in collected:
            continue
        dataset = session.get_one(Dataset, record.dataset_id)
        if dataset.status is not DatasetStatus.WITHDRAWN:
            dataset.status = DatasetStatus.WITHDRAWN
            report.withdrawn.append(dataset.slug)
    session.flush()
    audit.record(
        session,
        actor=principal.name,
        action="catalog.harvest",
        object_type="organization",
        object_id=org.slug,
        details={
            "source": source[:500],
            "created": len(report.created),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "withdrawn": len(report.withdrawn),
        },
    )
    return report


def _source_key(source: str) -> str:
    if "://" in source:
        return source.strip()
    return Path(source).resolve().as_uri()


def harvest_dcat(
    session: Session, principal: Principal, source: str, org: str, *, fetch: Fetch = fetch_url
) -> HarvestReport:
    """Harvest a DCAT catalog (file or URL) into organization ``org``."""
    ensure_admin(principal)

    def remotes() -> Iterator[RemoteDataset]:
        for graph in dcat_pages(source, fetch):
            yield from dcat_datasets(graph)

    return store(session, principal, org, _source_key(source), remotes())


def harvest_ckan(
    session: Session,
    principal: Principal,
    url: str,
    org: str,
    *,
    fetch: Fetch = fetch_url,
    rows: int = CKAN_ROWS,
) -> HarvestReport:
    """Harvest a CKAN portal (its base URL) into organization ``org``."""
    ensure_admin(principal)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError("A CKAN portal is harvested from an http(s) URL.", parameter="url")

    def remotes() -> Iterator[RemoteDataset]:
        for package in ckan_packages(url, fetch, rows):
            remote = ckan_dataset(package)
            if remote is not None:
                yield remote

    return store(session, principal, org, "ckan:" + url.rstrip("/"), remotes())
