"""The catalog as DCAT-AP.de 3.0: RDF graphs of datasets, their distributions and services.

What a harvester such as GovData reads: one ``dcat:Catalog`` with the datasets the caller may
see, paged with Hydra (``hydra:PartialCollectionView``, 100 per page), each dataset with a
``dcat:Distribution`` for every download format the rows API offers and the APIs that serve it
(native REST, OGC API Features for geodata) as ``dcat:DataService``. Everything is built from
:func:`datenschatz.catalog.metadata.read_metadata`; access is asked of the policy first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, XSD
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from datenschatz.access.policy import Principal, ensure_dataset, visible_datasets
from datenschatz.catalog import vocab
from datenschatz.catalog.metadata import DatasetMetadata, attribution_text, read_metadata
from datenschatz.catalog.organizations import profiles_of
from datenschatz.db.catalog_models import OrganizationProfile
from datenschatz.db.models import AccessLevel, Dataset, Organization, OrganizationType, Version
from datenschatz.errors import InputError
from datenschatz.store.query.exports import XLSX_MAX_ROWS, Format

DCATDE: Final = Namespace("http://dcat-ap.de/def/dcatde/")
DCATAP: Final = Namespace("http://data.europa.eu/r5r/")
ADMS: Final = Namespace("http://www.w3.org/ns/adms#")
VCARD: Final = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA: Final = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX: Final = Namespace("http://spdx.org/rdf/terms#")
GSP: Final = Namespace("http://www.opengis.net/ont/geosparql#")

EU: Final = "http://publications.europa.eu/resource/authority/"
LANGUAGE_DE: Final = URIRef(EU + "language/DEU")
DATA_THEMES: Final = URIRef(EU + "data-theme")
STABLE: Final = URIRef(EU + "planned-availability/STABLE")
GEOCODING_MUNICIPALITY: Final = URIRef(
    "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
)
IANA: Final = "https://www.iana.org/assignments/media-types/"

PAGE_SIZE: Final = 100

ACCESS_RIGHTS: Final = {
    AccessLevel.PUBLIC: URIRef(EU + "access-right/PUBLIC"),
    AccessLevel.PARTNER: URIRef(EU + "access-right/RESTRICTED"),
    AccessLevel.INTERNAL: URIRef(EU + "access-right/NON_PUBLIC"),
}
PUBLISHER_TYPES: Final = {
    OrganizationType.CITY: URIRef("http://purl.org/adms/publishertype/LocalAuthority"),
    OrganizationType.UTILITY: URIRef("http://purl.org/adms/publishertype/Company"),
}


@dataclass(frozen=True)
class Download:
    """How one download format of the rows API appears in DCAT."""

    format: Format
    file_type: str  # EU file-type code
    media_type: str | None  # IANA media type, None where none is registered
    label: str


DOWNLOADS: Final = (
    Download(Format.CSV, "CSV", "text/csv", "CSV"),
    Download(Format.JSON, "JSON", "application/json", "JSON"),
    Download(Format.NDJSON, "JSON", None, "NDJSON (JSON-Zeilen)"),
    Download(Format.GEOJSON, "GEOJSON", "application/geo+json", "GeoJSON"),
    Download(Format.PARQUET, "PARQUET", "application/vnd.apache.parquet", "Parquet"),
    Download(
        Format.XLSX,
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel (XLSX)",
    ),
)

# Serializations: file suffix -> (rdflib format, media type).
SERIALIZATIONS: Final = {
    "ttl": ("turtle", "text/turtle"),
    "rdf": ("xml", "application/rdf+xml"),
    "jsonld": ("json-ld", "application/ld+json"),
}


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("dcatde", DCATDE),
        ("dcatap", DCATAP),
        ("adms", ADMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("hydra", HYDRA),
        ("spdx", SPDX),
        ("locn", Namespace("http://www.w3.org/ns/locn#")),
        ("gsp", GSP),
        ("prov", PROV),
    ):
        graph.bind(prefix, namespace, override=True)
    return graph


def serialize(graph: Graph, suffix: str) -> bytes:
    """The graph as Turtle (``ttl``), RDF/XML (``rdf``) or JSON-LD (``jsonld``)."""
    if suffix not in SERIALIZATIONS:
        raise InputError(
            "Unknown catalog format; use ttl, rdf or jsonld.", parameter="format", value=suffix
        )
    data = graph.serialize(format=SERIALIZATIONS[suffix][0], encoding="utf-8")
    return data


class Links:
    """The IRIs of catalog things under the hub's public base URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def catalog(self) -> URIRef:
        return URIRef(f"{self.base}/catalog")

    def catalog_page(self, page: int, modified_since: datetime | None, suffix: str) -> URIRef:
        query = f"?page={page}"
        if modified_since is not None:
            query += "&modified_since=" + modified_since.isoformat().replace("+00:00", "Z")
        return URIRef(f"{self.base}/catalog.{suffix}{query}")

    def dataset(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/datasets/{slug}")

    def distribution(self, slug: str, key: str) -> URIRef:
        return URIRef(f"{self.base}/datasets/{slug}#distribution-{key}")

    def download(self, slug: str, fmt: Format) -> URIRef:
        return URIRef(f"{self.base}/api/v1/datasets/{slug}/download.{fmt.value}")

    def rest(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/api/v1/datasets/{slug}")

    def rest_service(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/api/v1/datasets/{slug}#service")

    def ckan(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/api/3/action/package_show?id={slug}")

    def ckan_service(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/api/3/action/package_show?id={slug}#service")

    def ogc(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/ogc/collections/{slug}")

    def ogc_service(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/ogc/collections/{slug}#service")

    def openapi(self) -> URIRef:
        return URIRef(f"{self.base}/openapi.json")

    def ogc_api(self) -> URIRef:
        return URIRef(f"{self.base}/ogc/api")

    def organization(self, slug: str) -> URIRef:
        return URIRef(f"{self.base}/organizations/{slug}")

    def home(self) -> URIRef:
        return URIRef(f"{self.base}/")


def _mailto(email: str) -> URIRef:
    """A mailto IRI; characters an address may hold but an IRI may not are percent-encoded."""
    return URIRef("mailto:" + quote(email, safe="@!$'()*+,;:.-_~"))


def _when(value: datetime | date) -> Literal:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return Literal(aware.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


def _text(
    graph: Graph, node: URIRef | BNode, predicate: URIRef, value: str | None, lang: str
) -> None:
    if value:
        graph.add((node, predicate, Literal(value, lang=lang)))


class CatalogBuilder:
    """Adds datasets and their publishers to one graph (each publisher once)."""

    def __init__(self, session: Session, links: Links, principal: Principal) -> None:
        self.session = session
        self.links = links
        self.principal = principal
        self.graph = bind_prefixes(Graph())
        self._publishers: set[int] = set()
        self._profiles: dict[int, OrganizationProfile] = {}

    def publisher(self, organization: Organization) -> URIRef:
        node = self.links.organization(organization.slug)
        if organization.id in self._publishers:
            return node
        self._publishers.add(organization.id)
        g = self.graph
        g.add((node, RDF.type, FOAF.Organization))
        g.add((node, FOAF.name, Literal(organization.name, lang="de")))
        kind = PUBLISHER_TYPES.get(organization.type)
        if kind is not None:
            g.add((node, DCTERMS.type, kind))
        profile = self.profile(organization)
        if profile is not None and profile.homepage:
            g.add((node, FOAF.homepage, URIRef(profile.homepage)))
        if profile is not None and profile.email:
            g.add((node, FOAF.mbox, _mailto(profile.email)))
        return node

    def profile(self, organization: Organization) -> OrganizationProfile | None:
        if organization.id not in self._profiles:
            found = profiles_of(self.session, [organization.id])
            self._profiles.update(found)
        return self._profiles.get(organization.id)

    def dataset(self, dataset: Dataset) -> URIRef:
        meta = read_metadata(dataset)
        g = self.graph
        links = self.links
        node = links.dataset(dataset.slug)
        publisher = self.publisher(dataset.organization)
        profile = self.profile(dataset.organization)
        g.add((node, RDF.type, DCAT.Dataset))
        g.add((node, DCTERMS.title, Literal(meta.title or dataset.slug, lang="de")))
        description = meta.description or meta.title or dataset.slug
        g.add((node, DCTERMS.description, Literal(description, lang="de")))
        _text(g, node, DCTERMS.title, meta.title_en, "en")
        _text(g, node, DCTERMS.description, meta.description_en, "en")
        g.add((node, DCTERMS.identifier, Literal(str(node))))
        g.add((node, DCTERMS.publisher, publisher))
        g.add((node, DCTERMS.language, LANGUAGE_DE))
        g.add((node, DCTERMS.accessRights, ACCESS_RIGHTS[dataset.access_level]))
        for keyword in meta.keywords:
            g.add((node, DCAT.keyword, Literal(keyword, lang="de")))
        for theme in meta.themes:
            g.add((node, DCAT.theme, URIRef(vocab.THEME_BASE + theme)))
        contributor = meta.contributor_id or (
            vocab.CONTRIBUTOR_BASE + profile.contributor_id
            if profile is not None and profile.contributor_id
            else None
        )
        if contributor:
            g.add((node, DCATDE.contributorID, URIRef(contributor)))
        self._contact(node, meta, profile)
        self._coverage(node, meta, profile)
        if meta.accrual_periodicity:
            g.add(
                (
                    node,
                    DCTERMS.accrualPeriodicity,
                    URIRef(vocab.FREQUENCY_BASE + meta.accrual_periodicity),
                )
            )
        g.add((node, DCTERMS.issued, _when(meta.issued or dataset.created_at)))
        g.add((node, DCTERMS.modified, _when(dataset.modified_at)))
        g.add((node, DCAT.landingPage, URIRef(meta.landing_page or str(node))))
        if meta.conforms_to:
            g.add((node, DCTERMS.conformsTo, URIRef(meta.conforms_to)))
        if meta.provenance:
            statement = BNode()
            g.add((node, DCTERMS.provenance, statement))
            g.add((statement, RDF.type, DCTERMS.ProvenanceStatement))
            g.add((statement, RDFS.label, Literal(meta.provenance, lang="de")))
        self._lineage(node, dataset)
        self._distributions(node, dataset, meta, publisher)
        return node

    def _lineage(self, node: URIRef, dataset: Dataset) -> None:
        """``prov:wasDerivedFrom`` the inputs of a recipe's version (those the caller sees).

        DCAT-AP's ``dcterms:source`` would require each input described as a dcat:Dataset in
        the same graph; the PROV property links to their IRIs alone.
        """
        from datenschatz.analysis.lineage import derived_from

        version = dataset.published_version
        if version is None:
            return
        for item in derived_from(self.session, self.principal, version):
            self.graph.add((node, PROV.wasDerivedFrom, self.links.dataset(item["dataset"])))

    def _contact(
        self, node: URIRef, meta: DatasetMetadata, profile: OrganizationProfile | None
    ) -> None:
        g = self.graph
        name, email, url = None, None, None
        if meta.contact is not None:
            name, email, url = meta.contact.name, meta.contact.email, meta.contact.url
        elif profile is not None and (profile.email or profile.homepage):
            name, email, url = None, profile.email, profile.homepage
        if not (email or url):
            return
        contact = BNode()
        g.add((node, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, VCARD.fn, Literal(name or "Datenschutz- und Open-Data-Team")))
        if email:
            g.add((contact, VCARD.hasEmail, _mailto(email)))
        if url:
            g.add((contact, VCARD.hasURL, URIRef(url)))

    def _coverage(
        self, node: URIRef, meta: DatasetMetadata, profile: OrganizationProfile | None
    ) -> None:
        g = self.graph
        keys = meta.geocoding or (
            [profile.municipality_key] if profile is not None and profile.municipality_key else []
        )
        for key in keys:
            place = URIRef(vocab.MUNICIPALITY_BASE + key)
            g.add((node, DCTERMS.spatial, place))
            g.add((place, RDF.type, DCTERMS.Location))
        if keys:
            g.add((node, DCATDE.politicalGeocodingLevelURI, GEOCODING_MUNICIPALITY))
        bbox = meta.spatial_bbox
        if bbox and len(bbox) == 4 and all(math.isfinite(v) for v in bbox):
            box = BNode()
            g.add((node, DCTERMS.spatial, box))
            g.add((box, RDF.type, DCTERMS.Location))
            g.add((box, DCAT.bbox, Literal(_wkt_box(bbox), datatype=GSP.wktLiteral)))
        if meta.temporal_start or meta.temporal_end:
            period = BNode()
            g.add((node, DCTERMS.temporal, period))
            g.add((period, RDF.type, DCTERMS.PeriodOfTime))
            if meta.temporal_start:
                g.add((period, DCAT.startDate, _when(meta.temporal_start)))
            if meta.temporal_end:
                g.add((period, DCAT.endDate, _when(meta.temporal_end)))

    def _distributions(
        self, node: URIRef, dataset: Dataset, meta: DatasetMetadata, publisher: URIRef
    ) -> None:
        g = self.graph
        links = self.links
        version = dataset.published_version
        licence = URIRef(vocab.LICENCE_BASE + meta.licence)
        attribution = attribution_text(dataset, url=str(node))
        title = meta.title or dataset.slug

        def common(dist: URIRef, label: str, modified: datetime | None) -> None:
            g.add((node, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(f"{title} ({label})", lang="de")))
            g.add((dist, DCTERMS.license, licence))
            g.add((dist, DCATDE.licenseAttributionByText, Literal(attribution, lang="de")))
            g.add((dist, DCATAP.availability, STABLE))
            if modified is not None:
                g.add((dist, DCTERMS.modified, _when(modified)))

        if version is not None:
            modified = version.published_at or version.created_at
            for download in _downloads_of(version):
                dist = links.distribution(dataset.slug, download.format.value)
                url = links.download(dataset.slug, download.format)
                common(dist, download.label, modified)
                g.add((dist, DCAT.accessURL, url))
                g.add((dist, DCAT.downloadURL, url))
                g.add((dist, DCTERMS.format, URIRef(vocab.FILE_TYPE_BASE + download.file_type)))
                if download.media_type:
                    g.add((dist, DCAT.mediaType, URIRef(IANA + download.media_type)))
                if download.format is Format.PARQUET:
                    self._checksum(dist, version)
            for service, endpoint, description, label in self._services(dataset, node, publisher):
                dist = links.distribution(dataset.slug, label.lower().split()[0])
                common(dist, label, modified)
                g.add((dist, DCAT.accessURL, endpoint))
                g.add((dist, DCAT.accessService, service))
                del description
        for index, remote in enumerate(dataset.extra.get("remote_distributions") or []):
            remote_url = remote.get("url") if isinstance(remote, dict) else None
            if not isinstance(remote_url, str) or not remote_url.startswith(
                ("http://", "https://")
            ):
                continue
            dist = links.distribution(dataset.slug, f"remote-{index + 1}")
            common(dist, str(remote.get("title") or remote.get("format") or "extern"), None)
            g.add((dist, DCAT.accessURL, URIRef(remote_url)))
            file_type = str(remote.get("format") or "").upper()
            if file_type in {d.file_type for d in DOWNLOADS}:
                g.add((dist, DCTERMS.format, URIRef(vocab.FILE_TYPE_BASE + file_type)))

    def _checksum(self, dist: URIRef, version: Version) -> None:
        g = self.graph
        g.add((dist, DCAT.byteSize, Literal(version.byte_size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
        g.add((checksum, SPDX.checksumValue, Literal(version.sha256, datatype=XSD.hexBinary)))

    def _services(
        self, dataset: Dataset, node: URIRef, publisher: URIRef
    ) -> list[tuple[URIRef, URIRef, URIRef, str]]:
        """The APIs serving the dataset, each added as a dcat:DataService."""
        links = self.links
        version = dataset.published_version
        services = [
            (
                links.rest_service(dataset.slug),
                links.rest(dataset.slug),
                links.openapi(),
                "REST-API",
                "Datenschatz-REST-API: Zeilen filtern, sortieren, aggregieren und herunterladen",
            )
        ]
        services.append(
            (
                links.ckan_service(dataset.slug),
                links.ckan(dataset.slug),
                links.openapi(),
                "CKAN-API",
                "CKAN Action API (package_show, datastore_search)",
            )
        )
        if version is not None and version.geometry_column:
            services.append(
                (
                    links.ogc_service(dataset.slug),
                    links.ogc(dataset.slug),
                    links.ogc_api(),
                    "OGC API Features",
                    "OGC API - Features (Teil 1 und 2): Features nach Ort, Zeit und Eigenschaften",
                )
            )
        g = self.graph
        licence = URIRef(vocab.LICENCE_BASE + read_metadata(dataset).licence)
        for service, endpoint, description, _label, title in services:
            g.add((service, RDF.type, DCAT.DataService))
            g.add((service, DCTERMS.title, Literal(f"{title}: {dataset.title}", lang="de")))
            g.add((service, DCAT.endpointURL, endpoint))
            g.add((service, DCAT.endpointDescription, description))
            g.add((service, DCAT.servesDataset, node))
            g.add((service, DCTERMS.publisher, publisher))
            g.add((service, DCTERMS.accessRights, ACCESS_RIGHTS[dataset.access_level]))
            g.add((service, DCTERMS.license, licence))
        return [(s, e, d, label) for s, e, d, label, _ in services]


def _downloads_of(version: Version) -> list[Download]:
    result = []
    for download in DOWNLOADS:
        if download.format is Format.GEOJSON and not version.geometry_column:
            continue
        if download.format is Format.XLSX and version.row_count > XLSX_MAX_ROWS:
            continue
        result.append(download)
    return result


def _wkt_box(bbox: list[float]) -> str:
    west, south, east, north = bbox
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return "POLYGON((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in ring) + "))"


# -- the catalog and its pages ------------------------------------------------------------


@dataclass(frozen=True)
class CatalogPage:
    graph: Graph
    total: int
    page: int
    last_page: int


def _catalog_publisher(session: Session) -> Organization | None:
    first_city = session.scalar(
        select(Organization)
        .where(Organization.type == OrganizationType.CITY)
        .order_by(Organization.id)
        .limit(1)
    )
    return first_city or session.scalar(select(Organization).order_by(Organization.id).limit(1))


def catalog_page(
    session: Session,
    principal: Principal,
    base_url: str,
    *,
    page: int = 1,
    modified_since: datetime | None = None,
    suffix: str = "ttl",
    title: str = "Datenschatz: offene Daten der Stadt und der Stadtwerke",
) -> CatalogPage:
    """One page (``PAGE_SIZE`` datasets, by slug) of the catalog ``principal`` may see."""
    if page < 1:
        raise InputError("page starts at 1.", parameter="page", value=page)
    where = [visible_datasets(principal)]
    if modified_since is not None:
        since = modified_since if modified_since.tzinfo else modified_since.replace(tzinfo=UTC)
        where.append(Dataset.modified_at >= since.astimezone(UTC))
    total = session.scalar(select(func.count()).select_from(Dataset).where(*where)) or 0
    last_page = max(1, math.ceil(total / PAGE_SIZE))
    datasets = session.scalars(
        select(Dataset)
        .options(joinedload(Dataset.organization), joinedload(Dataset.published_version))
        .where(*where)
        .order_by(Dataset.slug)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    links = Links(base_url)
    builder = CatalogBuilder(session, links, principal)
    g = builder.graph
    catalog = links.catalog()
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal(title, lang="de")))
    g.add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                "Datensätze der Stadt und der Stadtwerke: versioniert, geprüft, ohne "
                "personenbezogene Daten; Downloads und APIs je Datensatz.",
                lang="de",
            ),
        )
    )
    g.add((catalog, DCTERMS.language, LANGUAGE_DE))
    g.add((catalog, FOAF.homepage, links.home()))
    g.add((catalog, DCAT.themeTaxonomy, DATA_THEMES))
    latest = session.scalar(
        select(func.max(Dataset.modified_at)).where(visible_datasets(principal))
    )
    g.add((catalog, DCTERMS.modified, _when(latest or datetime.now(UTC))))
    publisher = _catalog_publisher(session)
    if publisher is not None:
        g.add((catalog, DCTERMS.publisher, builder.publisher(publisher)))
    else:
        hub_node = URIRef(links.base + "/")
        g.add((hub_node, RDF.type, FOAF.Organization))
        g.add((hub_node, FOAF.name, Literal("Datenschatz", lang="de")))
        g.add((catalog, DCTERMS.publisher, hub_node))
    for dataset in datasets:
        node = builder.dataset(dataset)
        g.add((catalog, DCAT.dataset, node))
        for service in g.subjects(DCAT.servesDataset, node):
            g.add((catalog, DCAT.service, service))
    view = links.catalog_page(page, modified_since, suffix)
    g.add((catalog, HYDRA.totalItems, Literal(total, datatype=XSD.nonNegativeInteger)))
    g.add((catalog, HYDRA.view, view))
    g.add((view, RDF.type, HYDRA.PartialCollectionView))
    g.add((view, HYDRA.first, links.catalog_page(1, modified_since, suffix)))
    g.add((view, HYDRA.last, links.catalog_page(last_page, modified_since, suffix)))
    if page > 1:
        g.add((view, HYDRA.previous, links.catalog_page(page - 1, modified_since, suffix)))
    if page < last_page:
        g.add((view, HYDRA.next, links.catalog_page(page + 1, modified_since, suffix)))
    return CatalogPage(g, total, page, last_page)


def dataset_graph(session: Session, principal: Principal, slug: str, base_url: str) -> Graph:
    """One dataset with its publisher, distributions and services (NotFound when hidden)."""
    dataset = ensure_dataset(session, principal, slug)
    builder = CatalogBuilder(session, Links(base_url), principal)
    builder.dataset(dataset)
    return builder.graph
