"""A challenge from start to data in a real browser (Debian's Chromium, Playwright): the admin
drafts a challenge in the form and publishes it, a partner registers a team and applies on the
challenge's page, the admin scores the application per criterion and qualifies the team, and
the partner accepts the terms and opens the granted dataset. The partner works by keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from tests.governance.release_builders import partner_dataset
from tests.web.conftest import shot

ADMIN_PASSWORD = "verwaltung-passwort-1"
PARTNER_PASSWORD = "startup-passwort-1234"


@pytest.fixture(scope="module")
def people(sqlite_web_hub: Hub) -> Hub:
    partner_dataset(sqlite_web_hub, "waermebedarf", "SELECT 1 AS block, 120.5 AS mwh")
    with sqlite_web_hub.session() as session:
        create_user(session, "leitung", role="admin", password=ADMIN_PASSWORD, actor="test")
        create_user(session, "gruenderin", role="partner", password=PARTNER_PASSWORD, actor="test")
    return sqlite_web_hub


def _sign_in(tab: Any, live_url: str, name: str, password: str) -> None:
    tab.goto(f"{live_url}/web/login")
    tab.fill("#login-name", name)
    tab.fill("#login-password", password)
    with tab.expect_navigation():
        tab.press("#login-password", "Enter")
    assert tab.url.endswith("/web/account"), tab.locator("main").inner_text()


def _submit(tab: Any, selector: str) -> None:
    with tab.expect_navigation():
        tab.click(selector)


def test_admin_creates_a_challenge_a_partner_applies_qualifies_and_gets_the_data(
    page: Any, browser: Any, live_url: str, people: Hub
) -> None:
    # The admin drafts the challenge in the form and publishes it.
    _sign_in(page, live_url, "leitung", ADMIN_PASSWORD)
    page.goto(f"{live_url}/web/admin#challenges")
    _submit(page, "#new-challenge")
    page.fill("#ch-slug", "waermewende")
    page.fill("#ch-title", "Wärmewende in Herne")
    page.fill("#ch-question", "Wo lohnen sich Wärmenetze?")
    page.select_option("#ch-datasets", ["waermebedarf", "luftmessung"])
    page.fill("#cr-0-name", "Wirkung")
    page.fill("#cr-0-weight", "2")
    page.fill("#cr-0-description", "Eingesparte Tonnen CO₂")
    page.fill("#cr-1-name", "Machbarkeit")
    page.fill("#ch-terms", "Daten nur für die Challenge nutzen.")
    page.fill("#ch-close", "2030-01-31T12:00")
    page.fill("#ch-ends", "2030-06-30T12:00")
    shot(page, "admin-challenge")
    _submit(page, "#challenge-form button[type=submit]")
    assert page.locator("#manage-done").inner_text() == "Die Challenge ist als Entwurf angelegt."
    assert page.locator("#challenge-status").get_attribute("data-status") == "draft"
    _submit(page, "#publish")
    assert page.locator("#challenge-status").get_attribute("data-status") == "published"

    # The partner registers a team and applies, by keyboard.
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    partner = context.new_page()
    try:
        _sign_in(partner, live_url, "gruenderin", PARTNER_PASSWORD)
        partner.goto(f"{live_url}/web/challenges/waermewende")
        partner.focus("#team-name")
        partner.keyboard.type("Wärmepioniere")
        with partner.expect_navigation():
            partner.keyboard.press("Enter")
        assert partner.locator("#challenge-done").inner_text() == "Team angelegt."
        partner.focus("#apply-proposal")
        partner.keyboard.type("Eine Karte der Wärmedichte je Baublock.")
        partner.keyboard.press("Tab")  # to the data needs: both datasets are chosen already
        partner.keyboard.press("Tab")
        partner.keyboard.type("Bedarf je Block")
        partner.keyboard.press("Tab")
        with partner.expect_navigation():
            partner.keyboard.press("Enter")
        assert partner.locator("#challenge-done").inner_text() == "Bewerbung eingegangen."
        assert partner.locator("li.my-application").get_attribute("data-status") == "submitted"

        # The admin scores per criterion and qualifies the team.
        page.goto(f"{live_url}/web/challenges/waermewende/manage")
        application = page.locator("article.application").first
        assert "Wärmepioniere" in application.inner_text()
        application.locator("input[name=score-0]").fill("8")
        application.locator("input[name=score-1]").fill("6")
        application.locator("textarea[name=comment]").fill("Klarer Nutzen für die Planung.")
        _submit(page, "article.application form[action$='/score'] button[type=submit]")
        assert page.locator("#manage-done").inner_text() == "Ihre Bewertung ist gespeichert."
        assert page.locator("tr.score td.total").inner_text() == "7,33"
        page.fill("article.application textarea[name=reason]", "Überzeugender Plan.")
        _submit(page, "article.application button[value=qualify]")
        assert page.locator("article.application").get_attribute("data-status") == "qualified"
        assert page.locator("article.grant").count() == 1
        shot(page, "admin-applications")
        page.goto(f"{live_url}/web/admin")
        shot(page, "admin-page")

        # The partner accepts the terms and opens the granted dataset.
        partner.goto(f"{live_url}/web/partner")
        grant = partner.locator("article.grant").first
        assert grant.get_attribute("data-active") == "false"
        assert "Daten nur für die Challenge nutzen." in grant.inner_text()
        with partner.expect_navigation():
            grant.locator("form[action$='/accept'] button").click()
        grant = partner.locator("article.grant").first
        assert grant.get_attribute("data-active") == "true"
        with partner.expect_navigation():
            grant.locator("a[href='/web/datasets/waermebedarf']").click()
        assert partner.url.endswith("/web/datasets/waermebedarf")
        assert partner.locator("h1").inner_text() == "Waermebedarf"
    finally:
        context.close()
