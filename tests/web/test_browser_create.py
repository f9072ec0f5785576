"""A steward creates a new dataset in a real browser (Debian's Chromium via Playwright): by
keyboard from the account page, the slug suggested from the title, the upload's progress, and
the new dataset's management page with its quality report. Skipped with the reason when
/usr/bin/chromium is missing (a failure under CI=true)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from tests.web.conftest import shot

PASSWORD = "ein-langes-passwort-42"


@pytest.fixture(scope="module")
def steward(sqlite_web_hub: Hub) -> str:
    with sqlite_web_hub.session() as session:
        create_user(
            session, "anlegerin", role="steward", org="stadt-herne", password=PASSWORD, actor="t"
        )
    return "anlegerin"


def _sign_in_by_keyboard(page: Any, live_url: str, name: str) -> None:
    page.goto(f"{live_url}/web/login")
    page.focus("#login-name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/web/account")


def _open_the_form(page: Any) -> None:
    page.focus("#create-link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/web/datasets/new")


def test_steward_creates_a_dataset_and_lands_on_its_management_page(
    page: Any, live_url: str, steward: str, tmp_path: Path
) -> None:
    _sign_in_by_keyboard(page, live_url, steward)
    _open_the_form(page)
    assert page.locator("#create-org").input_value() == "stadt-herne"  # the only choice
    page.focus("#create-title")
    page.keyboard.type("Bäume an Straßen 2024")
    assert page.locator("#create-slug").input_value() == "baeume-an-strassen-2024"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "create-slug"
    page.keyboard.press("End")
    page.keyboard.type("-herne")  # edited by hand: the title no longer changes it
    page.focus("#create-title")
    page.keyboard.type(" (Stand Mai)")
    assert page.locator("#create-slug").input_value() == "baeume-an-strassen-2024-herne"
    page.focus("#create-description")
    page.keyboard.type("Straßenbäume nach Art und Anzahl.")
    upload = tmp_path / "baeume.csv"
    upload.write_text(
        "bezirk;art;anzahl;hoehe_m\n"
        + "".join(
            f"Bezirk {i % 4};{('Linde', 'Eiche', 'Ahorn')[i % 3]};{i};{i / 4}\n"
            for i in range(2000)
        ),
        encoding="utf-8",
    )
    page.set_input_files("#create-file", str(upload))
    shot(page, "new-dataset")
    page.focus("#create-file")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation(timeout=60000):
        page.keyboard.press("Enter")
    page.wait_for_url("**/web/datasets/baeume-an-strassen-2024-herne/manage")
    assert page.locator("h1").inner_text() == "Bäume an Straßen 2024 (Stand Mai)"
    quality = page.locator("#quality")
    assert "Qualitätsbericht (Version 1)" in quality.locator("h2").inner_text()
    assert "2.000" in quality.inner_text() or "2\u202f000" in quality.inner_text()
    columns = quality.locator("tbody td:first-child").all_inner_texts()
    assert columns == ["bezirk", "art", "anzahl", "hoehe_m"]
    assert page.locator("#md-description").input_value() == "Straßenbäume nach Art und Anzahl."
    assert page.locator("#roles").count() == 1  # column roles and the release request follow
    shot(page, "new-dataset-manage")


def test_a_taken_slug_is_named_at_its_field_without_leaving_the_form(
    page: Any, live_url: str, steward: str, tmp_path: Path
) -> None:
    _sign_in_by_keyboard(page, live_url, steward)
    _open_the_form(page)
    page.focus("#create-title")
    page.keyboard.type("Entwurf")
    upload = tmp_path / "klein.csv"
    upload.write_text("a,b\n1,2\n", encoding="utf-8")
    page.set_input_files("#create-file", str(upload))
    page.click("#upload-form button[type=submit]")
    message = page.locator("#create-slug-error")
    message.wait_for(state="visible")
    assert "„entwurf“" in message.inner_text()
    assert page.evaluate("document.activeElement.id") == "create-slug"
    assert page.locator("#create-slug").get_attribute("aria-invalid") == "true"
    link = page.locator("#create-upload-instead")
    assert link.get_attribute("href") == "/web/datasets/entwurf/upload"
    assert page.locator("#create-title").input_value() == "Entwurf"  # nothing was lost
    page.fill("#create-slug", "entwurf-zwei")
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/web/datasets/entwurf-zwei/manage")
