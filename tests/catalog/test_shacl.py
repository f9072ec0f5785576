"""The generated catalog against the official DCAT-AP.de SHACL shapes (offline, pyshacl).

DCAT-AP.de 3.0: zero Violations (and no other result) for the demo catalog and for randomized
metadata. DCAT-AP.de 2.0: only the documented 2.0/3.0 conflicts (docs/metadata.md).
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rdflib.namespace import DCAT, DCTERMS

from datenschatz.access.policy import ANONYMOUS
from datenschatz.catalog import dcat, vocab
from datenschatz.catalog.datasets import get_dataset
from datenschatz.catalog.metadata import apply_metadata
from datenschatz.db.migrate import upgrade
from datenschatz.hub import Hub
from tests.catalog.dcat_shapes import Result, check, violations
from tests.catalog.publishing import GEO_SQL, make_dataset
from tests.conftest import shared_file

BASE = "https://daten.herne.example"
SPDX_ALGORITHM = "http://spdx.org/rdf/terms#algorithm"
SKOS_IN_SCHEME = "http://www.w3.org/2004/02/skos/core#inScheme"
BYTE_SIZE = "http://www.w3.org/ns/dcat#byteSize"
CONTRIBUTOR_ID = "http://dcat-ap.de/def/dcatde/contributorID"
# The 2.0/3.0 conflicts, as documented in docs/metadata.md: (path, what the focus node is).
CONFLICTS_2_0 = {
    (BYTE_SIZE, "distribution"),  # 2.0: xsd:decimal; 3.0: xsd:nonNegativeInteger
    (SKOS_IN_SCHEME, "checksum"),  # 2.0: dcat-ap.de hashAlgorithms; 3.0: SPDX algorithms
}


def _kind(result: Result) -> str:
    if "#distribution-" in result.focus:
        return "distribution"
    if result.path == SKOS_IN_SCHEME and result.value.startswith("http://spdx.org/"):
        return "checksum"
    if result.path == SKOS_IN_SCHEME and "checksumAlgorithm" in result.focus:
        return "checksum"
    return result.focus


@pytest.fixture(scope="module")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[rdflib.Graph]:
    from datenschatz.demo.loader import DEMO_DATASETS, load_demo

    shared_file("dcat-ap-de/shapes")
    data = tmp_path_factory.mktemp("demo-catalog")
    hub = Hub.from_env(data_dir=data, database_url=f"sqlite:///{data / 'catalog.sqlite3'}")
    upgrade(hub.engine)
    load_demo(hub)
    with hub.session() as session:
        page = dcat.catalog_page(session, ANONYMOUS, BASE)
    listed = {str(d).rsplit("/", 1)[-1] for d in page.graph.subjects(rdflib.RDF.type, DCAT.Dataset)}
    assert {item.slug for item in DEMO_DATASETS} <= listed  # and derived ones (recipes)
    yield page.graph
    hub.engine.dispose()


def test_a_derived_dataset_names_its_inputs(demo_catalog: rdflib.Graph) -> None:
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    derived = rdflib.URIRef(f"{BASE}/datasets/pv-ausbaureserve-netzgebiete")
    inputs = {str(o).rsplit("/", 1)[-1] for o in demo_catalog.objects(derived, prov.wasDerivedFrom)}
    assert inputs == {
        "solarkataster-herne",
        "netzgebiete-ortsnetzstationen-herne",
        "erneuerbare-energien-leistung-2024",
    }


def test_the_demo_catalog_has_no_finding_under_dcat_ap_de_3(demo_catalog: rdflib.Graph) -> None:
    results = check(demo_catalog, "v3.0")
    assert results == []


def test_the_demo_catalog_under_dcat_ap_de_2_has_only_the_documented_conflicts(
    demo_catalog: rdflib.Graph,
) -> None:
    found = {(r.path, _kind(r)) for r in violations(demo_catalog, "v2.0")}
    assert found == CONFLICTS_2_0


def test_every_demo_dataset_is_complete(demo_catalog: rdflib.Graph) -> None:
    for dataset in demo_catalog.subjects(rdflib.RDF.type, DCAT.Dataset):
        for predicate in (
            DCAT.contactPoint,
            DCAT.theme,
            DCAT.keyword,
            dcat.DCATDE.contributorID,
            DCTERMS.accrualPeriodicity,
            DCTERMS.provenance,
        ):
            assert demo_catalog.value(dataset, predicate) is not None, (dataset, predicate)
        titles = {t.language for t in demo_catalog.objects(dataset, DCTERMS.title)}  # type: ignore[attr-defined]
        assert titles == {"de", "en"}


def test_the_shapes_do_find_violations(tmp_path: Path) -> None:
    broken = rdflib.Graph().parse(shared_file("dcat-ap-de/example/catalog_broken.ttl"))
    assert len(violations(broken, "v3.0")) >= 10


_text = st.text(
    alphabet=string.ascii_letters + string.digits + " äöüßÄÖÜ.,;:!?()-\u2013„“'\"<>&\n",
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() != "")
_url = st.builds(
    "https://{}.example/{}".format,
    st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=12),
    st.text(alphabet=string.ascii_lowercase + string.digits + "-_/", max_size=20),
)
_contact = st.one_of(
    st.fixed_dictionaries({"name": _text, "email": st.emails()}),
    st.fixed_dictionaries({"name": _text, "url": _url}),
    st.fixed_dictionaries({"name": _text, "email": st.emails(), "url": _url}),
)
metadata_strategy = st.fixed_dictionaries(
    {
        "title": _text,
        "description": _text,
        "licence": st.sampled_from(sorted(vocab.LICENCES)),
        "contact": _contact,
    },
    optional={
        "title_en": _text,
        "description_en": _text,
        "keywords": st.lists(_text, max_size=4),
        "themes": st.lists(st.sampled_from(sorted(vocab.THEMES)), max_size=3),
        "contributor_id": st.sampled_from(sorted(vocab.CONTRIBUTORS)),
        "geocoding": st.lists(st.sampled_from(["05916000", "05913000"]), max_size=2),
        "accrual_periodicity": st.sampled_from(sorted(vocab.FREQUENCIES)),
        "landing_page": _url,
        "conforms_to": _url,
        "provenance": _text,
        "issued": st.dates().map(lambda d: d.isoformat()),
    },
)


@pytest.fixture(scope="module")
def random_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    shared_file("dcat-ap-de/shapes")
    data = tmp_path_factory.mktemp("random-catalog")
    hub = Hub.from_env(data_dir=data, database_url=f"sqlite:///{data / 'catalog.sqlite3'}")
    upgrade(hub.engine)
    make_dataset(hub, "zufall", GEO_SQL)
    yield hub
    hub.engine.dispose()


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(meta=metadata_strategy)
def test_random_metadata_conforms(random_hub: Hub, meta: dict[str, Any]) -> None:
    with random_hub.session() as session:
        apply_metadata(session, get_dataset(session, "zufall"), meta, actor="test", replace=True)
    with random_hub.session() as session:
        graph = dcat.catalog_page(session, ANONYMOUS, BASE).graph
    assert violations(graph, "v3.0") == []
    allowed = set(CONFLICTS_2_0)
    if "contributor_id" not in meta:  # mandatory in 2.0 only (docs/metadata.md)
        allowed.add((CONTRIBUTOR_ID, f"{BASE}/datasets/zufall"))
    assert {(r.path, _kind(r)) for r in violations(graph, "v2.0")} <= allowed


def test_a_catalog_conforms_on_either_database(hub: Hub) -> None:
    shared_file("dcat-ap-de/shapes")
    make_dataset(
        hub,
        "stationen",
        GEO_SQL,
        meta={
            "description": "Messstationen.",
            "contact": {"name": "Team", "email": "team@herne.example"},
            "contributor_id": "openNRW",
            "issued": "2024-01-31",
        },
    )
    with hub.session() as session:
        graph = dcat.catalog_page(session, ANONYMOUS, BASE).graph
    assert violations(graph, "v3.0") == []
