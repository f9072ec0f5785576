"""Accessibility in a real browser (Debian's Chromium, Playwright): the maps by keyboard alone,
a label for every form field, text contrast (WCAG 2.1 AA) and a phone viewport.

Skipped with the reason when /usr/bin/chromium is missing (``make browser``).
"""

from __future__ import annotations

from typing import Any

import pytest

from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from tests.web.conftest import shot

PASSWORD = "ein-langes-passwort-42"

PUBLIC_PAGES = [
    "/web/",
    "/web/search",
    "/web/datasets/luftmessung",
    "/web/datasets/orte",
    "/web/organizations",
    "/web/sensors",
    "/web/measures",
    "/web/measures/tempo-30-test",
    "/web/challenges",
    "/web/challenges/saubere-luft",
    "/web/login",
    "/web/datasets/gibt-es-nicht",
]
STEWARD_PAGES = ["/web/account", "/web/datasets/entwurf/upload", "/web/datasets/entwurf/manage"]


@pytest.fixture(scope="module")
def steward(sqlite_web_hub: Hub) -> str:
    with sqlite_web_hub.session() as session:
        create_user(
            session, "a11y-test", role="steward", org="stadt-herne", password=PASSWORD, actor="t"
        )
    return "a11y-test"


def _sign_in(page: Any, live_url: str, name: str) -> None:
    page.goto(f"{live_url}/web/login")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/web/account")


def _tab_to(page: Any, selector: str, limit: int = 250) -> None:
    """Press Tab until the focus is on an element matching ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{limit} presses of Tab never reached {selector}")


FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""


def _open_by_keyboard(page: Any, key: str) -> str:
    """Open the focused feature button's popup with ``key``; the popup's text."""
    page.keyboard.press(key)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    page.wait_for_function(
        "document.activeElement.closest('.leaflet-popup') !== null"
    )  # the focus moved into the popup
    return str(popup.inner_text())


def test_keyboard_alone_reaches_a_map_feature_and_opens_its_popup(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/datasets/orte")
    page.wait_for_function("document.querySelector('#map').dataset.featureCount === '3'")
    _tab_to(page, ".map-list summary")
    assert page.evaluate(FOCUS_RING), "the focused list has no visible focus ring"
    assert "Objekte der Karte als Liste (3)" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.textContent")
    assert first == "Rathaus Herne"
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    assert page.evaluate(FOCUS_RING), "the focused feature has no visible focus ring"
    text = _open_by_keyboard(page, "Enter")
    assert "Rathaus Herne" in text
    assert page.locator(".leaflet-popup").get_attribute("aria-label") == "Rathaus Herne"
    shot(page, "keyboard-map-popup")
    page.keyboard.press("Escape")
    page.wait_for_function("document.querySelector('.leaflet-popup') === null")
    assert page.evaluate("document.activeElement.textContent") == "Rathaus Herne"
    page.keyboard.press("Tab")
    second = str(page.evaluate("document.activeElement.textContent"))
    assert second != first
    assert second in _open_by_keyboard(page, " ")  # Space opens it too
    close = page.locator(".leaflet-popup-close-button")
    assert close.get_attribute("aria-label") == "Angaben schließen"
    page.keyboard.press("Escape")
    page.wait_for_function("document.querySelector('.leaflet-popup') === null")
    assert page.evaluate("document.activeElement.textContent") == second


def test_keyboard_alone_opens_a_sensor_popup(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/sensors")
    page.wait_for_function("document.querySelector('#map').dataset.featureCount === '2'")
    _tab_to(page, ".map-list summary")
    page.keyboard.press("Enter")
    _tab_to(page, ".map-list button", limit=3)
    while "Herne Mitte" not in page.evaluate("document.activeElement.textContent"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('.map-list') !== null")
    assert "17,25 µg/m³" in _open_by_keyboard(page, "Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("document.querySelector('.leaflet-popup') === null")


def test_preview_sorting_filter_and_chart_controls_work_by_keyboard(
    page: Any, live_url: str
) -> None:
    page.goto(f"{live_url}/web/datasets/luftmessung")
    page.wait_for_function("document.querySelector('#preview-table').dataset.rows === '20'")
    _tab_to(page, 'button.sort[data-column="pm10"]')
    with page.expect_response(lambda r: "_sort=pm10" in r.url):
        page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('th[data-column=pm10]').getAttribute('aria-sort') === 'ascending'"
    )
    _tab_to(page, 'input.filter[data-column="station"]', limit=20)
    with page.expect_response(lambda r: "station__contains=S2" in r.url):
        page.keyboard.type("S2")
        page.keyboard.press("Enter")
    _tab_to(page, "#chart-bucket")
    with page.expect_response(lambda r: "zeit%3Ahour" in r.url or "zeit:hour" in r.url):
        page.keyboard.press("ArrowUp")  # day -> hour: a focused select changes by arrow keys
    page.wait_for_function("document.querySelector('#chart').dataset.points === '300'")
    page.goto(f"{live_url}/web/datasets/luftmessung")
    _tab_to(page, "#lang-switch")
    page.keyboard.press("Enter")
    page.wait_for_url("**lang=en")
    assert page.locator("html").get_attribute("lang") == "en"


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter(e => e.type !== "hidden")
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
    && !e.getAttribute("aria-labelledby") && !e.title)
  .map(e => e.outerHTML.slice(0, 120))"""


def test_every_form_field_has_a_label(page: Any, live_url: str, steward: str) -> None:
    missing: dict[str, list[str]] = {}
    for path in PUBLIC_PAGES:
        page.goto(f"{live_url}{path}", wait_until="networkidle")
        missing[path] = page.evaluate(UNLABELLED)
    _sign_in(page, live_url, steward)
    for path in STEWARD_PAGES:
        page.goto(f"{live_url}{path}", wait_until="networkidle")
        missing[path] = page.evaluate(UNLABELLED)
    assert {p: m for p, m in missing.items() if m} == {}


# WCAG 2.1 contrast of each visible text against the first opaque background behind it.
CONTRAST = """() => {
  const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = c => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const over = (top, bottom) => {
    const a = top.length > 3 ? top[3] : 1;
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a));
  };
  const background = element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.backgroundImage !== "none") return null;
      const c = rgba(style.backgroundColor);
      if (c.length > 3 && c[3] === 0) continue;
      layers.push(c);
      if (c.length === 3 || c[3] === 1) break;
    }
    return layers.reverse().reduce((under, c) => over(c, under), [255, 255, 255]);
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(element)) continue;
    seen.add(element);
    if (element.closest(".leaflet-container, script, style, noscript, .sr, .skip")) continue;
    if (element.closest("button:disabled, [aria-hidden=true]")) continue;
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden") continue;
    const back = background(element);
    if (!back) continue;
    const fore = over(rgba(style.color), back);
    const [hi, lo] = [lum(fore), lum(back)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${element.tagName}.${element.className} "${element.textContent.trim()
        .slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
  }
  return failures;
}"""


def test_text_contrast_is_at_least_wcag_aa(page: Any, live_url: str, steward: str) -> None:
    failures: dict[str, list[str]] = {}
    for path in PUBLIC_PAGES:
        page.goto(f"{live_url}{path}", wait_until="networkidle")
        failures[path] = page.evaluate(CONTRAST)
    page.goto(f"{live_url}/web/datasets/luftmessung?lang=en", wait_until="networkidle")
    failures["en"] = page.evaluate(CONTRAST)
    _sign_in(page, live_url, steward)
    for path in STEWARD_PAGES:
        page.goto(f"{live_url}{path}", wait_until="networkidle")
        failures[path] = page.evaluate(CONTRAST)
    assert {p: f for p, f in failures.items() if f} == {}


def test_no_page_scrolls_sideways_on_a_phone(page: Any, live_url: str) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    wide: dict[str, int] = {}
    for path in PUBLIC_PAGES:
        page.goto(f"{live_url}{path}", wait_until="networkidle")
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        if width > 375:
            wide[path] = width
    page.goto(f"{live_url}/web/", wait_until="networkidle")
    shot(page, "phone-home")
    assert wide == {}
