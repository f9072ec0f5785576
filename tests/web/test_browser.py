"""The web UI in a real browser: Debian's Chromium driven by Playwright, against the app served
by uvicorn on 127.0.0.1. Every request the pages make must stay on that server.

Skipped with the reason when /usr/bin/chromium is missing (``make browser`` installs it as
root); under CI=true that is a failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datenschatz.catalog.metadata import update_metadata
from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from tests.helpers import add_version
from tests.web.builders import ADMIN
from tests.web.conftest import shot as _shot


def _open_popup(tab: Any, marker: Any) -> Any:
    """Click ``marker`` until its popup shows (a click during a map redraw may miss)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    popup = tab.locator(".leaflet-popup-content")
    for _ in range(5):
        marker.click(force=True)
        try:
            popup.wait_for(timeout=3000)
            return popup
        except PlaywrightTimeout:
            continue
    popup.wait_for(timeout=3000)
    return popup


def test_search_filters_by_a_facet_and_pages_by_url(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/search?sort=title")
    assert page.locator("#total").inner_text() == "14 Treffer"
    assert page.locator("li.hit").count() == 10
    _shot(page, "search")
    page.locator('section[data-facet="theme"] a.facet-value', has_text="Umwelt").click()
    page.wait_for_url("**/web/search?sort=title&theme=ENVI")
    assert page.locator("#total").inner_text() == "1 Treffer"
    assert page.locator("li.hit h3").inner_text() == "Luftmessung"
    page.goto(f"{live_url}/web/search?sort=title")
    page.locator("a[rel=next]").click()
    page.wait_for_url("**/web/search?sort=title&page=2")
    assert page.locator("li.hit").count() == 4
    page.reload()
    assert page.locator("li.hit").count() == 4


def test_preview_table_sorts_filters_and_pages_through_the_rows_api(
    page: Any, live_url: str
) -> None:
    page.goto(f"{live_url}/web/datasets/luftmessung")
    table = page.locator("#preview-table")
    page.wait_for_function("document.querySelector('#preview-table').dataset.rows === '20'")
    assert "von 300 Zeilen" in page.locator("#preview-status").inner_text()
    _shot(page, "dataset")
    pm10 = 'button.sort[data-column="pm10"]'
    with page.expect_response(lambda r: "_sort=pm10" in r.url and "/rows" in r.url):
        page.click(pm10)
    page.wait_for_function(
        "document.querySelector('th[data-column=pm10]').getAttribute('aria-sort') === 'ascending'"
    )
    page.wait_for_function(
        "document.querySelector('#preview-table tbody td:nth-child(3)').textContent === '10'"
    )
    with page.expect_response(lambda r: "_sort_desc=pm10" in r.url):
        page.click(pm10)
    page.wait_for_function(
        "document.querySelector('#preview-table tbody td:nth-child(3)').textContent === '33'"
    )
    with page.expect_response(lambda r: "station__contains=S1" in r.url):
        table.locator('input[data-column="station"]').fill("S1")
    page.wait_for_function(
        "document.querySelector('#preview-status').textContent.includes('von 100')"
    )
    stations = table.locator("tbody td:first-child").all_inner_texts()
    assert stations
    assert set(stations) == {"S1"}
    with page.expect_response(lambda r: "_next=" in r.url):
        page.click("#preview-next")
    page.wait_for_function(
        "document.querySelector('#preview-status').textContent.includes('Seite 2')"
    )
    assert set(table.locator("tbody td:first-child").all_inner_texts()) == {"S1"}


def test_map_shows_the_features_and_a_popup_opens(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/datasets/orte")
    page.wait_for_function("document.querySelector('#map').dataset.featureCount === '3'")
    page.wait_for_function("document.querySelector('#preview-table').dataset.rows === '3'")
    cells = page.locator("#preview-table tbody td").all_inner_texts()
    assert "Schloss Strünkede <b>fett</b>" in cells  # shown as text, not as markup
    assert page.locator("#preview-table tbody b").count() == 0
    markers = page.locator("#map path.leaflet-interactive")
    assert markers.count() == 3
    context = page.locator("#map path:not(.leaflet-interactive)")
    assert context.count() == 4  # the district outlines, drawn as context
    popup = _open_popup(page, markers.first)
    assert "name" in popup.inner_text()
    assert "<b>" not in popup.inner_html().replace("&lt;b&gt;", "")
    _shot(page, "map")


def test_chart_renders_with_data_points_and_changes_aggregation(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/datasets/luftmessung")
    page.wait_for_function("document.querySelector('#chart').dataset.points === '50'")
    assert page.locator("#chart canvas").count() == 1
    with page.expect_response(lambda r: "zeit%3Ahour" in r.url or "zeit:hour" in r.url):
        page.select_option("#chart-bucket", "hour")
    page.wait_for_function("document.querySelector('#chart').dataset.points === '300'")
    with page.expect_response(lambda r: "max%3Apm10" in r.url or "max:pm10" in r.url):
        page.select_option("#chart-metric", "max")
    assert page.locator("#chart canvas").count() == 1


def test_sensor_map_shows_the_things(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/sensors")
    page.wait_for_function("document.querySelector('#map').dataset.featureCount === '2'")
    assert page.locator("#map path.leaflet-interactive").count() == 2
    popup = _open_popup(page, page.locator("#map path.leaflet-interactive").first)
    assert "17,25 µg/m³" in popup.inner_text()
    page.wait_for_function("document.querySelector('#stream-chart').dataset.points === '2'")
    assert page.locator("#stream-chart canvas").count() == 1
    _shot(page, "sensors")


def test_measure_chart_shows_treated_and_control(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/measures/tempo-30-test")
    page.wait_for_function("document.querySelector('#measure-chart').dataset.points === '50'")
    assert page.locator("#measure-chart canvas").count() == 1
    legend = page.locator("#measure-chart .u-legend").inner_text()
    assert "betroffen" in legend
    assert "Vergleich" in legend
    _shot(page, "measure")


SCRIPT_BYTES = """
() => performance.getEntriesByType('resource')
  .filter(e => e.initiatorType === 'script')
  .reduce((sum, e) => sum + e.decodedBodySize, 0)
"""


@pytest.mark.parametrize(
    "path",
    ["/web/", "/web/search", "/web/datasets/luftmessung", "/web/datasets/orte", "/web/sensors"],
)
def test_no_page_loads_more_than_300_kb_of_javascript(page: Any, live_url: str, path: str) -> None:
    page.goto(f"{live_url}{path}", wait_until="networkidle")
    loaded = page.evaluate(SCRIPT_BYTES)
    assert 0 < loaded <= 300 * 1024, f"{path} loads {loaded} bytes of JavaScript"


def test_language_switch(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/search?theme=ENVI")
    assert page.locator("html").get_attribute("lang") == "de"
    page.click("#lang-switch")
    page.wait_for_url("**/web/search?theme=ENVI&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#total").inner_text() == "1 results"
    page.click("text=Organizations")
    assert page.locator("html").get_attribute("lang") == "en"  # remembered in the cookie
    _shot(page, "organizations-en")
    page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "de"


def test_home_page_and_keyboard_skip_link(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.fill("#home-q", "Luftmessung")
    page.keyboard.press("Enter")
    page.wait_for_url("**/web/search?q=Luftmessung")
    assert "Luftmessung" in page.locator("li.hit h3").first.inner_text()
    page.goto(f"{live_url}/web/")
    _shot(page, "home")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/web/datasets/luftmessung")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "the page scrolls sideways on a phone"
    _shot(page, "dataset-phone")


def test_downloads_from_the_dataset_page(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/datasets/luftmessung")
    with page.expect_download() as info:
        page.click('a[data-format="csv"]')
    path = info.value.path()
    lines = Path(path).read_text().splitlines()
    assert lines[0].replace('"', "") == "station,zeit,pm10,no2"
    assert len(lines) == 301


@pytest.fixture(scope="module")
def steward(sqlite_web_hub: Hub) -> str:
    with sqlite_web_hub.session() as session:
        create_user(
            session,
            "stewardin",
            role="steward",
            org="stadt-herne",
            password="ein-langes-passwort-42",
            actor="test",
        )
    return "stewardin"


def test_steward_signs_in_and_uploads_with_a_progress_bar(
    page: Any, live_url: str, steward: str, tmp_path: Path
) -> None:
    page.goto(f"{live_url}/web/login")
    page.fill("#login-name", steward)
    page.fill("#login-password", "ein-langes-passwort-42")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/web/account")
    assert "stewardin" in page.locator("#signed-in-as").inner_text()
    page.click('a[href="/web/datasets/luftmessung/upload"]')
    upload = tmp_path / "luft.csv"
    upload.write_text("station,pm10\n" + "".join(f"S{i % 4},{i / 10}\n" for i in range(20000)))
    page.set_input_files("#upload-file", str(upload))
    _shot(page, "upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#upload-form').dataset.version !== undefined", timeout=60000
    )
    assert page.locator("#upload-progress").evaluate("p => p.value") == 100
    assert "20" in page.locator("#upload-status").inner_text()


@pytest.fixture(scope="module")
def journey(sqlite_web_hub: Hub, steward: str) -> str:
    """A draft with complete metadata for the release journey, and an admin on the board."""
    hub = sqlite_web_hub
    add_version(hub, "baumkataster", "SELECT 1 AS n", org="stadt-herne")
    with hub.session() as session:
        update_metadata(
            session,
            ADMIN,
            "baumkataster",
            {
                "description": "Straßenbäume in Herne.",
                "contact": {"name": "Grünflächenamt", "email": "gruen@example.org"},
            },
        )
        create_user(
            session, "vorsitz", role="admin", password="noch-ein-langes-passwort", actor="test"
        )
    return "baumkataster"


def _sign_in_as(page: Any, live_url: str, name: str, password: str) -> None:
    page.goto(f"{live_url}/web/login")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/web/account")


def test_journey_upload_roles_release_approval_publication(
    page: Any, live_url: str, journey: str, tmp_path: Path
) -> None:
    assert page.goto(f"{live_url}/web/datasets/{journey}").status == 404
    _sign_in_as(page, live_url, "stewardin", "ein-langes-passwort-42")
    page.goto(f"{live_url}/web/datasets/{journey}/upload")
    upload = tmp_path / "baeume.csv"
    upload.write_text("bezirk,art,anzahl\nMitte,Linde,120\nWanne,Eiche,80\nSodingen,Ahorn,95\n")
    page.set_input_files("#upload-file", str(upload))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("document.querySelector('#upload-form').dataset.version === '2'")
    page.goto(f"{live_url}/web/datasets/{journey}/manage")
    page.check("input[name=accept]")
    with page.expect_navigation():
        page.click("#roles button[type=submit]")
    assert page.url.endswith("#roles"), page.locator("main").inner_text()
    page.fill("#release-purpose", "Baumbestand für alle")
    page.select_option("#release-level", "public")
    with page.expect_navigation():
        page.click("#releases button[type=submit]")
    assert page.url.endswith("#releases"), page.locator("main").inner_text()
    assert page.locator("article.release").count() == 1, page.locator("#releases").inner_text()
    release = page.locator("article.release").first
    assert release.get_attribute("data-status") == "pending"
    release_id = release.get_attribute("data-release")
    _shot(page, "steward-manage")
    page.click("#lang-switch")  # the account menu stays signed in in both languages
    page.goto(f"{live_url}/web/account?lang=de")
    page.click("form[action='/web/logout'] button")

    _sign_in_as(page, live_url, "vorsitz", "noch-ein-langes-passwort")
    page.click("#board-link")
    page.click(f"a[href='/web/board/{release_id}']")
    _shot(page, "board-review")
    while page.locator("#decide-form").count():
        for item in ("purpose", "harm", "context", "linkage"):
            page.fill(f"#check-{item}", "geprüft")
        page.check("input[name=verdict][value=approve]")
        page.fill("#decide-reason", "Keine Personendaten, sinnvoll.")
        page.click("#decide-form button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("#release-status").get_attribute("data-status") == "approved"

    public = page.context.browser.new_page()
    try:
        response = public.goto(f"{live_url}/web/datasets/{journey}")
        assert response.status == 200
        public.wait_for_function("document.querySelector('#preview-table').dataset.rows === '3'")
    finally:
        public.close()
