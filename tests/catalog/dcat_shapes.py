"""Offline SHACL validation against the official DCAT-AP.de shapes in ../shared/dcat-ap-de.

As ../shared/dcat-ap-de/example/validate_example.py does it: the shapes of a profile are loaded
from local files, the vocabularies the shapes would owl:import are merged into a copy of the
data graph (only their skos:inScheme and rdfs:subClassOf triples), and nothing is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rdflib
from pyshacl import validate

from tests.conftest import shared_file

PROFILES = {
    "v3.0": (
        "shapes/dcat-ap-3.0.0/dcat-ap-SHACL.ttl",
        "shapes/v3.0/dcat-ap-SHACL-DE.ttl",
        "shapes/v3.0/dcat-ap-de-deprecated.ttl",
        "shapes/v3.0/dcat-ap-spec-german-additions.ttl",
        "shapes/v3.0/dcat-ap-de-controlledvocabularies.ttl",
    ),
    "v2.0": (
        "shapes/dcat-ap-2.1.1/dcat-ap_2.1.1_shacl_shapes.ttl",
        "shapes/v2.0/dcat-ap-spec-german-messages.ttl",
        "shapes/v2.0/dcat-ap-spec-german-additions.ttl",
        "shapes/v2.0/dcat-ap-de-deprecated.ttl",
        "shapes/v2.0/dcat-ap-konventionen.ttl",
    ),
}
VOCABULARIES = (
    "ontologies/foaf_0_1.rdf",
    "ontologies/vcard.ttl",
    "ontologies/org.ttl",
    "vocabularies/eu/language-trimmed.ttl",
    "vocabularies/eu/planned-availability.ttl",
    "vocabularies/eu/frequency.rdf",
    "vocabularies/eu/dataset-type.ttl",
    "vocabularies/eu/data-theme-skos.rdf",
    "vocabularies/eu/access-right-skos.rdf",
    "vocabularies/eu/file-type.rdf",
    "vocabularies/eu/distribution-status-skos.rdf",
    "vocabularies/dcat-ap-de/contributors-20251021.rdf",
    "vocabularies/dcat-ap-de/licenses-20200715.rdf",
    "vocabularies/dcat-ap-de/politicalGeocoding-Level.ttl",
    "vocabularies/adms/ADMS_SKOS_v1.00.rdf",
    "vocabularies/dcat-ap-de/politicalGeocoding-STUB-handwritten.ttl",
)
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
KEEP = {rdflib.SKOS.inScheme, rdflib.RDFS.subClassOf}
CHECKSUM_ALGORITHM = rdflib.URIRef("http://spdx.org/rdf/terms#ChecksumAlgorithm")


@dataclass(frozen=True)
class Result:
    severity: str  # Violation, Warning, Info
    focus: str
    path: str
    value: str
    message: str


def _load(relative: str, graph: rdflib.Graph) -> None:
    path: Path = shared_file(f"dcat-ap-de/{relative}")
    graph.parse(path, format="xml" if relative.endswith(".rdf") else "turtle")


@cache
def shapes(profile: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for relative in PROFILES[profile]:
        _load(relative, graph)
    return graph


@cache
def vocabularies() -> rdflib.Graph:
    full = rdflib.Graph()
    for relative in VOCABULARIES:
        _load(relative, full)
    lean = rdflib.Graph()
    for s, p, o in full:
        if p in KEEP or (p == rdflib.RDF.type and o == CHECKSUM_ALGORITHM):
            lean.add((s, p, o))
    return lean


def check(data: rdflib.Graph, profile: str = "v3.0") -> list[Result]:
    """Every validation result (violations, warnings, infos) of ``data`` under ``profile``."""
    _conforms, report, _text = validate(
        data + vocabularies(),
        shacl_graph=shapes(profile),
        ont_graph=None,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        meta_shacl=False,
        advanced=False,
        do_owl_imports=False,
    )
    results = []
    for node in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = str(report.value(node, SH.resultSeverity)).rsplit("#", 1)[-1]
        path = report.value(node, SH.resultPath)
        value = report.value(node, SH.value)
        messages = [str(m) for m in report.objects(node, SH.resultMessage)]
        results.append(
            Result(
                severity,
                str(report.value(node, SH.focusNode)),
                str(path) if path is not None else "-",
                str(value) if value is not None else "-",
                messages[0] if messages else "",
            )
        )
    return results


def violations(data: rdflib.Graph, profile: str = "v3.0") -> list[Result]:
    return [r for r in check(data, profile) if r.severity == "Violation"]
