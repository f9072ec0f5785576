"""Catalog search: German full text, facets, sorting and paging, alike on SQLite and PostgreSQL.

Every test runs on both back ends (the ``hub`` fixture) against the same small corpus and
asserts the exact result list, so the back ends are shown to agree on sets and order.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from datenschatz.access.policy import ANONYMOUS
from datenschatz.catalog import usage
from datenschatz.catalog.search import SearchQuery, SearchResult, Sort, parse_search, search
from datenschatz.db.models import Dataset, DatasetStatus, Organization, OrganizationType
from datenschatz.errors import InputError
from datenschatz.hub import Hub
from datenschatz.services import data
from datenschatz.services.publish import publish
from tests.helpers import add_version

POINT = "ST_SetCRS(ST_Point(7.2, 51.5), 'EPSG:4326')"

CORPUS: list[dict[str, Any]] = [
    {
        "slug": "ueberschwemmung",
        "org": "stadt",
        "sql": f"SELECT 1 AS id, 'Emscher' AS gewaesser, {POINT} AS geometry",
        "title": "Überschwemmungsgebiete",
        "description": "Flächen, die bei einem hundertjährlichen Ereignis überflutet werden.",
        "extra": {"keywords": ["Hochwasser"], "themes": ["ENVI"], "title_en": "Flood areas"},
    },
    {
        "slug": "baumkataster",
        "org": "stadt",
        "sql": "SELECT 1 AS id, 'Eiche' AS baumart, DATE '1990-04-01' AS pflanzjahr",
        "title": "Baumkataster",
        "description": "Alle Bäume im Stadtgebiet mit Art und Pflanzdatum.",
        "extra": {
            "keywords": ["Stadtgrün"],
            "themes": ["ENVI", "AGRI"],
            "licence": "cc-by/4.0",
        },
    },
    {
        "slug": "luftqualitaet",
        "org": "stadtwerke",
        "sql": "SELECT TIMESTAMP '2024-01-01 10:00' AS zeit, 21.5 AS pm10_wert",
        "title": "Luftqualität an Messstationen",
        "description": "Stündliche Messwerte von Feinstaub.",
        "extra": {"keywords": ["Feinstaub", "Luft"], "themes": ["ENVI"]},
    },
    {
        "slug": "haushalt",
        "org": "stadt",
        "sql": "SELECT 2024 AS jahr, 1.5 AS ertrag",
        "title": "Haushaltsplan",
        "description": "Erträge und Aufwendungen, auch für den Hochwasserschutz.",
        "extra": {"themes": ["GOVE"]},
    },
]
# A draft nobody outside may see: it must never show up, not even in a facet count.
HIDDEN = {
    "slug": "baumgeheimnis",
    "org": "stadt",
    "sql": f"SELECT 1 AS id, {POINT} AS geometry",
    "title": "Geheime Bäume",
    "description": "Hochwasser Feinstaub Baum",
    "extra": {"keywords": ["Hochwasser", "Stadtgrün"], "themes": ["ENVI", "TECH"]},
}


def build_corpus(hub: Hub) -> None:
    """Publish the corpus (and add the hidden draft) on ``hub``."""
    # Reads buffered by earlier tests must not count here (PostgreSQL tests share a database).
    usage.flush()
    with hub.session() as session:
        for org, name in (("stadt", "Stadt Herne"), ("stadtwerke", "Stadtwerke Herne")):
            session.add(Organization(slug=org, name=name, type=OrganizationType.CITY))
    for entry in [*CORPUS, HIDDEN]:
        add_version(hub, entry["slug"], entry["sql"], org=entry["org"])
        if entry is not HIDDEN:
            publish(hub, entry["slug"], actor="test")
        with hub.session() as session:
            dataset = session.scalars(select(Dataset).where(Dataset.slug == entry["slug"])).one()
            dataset.title = entry["title"]
            dataset.description = entry["description"]
            dataset.extra = {**dataset.extra, **entry["extra"]}


@pytest.fixture
def corpus(hub: Hub) -> Hub:
    build_corpus(hub)
    return hub


def run(hub: Hub, **params: Any) -> SearchResult:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    with hub.session() as session:
        return search(session, ANONYMOUS, parse_search(pairs))


def slugs(result: SearchResult) -> list[str]:
    return [hit.dataset.slug for hit in result.hits]


def counts(result: SearchResult, facet: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[facet]}


def test_umlauts_match_their_transcription_both_ways(corpus: Hub) -> None:
    for q in ("Überschwemmung", "ueberschwemmung", "UEBERSCHWEMMUNGSGEBIETE", "uberschwemmung"):
        assert slugs(run(corpus, q=q)) == ["ueberschwemmung"], q


def test_plural_with_umlaut_finds_the_singular_stem(corpus: Hub) -> None:
    assert slugs(run(corpus, q="Bäume")) == ["baumkataster"]
    assert slugs(run(corpus, q="Baum")) == ["baumkataster"]
    assert slugs(run(corpus, q="luftqualitat")) == ["luftqualitaet"]


def test_searches_keywords_organization_columns_and_english_title(corpus: Hub) -> None:
    assert slugs(run(corpus, q="Stadtwerke")) == ["luftqualitaet"]
    assert slugs(run(corpus, q="pm10")) == ["luftqualitaet"]
    assert slugs(run(corpus, q="Pflanzjahr")) == ["baumkataster"]
    assert slugs(run(corpus, q="flood")) == ["ueberschwemmung"]
    assert slugs(run(corpus, q="Stadtgrün")) == ["baumkataster"]
    # theme labels are searchable in German: ENVI is "Umwelt"
    assert slugs(run(corpus, q="Umwelt", sort="title")) == [
        "baumkataster",
        "luftqualitaet",
        "ueberschwemmung",
    ]


def test_every_word_must_match(corpus: Hub) -> None:
    assert slugs(run(corpus, q="Feinstaub Messwerte")) == ["luftqualitaet"]
    assert slugs(run(corpus, q="Feinstaub Baum")) == []


def test_relevance_puts_keyword_matches_above_description_matches(corpus: Hub) -> None:
    result = run(corpus, q="Hochwasser")
    assert slugs(result) == ["ueberschwemmung", "haushalt"]
    scores = [hit.score for hit in result.hits]
    assert scores[0] is not None
    assert scores[1] is not None
    assert scores[0] > scores[1]


def test_hidden_datasets_are_never_found_or_counted(corpus: Hub) -> None:
    assert slugs(run(corpus, q="geheim")) == []
    everything = run(corpus)
    assert everything.total == 4
    assert "baumgeheimnis" not in slugs(everything)
    assert counts(everything, "theme") == {"ENVI": 3, "AGRI": 1, "GOVE": 1}
    assert "TECH" not in counts(everything, "theme")
    assert counts(everything, "tag").get("Hochwasser") == 1
    assert counts(everything, "has_geodata") == {"true": 1, "false": 3}


def test_facet_counts_cover_every_facet(corpus: Hub) -> None:
    result = run(corpus)
    assert counts(result, "organization") == {"stadt": 3, "stadtwerke": 1}
    labels = {v.value: v.label for v in result.facets["organization"]}
    assert labels["stadtwerke"] == "Stadtwerke Herne"
    assert counts(result, "licence") == {"dl-by-de/2.0": 3, "cc-by/4.0": 1}
    assert counts(result, "access_level") == {"public": 4}
    assert counts(result, "format")["GeoJSON"] == 1
    assert counts(result, "format")["CSV"] == 4
    assert counts(result, "has_time_series") == {"true": 2, "false": 2}
    assert [v.value for v in result.facets["theme"]] == ["ENVI", "AGRI", "GOVE"]


def test_facet_filters_combine_and_narrow_the_counts(corpus: Hub) -> None:
    result = run(corpus, has_time_series="true", sort="title")
    assert slugs(result) == ["baumkataster", "luftqualitaet"]
    assert counts(result, "organization") == {"stadt": 1, "stadtwerke": 1}
    assert slugs(run(corpus, theme=["ENVI", "AGRI"])) == ["baumkataster"]
    assert slugs(run(corpus, organization="stadtwerke", q="Feinstaub")) == ["luftqualitaet"]
    assert slugs(run(corpus, format="GeoJSON")) == ["ueberschwemmung"]
    assert slugs(run(corpus, licence="cc-by/4.0")) == ["baumkataster"]
    assert slugs(run(corpus, tag="Stadtgrün")) == ["baumkataster"]


def test_sorting_by_title_newest_and_most_used(corpus: Hub) -> None:
    assert slugs(run(corpus, sort="title")) == [
        "baumkataster",
        "haushalt",
        "luftqualitaet",
        "ueberschwemmung",
    ]
    with corpus.session() as session:
        session.scalars(
            select(Dataset).where(Dataset.slug == "haushalt")
        ).one().description = "Erträge und Aufwendungen."
    assert slugs(run(corpus, sort="newest"))[0] == "haushalt"
    for _ in range(3):
        data.rows(corpus, ANONYMOUS, "luftqualitaet", [])
    data.rows(corpus, ANONYMOUS, "baumkataster", [("_limit", "1")])
    most_used = slugs(run(corpus, sort="most_used"))
    assert most_used[:2] == ["luftqualitaet", "baumkataster"]


def test_paging_walks_every_hit_once(corpus: Hub) -> None:
    seen: list[str] = []
    for offset in range(0, 6, 2):
        page = run(corpus, sort="title", limit=2, offset=offset)
        assert page.total == 4
        seen.extend(slugs(page))
    assert seen == ["baumkataster", "haushalt", "luftqualitaet", "ueberschwemmung"]


def test_index_follows_changes_without_being_told(corpus: Hub) -> None:
    with corpus.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == "haushalt")).one()
        dataset.title = "Doppelhaushalt Kämmerei"
        organization = session.scalars(
            select(Organization).where(Organization.slug == "stadtwerke")
        ).one()
        organization.name = "Energieversorgung Herne"
    assert slugs(run(corpus, q="Kämmerei")) == ["haushalt"]
    assert slugs(run(corpus, q="Energieversorgung")) == ["luftqualitaet"]
    assert slugs(run(corpus, q="Stadtwerke")) == []
    with corpus.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == "haushalt")).one()
        dataset.status = DatasetStatus.WITHDRAWN
    assert slugs(run(corpus, q="Kämmerei")) == []


def test_rolled_back_changes_leave_the_index_alone(corpus: Hub) -> None:
    def change_then_fail() -> None:
        with corpus.session() as session:
            dataset = session.scalars(select(Dataset).where(Dataset.slug == "haushalt")).one()
            dataset.title = "Nie gespeichert"
            session.flush()
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert slugs(run(corpus, q="gespeichert")) == []
    assert slugs(run(corpus, q="Haushaltsplan")) == ["haushalt"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"sort": "beliebt"}, "sort"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "viele"}, "limit"),
        ({"facet": "farbe"}, "facet"),
        ({"farbe": "rot"}, "farbe"),
        ({"has_geodata": "vielleicht"}, "has_geodata"),
        ({"facet_limit": "-2"}, "facet_limit"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_search(list(params.items()))
    assert caught.value.details["parameter"] == parameter


def test_stop_words_alone_match_everything(corpus: Hub) -> None:
    assert run(corpus, q="der die das").total == 4
    assert SearchQuery().sort is Sort.RELEVANCE


def test_usage_counts_are_buffered_then_written(corpus: Hub) -> None:
    usage.flush()
    data.rows(corpus, ANONYMOUS, "haushalt", [])
    assert slugs(run(corpus, sort="most_used"))[0] == "haushalt"


def test_a_dataset_that_cannot_be_indexed_does_not_block_the_write(
    corpus: Hub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from datenschatz.catalog import search_index

    real_build = search_index.build

    def failing_build(dataset: Dataset, groups: Any) -> Any:
        if dataset.slug == "haushalt":
            raise ValueError("broken metadata")
        return real_build(dataset, groups)

    monkeypatch.setattr(search_index, "build", failing_build)
    with corpus.session() as session:
        session.scalars(select(Dataset).where(Dataset.slug == "haushalt")).one().title = "Neu"
    with corpus.session() as session:
        assert session.scalars(select(Dataset.title).where(Dataset.slug == "haushalt")).one() == (
            "Neu"
        )
    assert slugs(run(corpus, q="Neu")) == []
    assert "could not index dataset haushalt" in caplog.text


SAMPLE = """
Die Stadt Herne und ihre Stadtwerke veröffentlichen hier Daten über Luftqualität, Bäume,
Überschwemmungsgebiete, den Haushalt, Wasser, Abfall und Energie. Aber nicht alles, was
sie haben, darf man sehen: einige Daten sind nur für Partner, andere bleiben intern, und
jede Veröffentlichung wird vorher geprüft. Wir können dazu einmal mehr sagen als sonst.
"""


@pytest.mark.postgres
def test_postgres_german_configuration_keeps_every_term_it_is_fed(postgres_url: str) -> None:
    from sqlalchemy import text as sql

    from datenschatz.catalog.textnorm import index_text
    from datenschatz.db.session import engine_for

    terms = sorted(set(index_text(SAMPLE).split()))
    assert "uberschwemmungsgebiet" in terms
    with engine_for(postgres_url).connect() as conn:
        dropped = [
            term
            for term in terms
            if not conn.execute(sql("SELECT to_tsvector('german', :t) <> ''"), {"t": term}).scalar()
        ]
    assert dropped == []


def test_what_the_policy_lets_a_caller_see_is_found_and_counted(corpus: Hub) -> None:
    from datenschatz.access.policy import Principal, Role, Scope

    admin = Principal(
        name="admin", user_id=1, roles=frozenset({Role.ADMIN}), scopes=frozenset({Scope.READ})
    )
    with corpus.session() as session:
        found = search(session, admin, parse_search([("q", "geheim")]))
        everything = search(session, admin, parse_search([]))
    assert slugs(found) == ["baumgeheimnis"]
    assert everything.total == 5
    assert counts(everything, "theme")["ENVI"] == 4
    assert counts(everything, "access_level") == {"public": 4, "internal": 1}
