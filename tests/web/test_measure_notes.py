"""The warnings of a measure's evaluation on the measure page, in the page's language."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from datenschatz.web.measure_notes import measure_notes


def _warnings(html: str) -> list[tuple[str, str]]:
    block = html.split('<ul class="warnings">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<li data-code="([a-z_]+)">([^<]+)</li>', block)


def test_the_german_measure_page_shows_german_warnings(client: TestClient) -> None:
    client.cookies.clear()
    german = _warnings(client.get("/web/measures/tempo-30-test").text)
    codes = [code for code, _ in german]
    # The test measure has 24 days before its start and 26 after.
    assert codes[0] == "placebo_too_short"
    assert "short_after_period" in codes
    texts = dict(german)
    assert texts["placebo_too_short"] == (
        "Der Zeitraum vor dem Beginn ist zu kurz für einen Placebo-Test."
    )
    assert re.match(
        r"Der Zeitraum nach dem Beginn umfasst nur \d+ Tage", texts["short_after_period"]
    )
    english = dict(_warnings(client.get("/web/measures/tempo-30-test?lang=en").text))
    assert english["placebo_too_short"] == "The before period is too short for a placebo test."
    assert re.match(r"The after period has only \d+ days", english["short_after_period"])
    client.cookies.clear()


def test_evaluations_stored_without_codes_are_recognised_by_their_text() -> None:
    stored = {
        "warnings": [
            "The placebo test at 2024-03-02 (a fake start inside the before period) finds an "
            "effect: the groups drift apart without the measure, so the DiD estimate may be "
            "biased.",
            "Treated and control stations did not move in parallel before the start "
            "(p = 0.012): the DiD assumption is doubtful.",
            "Something the page does not know.",
        ]
    }
    notes = measure_notes(stored, "de")
    assert [n.code for n in notes] == ["placebo_effect", "pre_trend_not_parallel", None]
    assert notes[0].text.startswith("Der Placebo-Test am 02.03.2024 ")
    assert "(p = 0,012)" in notes[1].text
    assert notes[2].text == "Something the page does not know."
