"""The challenge forms: a team registers and applies on the challenge page, a reviewer scores
per criterion and qualifies (which creates the grant), the team accepts the terms, asks for an
extra dataset that an admin decides, submits a result, issues its own tokens (secret shown
once) — and an admin's revocation ends the access. Checked through the services, refused for
the wrong people and without the CSRF token, escaping hostile input."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from datenschatz.access.policy import Principal
from datenschatz.api.app import create_app
from datenschatz.db.models import utcnow
from datenschatz.governance import accounts, challenges, grants, tokens
from datenschatz.hub import Hub
from tests.governance.release_builders import partner_dataset, who
from tests.web.form_helpers import audit_text, csrf, person, signed_in

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def hub(web_hub: Hub) -> Hub:
    partner_dataset(web_hub, "netzlast-partner")
    partner_dataset(web_hub, "netzlast-extra")
    partner_dataset(web_hub, "netzlast-geheim")
    person(web_hub, "anna", "admin")
    person(web_hub, "rita", "reviewer", reviewer_kind="data_owner")
    person(web_hub, "paula", "partner")
    person(web_hub, "otto")
    with web_hub.session() as session:
        challenges.create_challenge(
            session,
            who(web_hub, "anna"),
            slug="netz",
            title="Netz",
            question="Wo wird das Netz knapp?",
            terms="Daten nur für die Challenge nutzen.",
            datasets=["netzlast-partner"],
            criteria=[{"name": "Wirkung", "weight": 2}, {"name": "Machbarkeit", "weight": 1}],
            applications_close_at=utcnow() + timedelta(days=10),
            access_ends_at=utcnow() + timedelta(days=60),
        )
        challenges.publish_challenge(session, who(web_hub, "anna"), "netz")
    return web_hub


@pytest.fixture(scope="module")
def paula(hub: Hub) -> TestClient:
    return signed_in(hub, "paula")


@pytest.fixture(scope="module")
def rita(hub: Hub) -> TestClient:
    return signed_in(hub, "rita")


@pytest.fixture(scope="module")
def anna(hub: Hub) -> TestClient:
    return signed_in(hub, "anna")


def _application(hub: Hub, team: str) -> challenges.ApplicationInfo:
    with hub.session() as session:
        found = challenges.list_applications(session, who(hub, "rita"), "netz")
    return next(a for a in found if a.team == team)


def _team_applied(hub: Hub, team: str, member: str = "paula") -> int:
    """A team of ``member`` that has applied to "netz" (through the services); its application."""
    principal = who(hub, member)
    with hub.session() as session:
        challenges.register_team(session, principal, team)
        return challenges.apply(
            session,
            principal,
            "netz",
            team=team,
            proposal="Lastprognose",
            data_needs=[{"dataset": "netzlast-partner", "why": "Training"}],
        ).id


def _qualified(hub: Hub, team: str) -> int:
    """A qualified team of paula with an accepted grant; the grant's id."""
    application = _team_applied(hub, team)
    rita = who(hub, "rita")
    with hub.session() as session:
        challenges.score_application(session, rita, application, {"Wirkung": 7, "Machbarkeit": 5})
        grant_id = challenges.decide_application(
            session, rita, application, qualify=True, reason="passt"
        ).grant_id
        assert grant_id is not None
        grants.accept_grant(session, who(hub, "paula"), grant_id)
    return grant_id


def _grant(hub: Hub, grant_id: int) -> grants.GrantInfo:
    with hub.session() as session:
        return grants.grant_info(session, grants.get_grant(session, who(hub, "anna"), grant_id))


# --- the team's side --------------------------------------------------------------------------


def test_a_team_registers_and_applies_on_the_challenge_page(hub: Hub, paula: TestClient) -> None:
    token = csrf(paula, "/web/challenges/netz")
    team = paula.post(
        "/web/challenges/netz/team",
        data={"csrf": token, "name": "Netzwerk"},
        follow_redirects=False,
    )
    assert team.headers["location"] == "/web/challenges/netz?done=team"
    page = paula.get("/web/challenges/netz").text
    assert 'id="apply-team" name="team"><option>Netzwerk</option>' in page
    applied = paula.post(
        "/web/challenges/netz/apply",
        data={
            "csrf": token,
            "team": "Netzwerk",
            "proposal": "Engpässe vorhersagen",
            "dataset": "netzlast-partner",
            "why": "Lastgänge",
        },
        follow_redirects=False,
    )
    assert applied.headers["location"] == "/web/challenges/netz?done=apply"
    found = _application(hub, "Netzwerk")
    assert found.status == "submitted"
    assert found.data_needs == [{"dataset": "netzlast-partner", "why": "Lastgänge"}]
    page = paula.get("/web/challenges/netz?done=apply").text
    assert "Bewerbung eingegangen." in page
    assert '<li class="my-application" data-status="submitted">Netzwerk: eingegangen' in page
    assert 'id="apply-team"' not in page  # the only team has applied
    assert 'id="manage-link"' not in page  # not a reviewer


def test_a_failed_team_or_application_form_keeps_the_values(hub: Hub, paula: TestClient) -> None:
    token = csrf(paula, "/web/challenges/netz")
    hostile = paula.post(
        "/web/challenges/netz/team",
        data={"csrf": token, "name": HOSTILE},
        follow_redirects=False,
    )
    assert hostile.status_code == 303
    page = paula.get("/web/challenges/netz").text
    assert HOSTILE not in page
    assert '<span class="tag">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in page
    twice = paula.post("/web/challenges/netz/team", data={"csrf": token, "name": HOSTILE})
    assert twice.status_code == 409
    assert 'id="error-team"' in twice.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in twice.text
    no_why = paula.post(
        "/web/challenges/netz/apply",
        data={
            "csrf": token,
            "team": HOSTILE,
            "proposal": "Mein <b>Vorhaben</b>",
            "dataset": "netzlast-partner",
            "why": "",
        },
    )
    assert no_why.status_code == 400
    assert 'id="error-apply"' in no_why.text
    assert "Mein &lt;b&gt;Vorhaben&lt;/b&gt;</textarea>" in no_why.text
    with hub.session() as session:
        mine = challenges.list_applications(session, who(hub, "paula"), "netz")
    assert HOSTILE not in {a.team for a in mine}


def test_only_a_qualified_team_submits_a_result(hub: Hub, paula: TestClient) -> None:
    _team_applied(hub, "Wartend")
    token = csrf(paula, "/web/challenges/netz")
    refused = paula.post(
        "/web/challenges/netz/submit",
        data={"csrf": token, "team": "Wartend", "title": "Zu früh", "text": "t"},
    )
    assert refused.status_code == 403
    assert 'id="error-submit"' in refused.text  # shown although the team has no submit form
    _qualified(hub, "Siegerteam")
    page = paula.get("/web/challenges/netz").text
    assert '<select id="submit-team" name="team"><option>Siegerteam</option></select>' in page
    no_title = paula.post(
        "/web/challenges/netz/submit",
        data={"csrf": token, "team": "Siegerteam", "title": "", "text": "Unsere Karte"},
    )
    assert no_title.status_code == 400
    assert "Unsere Karte</textarea>" in no_title.text
    sent = paula.post(
        "/web/challenges/netz/submit",
        data={
            "csrf": token,
            "team": "Siegerteam",
            "title": "Engpasskarte",
            "text": "Unsere Karte",
            "links": "https://example.org/karte",
        },
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/web/challenges/netz?done=submit"
    with hub.session() as session:
        found = challenges.list_submissions(session, who(hub, "rita"), "netz")
    assert [(s.team, s.title, s.links) for s in found] == [
        ("Siegerteam", "Engpasskarte", ["https://example.org/karte"])
    ]


# --- the reviewers' side ----------------------------------------------------------------------


def test_a_reviewer_scores_per_criterion_and_qualifying_creates_the_grant(
    hub: Hub, rita: TestClient, paula: TestClient
) -> None:
    application = _team_applied(hub, "Lastteam")
    manage = rita.get("/web/challenges/netz/manage")
    assert manage.status_code == 200
    assert f'id="application-{application}"' in manage.text
    token = csrf(rita, "/web/challenges/netz/manage")
    too_high = rita.post(
        f"/web/applications/{application}/score",
        data={"csrf": token, "challenge": "netz", "score-0": "11", "score-1": "4", "comment": "x"},
    )
    assert too_high.status_code == 400
    assert f'id="error-score-{application}"' in too_high.text
    assert 'name="score-0" type="number" min="0" max="10" step="0.5" inputmode="decimal"' in (
        too_high.text
    )
    assert 'value="11"' in too_high.text
    unscored = rita.post(
        f"/web/applications/{application}/decision",
        data={"csrf": token, "challenge": "netz", "decision": "qualify", "reason": "gut"},
    )
    assert unscored.status_code == 409  # score before qualifying
    scored = rita.post(
        f"/web/applications/{application}/score",
        data={
            "csrf": token,
            "challenge": "netz",
            "score-0": "8",
            "score-1": "6,5",
            "comment": "ok",
        },
        follow_redirects=False,
    )
    assert scored.headers["location"] == (
        f"/web/challenges/netz/manage?done=scored#application-{application}"
    )
    found = _application(hub, "Lastteam")
    assert found.scores is not None
    assert found.scores[0]["scores"] == {"Wirkung": 8.0, "Machbarkeit": 6.5}
    assert found.scores[0]["total"] == pytest.approx((8 * 2 + 6.5) / 3, abs=0.001)
    no_reason = rita.post(
        f"/web/applications/{application}/decision",
        data={"csrf": token, "challenge": "netz", "decision": "qualify", "reason": " "},
    )
    assert no_reason.status_code == 400
    qualified = rita.post(
        f"/web/applications/{application}/decision",
        data={"csrf": token, "challenge": "netz", "decision": "qualify", "reason": "Überzeugt"},
        follow_redirects=False,
    )
    assert qualified.headers["location"].endswith("done=qualified#application-" + str(application))
    found = _application(hub, "Lastteam")
    assert found.status == "qualified"
    assert found.decision_reason == "Überzeugt"
    assert found.grant_id is not None
    grant = _grant(hub, found.grant_id)
    assert grant.datasets == ["netzlast-partner"]
    assert grant.accepted_at is None
    mine = paula.get("/web/partner").text
    assert f'id="grant-{found.grant_id}"' in mine
    assert f'action="/web/grants/{found.grant_id}/accept"' in mine


def test_a_reviewer_rejects_with_a_reason_the_team_reads(
    hub: Hub, rita: TestClient, paula: TestClient
) -> None:
    application = _team_applied(hub, "Absageteam")
    rejected = rita.post(
        f"/web/applications/{application}/decision",
        data={
            "csrf": csrf(rita, "/web/challenges/netz/manage"),
            "challenge": "netz",
            "decision": "reject",
            "reason": "Kein Bezug zur Frage",
        },
        follow_redirects=False,
    )
    assert rejected.headers["location"].startswith("/web/challenges/netz/manage?done=rejected")
    assert _application(hub, "Absageteam").status == "rejected"
    assert _application(hub, "Absageteam").grant_id is None
    page = paula.get("/web/challenges/netz").text
    assert "Absageteam: abgelehnt \N{EN DASH} Kein Bezug zur Frage" in page


def test_others_may_neither_see_nor_score_nor_decide(hub: Hub, paula: TestClient) -> None:
    application = _team_applied(hub, "Fremdteam")
    otto = signed_in(hub, "otto")
    assert otto.get("/web/challenges/netz/manage").status_code == 403
    assert paula.get("/web/challenges/netz/manage").status_code == 403
    token = csrf(paula, "/web/challenges/netz")
    own = paula.post(
        f"/web/applications/{application}/score",
        data={"csrf": token, "challenge": "netz", "score-0": "10", "score-1": "10"},
    )
    assert own.status_code == 403  # the team may not score itself
    decided = paula.post(
        f"/web/applications/{application}/decision",
        data={"csrf": token, "challenge": "netz", "decision": "qualify", "reason": "selbst"},
    )
    assert decided.status_code == 403
    foreign = otto.post(
        f"/web/applications/{application}/decision",
        data={"csrf": csrf(otto, "/web/challenges/netz"), "decision": "reject", "reason": "x"},
    )
    assert foreign.status_code == 404  # someone else's application looks absent
    found = _application(hub, "Fremdteam")
    assert found.status == "submitted"
    assert found.scores == []
    anonymous = TestClient(create_app(hub), raise_server_exceptions=False)
    assert anonymous.get("/web/challenges/netz/manage", follow_redirects=False).status_code == 303


# --- grants: accepting, extra data, revocation ------------------------------------------------


def test_extra_data_is_requested_by_the_team_and_decided_by_an_admin(
    hub: Hub, paula: TestClient, anna: TestClient
) -> None:
    grant_id = _qualified(hub, "Mehrdaten")
    token = csrf(paula, "/web/partner")
    assert paula.get("/web/datasets/netzlast-extra").status_code == 404
    missing = paula.post(
        f"/web/grants/{grant_id}/extra",
        data={"csrf": token, "dataset": "gibt-es-nicht", "why": "<i>brauchen wir</i>"},
    )
    assert missing.status_code == 404
    assert f'id="error-extra-{grant_id}"' in missing.text
    assert "&lt;i&gt;brauchen wir&lt;/i&gt;</textarea>" in missing.text
    asked = paula.post(
        f"/web/grants/{grant_id}/extra",
        data={"csrf": token, "dataset": "netzlast-extra", "why": "Vergleich"},
        follow_redirects=False,
    )
    assert asked.headers["location"] == f"/web/partner?done=extra#grant-{grant_id}"
    with hub.session() as session:
        pending = grants.list_extra_requests(session, who(hub, "anna"), grant_id)
    assert [(r.dataset, r.status) for r in pending] == [("netzlast-extra", "pending")]
    manage = anna.get("/web/challenges/netz/manage").text
    assert f'action="/web/extra-requests/{pending[0].id}/decision"' in manage
    admin_token = csrf(anna, "/web/challenges/netz/manage")
    no_reason = anna.post(
        f"/web/extra-requests/{pending[0].id}/decision",
        data={"csrf": admin_token, "challenge": "netz", "decision": "approve", "reason": ""},
    )
    assert no_reason.status_code == 400
    assert (
        paula.post(
            f"/web/extra-requests/{pending[0].id}/decision",
            data={"csrf": token, "challenge": "netz", "decision": "approve", "reason": "selbst"},
        ).status_code
        == 403
    )  # the team does not decide its own request
    approved = anna.post(
        f"/web/extra-requests/{pending[0].id}/decision",
        data={"csrf": admin_token, "challenge": "netz", "decision": "approve", "reason": "ok"},
        follow_redirects=False,
    )
    assert approved.headers["location"] == (
        f"/web/challenges/netz/manage?done=extra_approved#grant-{grant_id}"
    )
    assert _grant(hub, grant_id).datasets == ["netzlast-extra", "netzlast-partner"]
    assert paula.get("/web/datasets/netzlast-extra").status_code == 200
    paula.post(
        f"/web/grants/{grant_id}/extra",
        data={"csrf": token, "dataset": "netzlast-geheim", "why": "auch"},
    )
    with hub.session() as session:
        second = grants.list_extra_requests(session, who(hub, "anna"), grant_id)[-1]
    refused = anna.post(
        f"/web/extra-requests/{second.id}/decision",
        data={"csrf": admin_token, "challenge": "netz", "decision": "refuse", "reason": "zu nah"},
        follow_redirects=False,
    )
    assert "done=extra_refused" in refused.headers["location"]
    assert "netzlast-geheim" not in _grant(hub, grant_id).datasets
    assert paula.get("/web/datasets/netzlast-geheim").status_code == 404
    assert "netzlast-geheim · abgelehnt: zu nah" in paula.get("/web/partner").text


def test_an_admin_revokes_a_grant_and_the_access_ends(
    hub: Hub, paula: TestClient, anna: TestClient, rita: TestClient
) -> None:
    grant_id = _qualified(hub, "Widerruf")
    assert paula.get("/web/datasets/netzlast-partner").status_code == 200
    admin_token = csrf(anna, "/web/challenges/netz/manage")
    no_reason = anna.post(
        f"/web/grants/{grant_id}/revoke",
        data={"csrf": admin_token, "challenge": "netz", "reason": ""},
    )
    assert no_reason.status_code == 400
    assert f'id="error-revoke-grant-{grant_id}"' in no_reason.text
    by_reviewer = rita.post(
        f"/web/grants/{grant_id}/revoke",
        data={"csrf": csrf(rita, "/web/challenges/netz/manage"), "reason": "weg"},
    )
    assert by_reviewer.status_code == 403  # only an admin revokes
    assert _grant(hub, grant_id).active
    revoked = anna.post(
        f"/web/grants/{grant_id}/revoke",
        data={"csrf": admin_token, "challenge": "netz", "reason": "Bedingungen verletzt"},
        follow_redirects=False,
    )
    assert revoked.headers["location"] == (
        f"/web/challenges/netz/manage?done=grant_revoked#grant-{grant_id}"
    )
    grant = _grant(hub, grant_id)
    assert not grant.active
    assert grant.revoke_reason == "Bedingungen verletzt"
    # paula's other grants of this module still cover netzlast-partner; a fresh session of a
    # member of only this team shows that the revoked grant itself reaches nothing any more.
    with hub.session() as session:
        ids = grants.active_grant_dataset_ids(
            session, who(hub, "paula").user_id or 0, utcnow(), scopes=frozenset({grant.scope})
        )
    assert ids == set()
    assert "Entzogen: Bedingungen verletzt" in paula.get("/web/partner").text


def test_the_admin_page_revokes_a_grant_too(hub: Hub, anna: TestClient) -> None:
    person(hub, "solo", "partner")
    principal = who(hub, "solo")
    with hub.session() as session:
        challenges.register_team(session, principal, "Solo")
        application = challenges.apply(
            session,
            principal,
            "netz",
            team="Solo",
            proposal="p",
            data_needs=[{"dataset": "netzlast-partner", "why": "w"}],
        ).id
        rita = who(hub, "rita")
        challenges.score_application(session, rita, application, {"Wirkung": 5, "Machbarkeit": 5})
        grant_id = challenges.decide_application(
            session, rita, application, qualify=True, reason="ok"
        ).grant_id
        assert grant_id is not None
        grants.accept_grant(session, principal, grant_id)
    solo = signed_in(hub, "solo")
    assert solo.get("/web/datasets/netzlast-partner").status_code == 200
    answer = anna.post(
        f"/web/grants/{grant_id}/revoke",
        data={"csrf": csrf(anna, "/web/admin"), "back": "admin", "reason": "Ende"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/web/admin?done=grant_revoked#challenges"
    assert solo.get("/web/datasets/netzlast-partner").status_code == 404
    assert "Der Zugang ist entzogen." in anna.get(answer.headers["location"]).text


# --- own tokens -------------------------------------------------------------------------------


def test_a_partner_issues_a_grant_token_shown_once_and_revokes_it(
    hub: Hub, paula: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    grant_id = _qualified(hub, "Tokenteam")
    token = csrf(paula, "/web/partner")
    issued = paula.post(
        "/web/partner/tokens",
        data={"csrf": token, "label": "Notebook", "scope": f"grant:{grant_id}", "expires_days": ""},
    )
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    found = re.search(r'<code id="token-secret">([^<]+)</code>', issued.text)
    assert found is not None
    secret = found.group(1)
    assert issued.text.count(secret) == 1
    api = TestClient(create_app(hub), raise_server_exceptions=False)
    bearer = {"Authorization": f"Bearer {secret}"}
    me = api.get("/api/v1/me", headers=bearer).json()
    assert me["name"] == "paula"
    assert me["scopes"] == ["grant:" + str(grant_id), "read"]
    assert api.get("/api/v1/datasets/netzlast-partner/rows", headers=bearer).status_code == 200
    assert api.get("/api/v1/datasets/netzlast-geheim/rows", headers=bearer).status_code == 404
    page = paula.get("/web/partner").text
    assert secret not in page
    assert secret not in audit_text(hub)
    assert secret not in caplog.text
    with hub.session() as session:
        mine = [t for t in tokens.list_tokens(session, "paula") if t.label == "Notebook"]
    assert len(mine) == 1
    assert mine[0].expires_at is None
    revoked = paula.post(
        f"/web/partner/tokens/{mine[0].id}/revoke",
        data={"csrf": token, "reason": "Notebook verloren"},
        follow_redirects=False,
    )
    assert revoked.headers["location"] == "/web/partner?done=token_revoked#tokens"
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_own_tokens_stay_within_what_the_user_may(hub: Hub, paula: TestClient) -> None:
    token = csrf(paula, "/web/partner")
    with hub.session() as session:
        before = len(tokens.list_tokens(session))
        anna_id = tokens.create_token(
            session, accounts.get_user(session, "anna"), actor="test"
        ).info.id
    admin_scope = paula.post(
        "/web/partner/tokens",
        data={"csrf": token, "label": "Allmacht", "scope": "admin", "expires_days": "5"},
    )
    assert admin_scope.status_code == 400
    assert 'id="error-own-token"' in admin_scope.text
    assert 'value="Allmacht"' in admin_scope.text
    other_grant = _other_teams_grant(hub)
    foreign = paula.post(
        "/web/partner/tokens", data={"csrf": token, "scope": f"grant:{other_grant}"}
    )
    assert foreign.status_code == 404
    not_mine = paula.post(f"/web/partner/tokens/{anna_id}/revoke", data={"csrf": token})
    assert not_mine.status_code == 404
    with hub.session() as session:
        assert len(tokens.list_tokens(session)) == before + 1  # only anna's, made above
        assert tokens.list_tokens(session, "anna")[-1].revoked_at is None


def _other_teams_grant(hub: Hub) -> int:
    person(hub, "olga", "partner")
    olga: Principal = who(hub, "olga")
    with hub.session() as session:
        challenges.register_team(session, olga, "Olgas Team")
        application = challenges.apply(
            session,
            olga,
            "netz",
            team="Olgas Team",
            proposal="p",
            data_needs=[{"dataset": "netzlast-partner", "why": "w"}],
        ).id
        rita = who(hub, "rita")
        challenges.score_application(session, rita, application, {"Wirkung": 5, "Machbarkeit": 5})
        grant_id = challenges.decide_application(
            session, rita, application, qualify=True, reason="ok"
        ).grant_id
    assert grant_id is not None
    return grant_id


# --- CSRF -------------------------------------------------------------------------------------


def test_every_challenge_form_refuses_a_missing_csrf_token(
    hub: Hub, paula: TestClient, anna: TestClient
) -> None:
    application = _team_applied(hub, "Csrfteam")
    audit_before = audit_text(hub)
    posts = [
        (paula, "/web/challenges/netz/team", {"name": "Ohne Token"}),
        (paula, "/web/challenges/netz/apply", {"team": "Csrfteam", "proposal": "p", "why": "w"}),
        (paula, "/web/partner/tokens", {"scope": "read"}),
        (paula, "/web/grants/1/extra", {"dataset": "netzlast-extra", "why": "w"}),
        (anna, f"/web/applications/{application}/score", {"score-0": "5", "score-1": "5"}),
        (anna, f"/web/applications/{application}/decision", {"decision": "reject", "reason": "r"}),
        (anna, "/web/extra-requests/1/decision", {"decision": "approve", "reason": "r"}),
        (anna, "/web/grants/1/revoke", {"reason": "r"}),
        (anna, "/web/challenges/netz/manage/publish", {}),
    ]
    for client, url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert audit_text(hub) == audit_before
    assert _application(hub, "Csrfteam").scores == []
