"""The scripts' messages in the page's language, in a real browser (Debian's Chromium).

The data APIs answer errors in English (the one JSON error shape); on a German page the preview
table, the map and the chart show the text of the error's code and the parameter it names,
from the texts the page delivers; on an English page, the API's own message.
"""

from __future__ import annotations

import json
from typing import Any

from tests.web.conftest import shot


def _status(page: Any, selector: str, text: str) -> str:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).textContent.includes(t)", arg=[selector, text]
    )
    return str(page.locator(selector).inner_text())


def test_a_bad_filter_value_shows_a_german_message(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/datasets/zahlen-01")
    page.wait_for_function("document.querySelector('#preview-table').dataset.rows === '5'")
    with page.expect_response(lambda r: "wert=abc" in r.url and r.status == 400):
        page.locator('input.filter[data-column="wert"]').fill("abc")
    status = _status(page, "#preview-status", "Fehler")
    assert status == "Fehler: Eine Eingabe ist ungültig. (Parameter: wert)"
    assert page.locator("#preview-table").get_attribute("data-rows") == "0"
    shot(page, "preview-error-de")


def test_on_an_english_page_the_api_message_is_shown(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/web/datasets/zahlen-01?lang=en")
    page.wait_for_function("document.querySelector('#preview-table').dataset.rows === '5'")
    with page.expect_response(lambda r: "wert=abc" in r.url):
        page.locator('input.filter[data-column="wert"]').fill("abc")
    status = _status(page, "#preview-status", "Error")
    assert status == "Error: The parameter wert must be an integer (column wert holds integers)."


def test_the_map_names_a_missing_dataset_in_german(page: Any, live_url: str) -> None:
    gone = {"error": {"code": "not_found", "message": "No such dataset.", "details": {}}}
    page.route(
        "**/api/v1/datasets/orte/rows?_limit=1000",
        lambda route: route.fulfill(
            status=404, content_type="application/json", body=json.dumps(gone)
        ),
    )
    page.goto(f"{live_url}/web/datasets/orte")
    status = _status(page, "#map-status", "Fehler")
    assert status == "Fehler: Das Gesuchte gibt es nicht, oder Sie dürfen es nicht sehen."


def test_a_failed_connection_and_an_answer_without_json_are_german(
    page: Any, live_url: str
) -> None:
    page.route("**/api/v1/datasets/luftmessung/aggregate?**", lambda route: route.abort())
    page.route(
        "**/api/v1/datasets/luftmessung/rows?**",
        lambda route: route.fulfill(status=429, content_type="text/plain", body="slow down"),
    )
    page.goto(f"{live_url}/web/datasets/luftmessung")
    chart = _status(page, "#chart-status", "Fehler")
    assert chart == (
        "Fehler: Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung und versuchen "
        "Sie es noch einmal."
    )
    preview = _status(page, "#preview-status", "Fehler")
    assert preview == "Fehler: Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment."
