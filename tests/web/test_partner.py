"""A partner signs in, accepts a grant's terms and then sees exactly the granted data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from datenschatz.api.app import create_app
from datenschatz.db.models import utcnow
from datenschatz.governance import challenges
from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from tests.governance.release_builders import partner_dataset, user, who

PASSWORD = "partner-passwort-123"


@pytest.fixture(scope="module")
def partner_hub(sqlite_web_hub: Hub) -> Hub:
    hub = sqlite_web_hub
    partner_dataset(hub, "netzlast-partner")
    partner_dataset(hub, "netzlast-geheim")
    admin = user(hub, "anna", "admin")
    reviewer = user(hub, "rita", "reviewer", reviewer_kind="data_owner")
    with hub.session() as session:
        create_user(session, "paula", password=PASSWORD, actor="test")
    paula = who(hub, "paula")
    with hub.session() as session:
        challenges.create_challenge(
            session,
            admin,
            slug="netz",
            title="Netz",
            question="Wo wird das Netz knapp?",
            terms="Daten nur für die Challenge nutzen.",
            datasets=["netzlast-partner"],
            criteria=[{"name": "impact", "weight": 1}],
            applications_close_at=utcnow() + timedelta(days=10),
            access_ends_at=utcnow() + timedelta(days=60),
        )
        challenges.publish_challenge(session, admin, "netz")
        challenges.register_team(session, paula, "Team Paula")
        app_id = challenges.apply(
            session,
            paula,
            "netz",
            team="Team Paula",
            proposal="p",
            data_needs=[{"dataset": "netzlast-partner", "why": "w"}],
        ).id
        challenges.score_application(session, reviewer, app_id, {"impact": 5})
        challenges.decide_application(session, reviewer, app_id, qualify=True, reason="ok")
    return hub


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_partner_sees_only_the_granted_data_after_accepting_the_terms(partner_hub: Hub) -> None:
    client = TestClient(create_app(partner_hub), raise_server_exceptions=False)
    form = client.get("/web/login")
    signed = client.post(
        "/web/login",
        data={"name": "paula", "password": PASSWORD, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert client.get("/web/datasets/netzlast-partner").status_code == 404  # not accepted yet
    mine = client.get("/web/partner")
    assert "Daten nur für die Challenge nutzen." in mine.text
    assert 'data-active="false"' in mine.text
    grant = re.search(r'action="/web/grants/(\d+)/accept"', mine.text)
    assert grant is not None
    accepted = client.post(
        f"/web/grants/{grant.group(1)}/accept",
        data={"csrf": _csrf(mine.text)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    mine = client.get("/web/partner")
    assert 'data-active="true"' in mine.text
    assert 'href="/web/datasets/netzlast-partner"' in mine.text
    assert client.get("/web/datasets/netzlast-partner").status_code == 200
    assert client.get("/web/datasets/netzlast-geheim").status_code == 404
    found = client.get("/web/search?access_level=partner").text
    assert "/web/datasets/netzlast-partner" in found
    assert "/web/datasets/netzlast-geheim" not in found
    rows = client.get("/api/v1/datasets/netzlast-partner/rows")
    assert rows.status_code == 200  # the browser's preview reads with the session cookie
    anonymous = TestClient(create_app(partner_hub))
    assert anonymous.get("/web/datasets/netzlast-partner").status_code == 404


def test_partner_registers_a_team_and_applies_on_the_challenge_page(partner_hub: Hub) -> None:
    client = TestClient(create_app(partner_hub), raise_server_exceptions=False)
    anonymous = client.get("/web/challenges/saubere-luft").text
    assert 'href="/web/login"' in anonymous
    assert 'action="/web/challenges' not in anonymous
    form = client.get("/web/login")
    client.post(
        "/web/login",
        data={"name": "paula", "password": PASSWORD, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    page = client.get("/web/challenges/saubere-luft").text
    token = _csrf(page)
    assert (
        client.post(
            "/web/challenges/saubere-luft/team", data={"name": "Luftteam"}, follow_redirects=False
        ).status_code
        == 403
    )  # no CSRF token
    team = client.post(
        "/web/challenges/saubere-luft/team",
        data={"csrf": token, "name": "Luftteam"},
        follow_redirects=False,
    )
    assert team.headers["location"] == "/web/challenges/saubere-luft?done=team"
    page = client.get("/web/challenges/saubere-luft?done=team").text
    assert "Team angelegt." in page
    assert '<span class="tag">Luftteam</span>' in page
    applied = client.post(
        "/web/challenges/saubere-luft/apply",
        data={
            "csrf": token,
            "team": "Luftteam",
            "proposal": "Vorhersage",
            "dataset": "luftmessung",
            "why": "Training",
        },
        follow_redirects=False,
    )
    assert applied.headers["location"] == "/web/challenges/saubere-luft?done=apply"
    not_yet = client.post(
        "/web/challenges/saubere-luft/submit",
        data={"csrf": token, "team": "Luftteam", "title": "Ergebnis"},
    )
    assert not_yet.status_code in (403, 409)  # only qualified teams submit results
    assert (
        client.post("/web/challenges/saubere-luft/unbekannt", data={"csrf": token}).status_code
        == 404
    )
