"""Server-rendered pages: both languages, the access policy (404/410), escaping, search URLs."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from datenschatz.web.i18n import CATALOG_DIR, LANGUAGES, catalog
from tests.web.builders import HOSTILE, NUMBERED

PAGES = [
    "/web/",
    "/web/search",
    "/web/search?theme=ENVI",
    "/web/datasets/luftmessung",
    "/web/datasets/orte",
    "/web/organizations",
    "/web/organizations/stadt-herne",
    "/web/sensors",
    "/web/measures",
    "/web/challenges",
    "/web/measures/tempo-30-test",
    "/web/challenges/saubere-luft",
]


def _get(client: TestClient, url: str, **kwargs: object) -> str:
    client.cookies.clear()
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, (url, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_catalogs_have_the_same_keys() -> None:
    keys = [set(catalog(lang)) for lang in LANGUAGES]
    assert keys[0] == keys[1]
    parts = {p.name.split(".", 1)[1] for p in CATALOG_DIR.glob("*.*.json")}
    for part in parts:  # each part exists in every language, with the same keys
        files = [CATALOG_DIR / f"{lang}.{part}" for lang in LANGUAGES]
        loaded = [set(json.loads(f.read_text())) for f in files]
        assert loaded[0] == loaded[1], part


@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_german_by_default_and_english_on_request(
    client: TestClient, url: str
) -> None:
    german = _get(client, url)
    assert '<html lang="de">' in german
    assert "Zum Inhalt springen" in german
    assert "Datensätze" in german
    joiner = "&" if "?" in url else "?"
    english = _get(client, url + joiner + "lang=en")
    assert '<html lang="en">' in english
    assert "Skip to content" in english
    assert "Zum Inhalt springen" not in english


def test_language_from_accept_language_and_remembered_in_a_cookie(client: TestClient) -> None:
    assert '<html lang="en">' in _get(
        client, "/web/", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
    )
    client.cookies.clear()
    response = client.get("/web/?lang=en")
    assert response.cookies.get("lang") == "en"
    again = client.get("/web/search")
    assert '<html lang="en">' in again.text
    client.cookies.clear()


def test_home_shows_search_themes_newest_organizations_and_promise(client: TestClient) -> None:
    html = _get(client, "/web/")
    assert 'action="/web/search"' in html
    assert "/web/search?theme=ENVI" in html
    assert "Umwelt" in html
    newest, used = html.split('id="newest-h"')[1].split('id="used-h"')
    assert newest.count('<li class="hit">') == 5
    assert used.count('<li class="hit">') == 5
    assert "/web/organizations/stadt-herne" in html
    assert "Datenschutzversprechen" in html


def test_hidden_and_unknown_datasets_answer_404_withdrawn_410(client: TestClient) -> None:
    client.cookies.clear()
    for slug in ("entwurf", "intern", "gibt-es-nicht"):
        response = client.get(f"/web/datasets/{slug}")
        assert response.status_code == 404
        assert "Nicht gefunden" in response.text
        # the page's own text (the texts for scripts after it name error codes like "internal")
        assert slug not in response.text.split("<main", 1)[1].split("</main>", 1)[0]
    gone = client.get("/web/datasets/alt?lang=en")
    assert gone.status_code == 410
    assert "Withdrawn" in gone.text
    assert "Ersetzt durch luftmessung" in gone.text
    client.cookies.clear()


def test_hidden_datasets_are_neither_listed_nor_counted(client: TestClient) -> None:
    html = _get(client, "/web/search?q=&sort=title&page=1")
    for page in (html, _get(client, "/web/search?page=2")):
        assert "/web/datasets/entwurf" not in page
        assert "/web/datasets/intern" not in page
    visible = 3 + NUMBERED  # luftmessung, orte, stadtbezirke-herne, zahlen-*
    assert f"{visible} Treffer" in html


def test_search_pages_and_facets_are_bookmarkable_urls(client: TestClient) -> None:
    first = _get(client, "/web/search?sort=title")
    assert 'href="/web/search?sort=title&amp;page=2"' in first
    second = _get(client, "/web/search?sort=title&page=2")
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    titles = re.findall(r'<h3><a href="/web/datasets/([^"]+)"', first + second)
    assert len(titles) == 3 + NUMBERED
    assert len(set(titles)) == len(titles)
    filtered = _get(client, "/web/search?theme=ENVI")
    assert re.findall(r'<h3><a href="/web/datasets/([^"]+)"', filtered) == ["luftmessung"]
    assert "1 Treffer" in filtered
    # the active facet value links to the URL without it
    assert 'aria-current="true" href="/web/search"' in filtered


def test_bad_search_parameters_render_a_friendly_400(client: TestClient) -> None:
    client.cookies.clear()
    for url in ("/web/search?page=x", "/web/search?sort=wrong", "/web/search?limit=5"):
        response = client.get(url)
        assert response.status_code == 400
        assert "Ungültige Anfrage" in response.text


def test_dataset_page_shows_everything_a_user_needs(client: TestClient) -> None:
    html = _get(client, "/web/datasets/luftmessung")
    assert "<h1>Luftmessung</h1>" in html
    assert "Datenlizenz Deutschland Namensnennung 2.0" in html
    assert re.search(r'<textarea id="attribution"[^>]*>Stadt Herne, „Luftmessung“', html)
    assert "täglich" in html  # update frequency
    assert "01.01.2024" in html  # temporal coverage
    for fmt in ("csv", "json", "ndjson", "parquet", "xlsx"):
        assert f"/api/v1/datasets/luftmessung/download.{fmt}" in html
    assert "download.geojson" not in html
    assert "curl &#39;http://testserver/api/v1/datasets/luftmessung/rows?_limit=10&#39;" in html
    assert "import httpx" in html
    assert "pd.read_csv" in html
    assert "/api/3/action/package_show?id=luftmessung" in html
    assert "/sta/v1.1" in html
    assert 'data-rows-url="/api/v1/datasets/luftmessung/rows"' in html
    assert 'data-aggregate-url="/api/v1/datasets/luftmessung/aggregate"' in html
    # versions with what changed
    assert 'data-version="2"' in html
    assert 'data-version="1"' in html
    assert "+60 Zeilen" in html
    assert "neue Spalten: no2" in html
    # privacy summary in plain words, roles only
    assert "Geprüft auf personenbezogene Daten" in html


def test_geodata_page_has_a_map_with_context_and_ogc_link(client: TestClient) -> None:
    html = _get(client, "/web/datasets/orte")
    assert 'id="map"' in html
    assert 'data-geometry="geometry"' in html
    assert 'data-context-url="/api/v1/datasets/stadtbezirke-herne/rows?_limit=1000"' in html
    assert "/ogc/collections/orte/items" in html
    assert "download.geojson" in html
    assert "/web/vendor/leaflet.js" in html
    assert "data-tile-url" not in html


def test_hostile_metadata_is_escaped(client: TestClient) -> None:
    for url in ("/web/datasets/orte", "/web/search?q=orte", "/web/"):
        html = _get(client, url)
        assert "<script>alert(1)</script>" not in html
        assert "Orte &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE.startswith("Orte <script>")


def test_organization_page_lists_its_visible_datasets(client: TestClient) -> None:
    html = _get(client, "/web/organizations/stadt-herne")
    assert "/web/datasets/luftmessung" in html
    assert "/web/datasets/intern" not in html
    assert "/web/datasets/entwurf" not in html
    client.cookies.clear()
    assert client.get("/web/organizations/keine").status_code == 404


def test_vendor_files_come_from_npm_and_stay_small(client: TestClient) -> None:
    total = 0
    for name in ("leaflet.js", "uplot.js"):
        response = client.get(f"/web/vendor/{name}")
        assert response.status_code == 200, "run make web (npm ci in web/)"
        total += len(response.content)
    for name in ("app.js", "maps.js", "dataset.js"):
        total += len(client.get(f"/web/static/{name}").content)
    assert total < 300_000
    assert client.get("/web/vendor/../../package.json").status_code == 404
    assert client.get("/web/vendor/leaflet/dist/leaflet-src.js").status_code == 404


def test_sensor_overview_shows_things_with_latest_values_and_units(client: TestClient) -> None:
    html = _get(client, "/web/sensors")
    assert "Station Herne Mitte" in html
    assert "Station Wanne" in html
    assert "17.25 µg/m³" in html
    assert "21.5" not in html
    features = re.search(r'data-features="([^"]+)"', html)
    assert features is not None
    collection = json.loads(features.group(1).replace("&#34;", '"'))
    assert [f["geometry"]["coordinates"] for f in collection["features"]] == [
        [7.22, 51.54],
        [7.16, 51.53],
    ]


def test_measure_page_shows_the_estimate_interval_checks_and_chart_source(
    client: TestClient,
) -> None:
    html = _get(client, "/web/measures/tempo-30-test")
    assert "Tempo 30 an S0" in html
    assert "25.01.2024" in html
    assert "Differenz-von-Differenzen" in html
    assert "95-%-Intervall" in html
    assert "24 Tage vorher" in html
    assert "/api/v1/datasets/luftmessung/aggregate" in html
    english = _get(client, "/web/measures/tempo-30-test?lang=en")
    assert "difference in differences" in english
    client.cookies.clear()
    assert client.get("/web/measures/gibt-es-nicht").status_code == 404


def test_challenge_page_shows_question_data_dates_and_how_to_apply(client: TestClient) -> None:
    html = _get(client, "/web/challenges/saubere-luft")
    assert "Wie sagen wir Feinstaubspitzen einen Tag voraus?" in html
    assert 'href="/web/datasets/luftmessung"' in html
    assert "01.01.2027" in html
    assert "01.06.2027" in html
    assert "/api/v1/challenges/saubere-luft/applications" in html
    assert "Nutzen" in html
    client.cookies.clear()
    assert client.get("/web/challenges/gibt-es-nicht").status_code == 404
