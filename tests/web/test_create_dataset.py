"""A steward creates a new dataset from the web ("Neuer Datensatz"): the policy's organization
rule, the form's messages at their fields, and nothing created when anything is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from datenschatz.api.app import create_app
from datenschatz.db.governance_models import AuditEvent
from datenschatz.db.models import AccessLevel, Dataset, DatasetStatus, Version
from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub

PASSWORD = "ein-langes-passwort-42"
CSV = b"baumart;anzahl;hoehe\nLinde;120;12,5\nEiche;80;18,0\nAhorn;95;9,75\n"
RAGGED = b"baumart,anzahl\nLinde,120\nEiche,80,zu viel\nAhorn,95\n"
HOSTILE = "<script>alert(1)</script> Bäume"


@pytest.fixture(scope="module")
def people(web_hub: Hub) -> Hub:
    """A steward of stadt-herne, one of stadt-dortmund, and a user without a role."""
    with web_hub.session() as session:
        create_user(
            session, "anlegerin", role="steward", org="stadt-herne", password=PASSWORD, actor="t"
        )
        create_user(
            session,
            "dortmunder",
            role="steward",
            org="stadt-dortmund",
            password=PASSWORD,
            actor="t",
        )
        create_user(session, "leserin", password=PASSWORD, actor="t")
    return web_hub


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def _signed_in(hub: Hub, name: str) -> TestClient:
    client = TestClient(create_app(hub), raise_server_exceptions=False)
    form = client.get("/web/login")
    response = client.post(
        "/web/login",
        data={"name": name, "password": PASSWORD, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def _form(client: TestClient) -> str:
    response = client.get("/web/datasets/new")
    assert response.status_code == 200, response.text
    return response.text


def _post(
    client: TestClient,
    fields: dict[str, str],
    file: tuple[str, bytes] | None = ("baeume.csv", CSV),
    **kwargs: Any,
) -> Any:
    files = {"file": (file[0], file[1], "text/csv")} if file else None
    return client.post(
        "/web/datasets/new", data=fields, files=files, follow_redirects=False, **kwargs
    )


def _snapshot(hub: Hub) -> tuple[list[str], list[str], int]:
    """Dataset slugs, stored version files and the number of audit events."""
    with hub.session() as session:
        slugs = list(session.scalars(select(Dataset.slug).order_by(Dataset.slug)))
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return slugs, list(hub.store.files()), events


def _field_error(html: str, field: str) -> str:
    found = re.search(
        rf'<p class="warn" id="create-{field}-error" data-field="{field}">([^<]*)</p>', html
    )
    assert found, f"no message at the field {field}"
    return found.group(1)


def test_the_account_page_links_to_the_form_for_stewards_only(people: Hub) -> None:
    steward = _signed_in(people, "anlegerin")
    assert 'id="create-link" href="/web/datasets/new"' in steward.get("/web/account").text
    html = _form(steward)
    assert '<option value="stadt-herne" selected>' in html  # the only one: chosen already
    assert "stadt-dortmund" not in html
    for field in ("create-org", "create-title", "create-slug", "create-description", "create-file"):
        assert f'<label for="{field}">' in html
    assert '<progress id="upload-progress"' in html
    assert "/web/static/upload.js" in html
    assert "Neuer Datensatz" in html
    assert "New dataset" in steward.get("/web/datasets/new?lang=en").text
    reader = _signed_in(people, "leserin")
    assert 'id="create-link"' not in reader.get("/web/account").text
    assert reader.get("/web/datasets/new").status_code == 403


def test_steward_creates_a_draft_with_version_1_and_its_quality_report(people: Hub) -> None:
    steward = _signed_in(people, "anlegerin")
    token = _csrf(_form(steward))
    fields = {
        "csrf": token,
        "org": "stadt-herne",
        "title": "Bäume an Straßen",
        "slug": "",  # suggested from the title, as the page script does
        "description": "Straßenbäume nach Art.",
    }
    response = _post(steward, fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/web/datasets/baeume-an-strassen/manage"
    with people.session() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.slug == "baeume-an-strassen")).one()
        assert dataset.title == "Bäume an Straßen"
        assert dataset.description == "Straßenbäume nach Art."
        assert dataset.organization.slug == "stadt-herne"
        assert dataset.status is DatasetStatus.DRAFT
        assert dataset.access_level is AccessLevel.INTERNAL
        assert dataset.published_version_id is None
        versions = session.scalars(select(Version).where(Version.dataset_id == dataset.id)).all()
        assert [(v.number, v.row_count, v.created_by) for v in versions] == [(1, 3, "anlegerin")]
        assert [c["name"] for c in versions[0].quality["columns"]] == ["baumart", "anzahl", "hoehe"]
        created = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "dataset.create")
        ).all()
        assert [(e.actor, e.object_id) for e in created] == [("anlegerin", "baeume-an-strassen")]
    manage = steward.get(response.headers["location"])
    assert manage.status_code == 200
    assert "Qualitätsbericht" in manage.text
    assert "<code>hoehe</code>" in manage.text
    # a draft: not in the public catalog
    public = TestClient(create_app(people))
    assert public.get("/web/datasets/baeume-an-strassen").status_code == 404


def test_the_page_script_gets_json_with_the_manage_page(people: Hub) -> None:
    steward = _signed_in(people, "anlegerin")
    fields = {
        "csrf": _csrf(_form(steward)),
        "org": "stadt-herne",
        "title": "Bänke",
        "slug": "baenke",
    }
    response = _post(steward, fields, headers={"Accept": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json() == {
        "dataset": "baenke",
        "version": 1,
        "rows": 3,
        "file": "baeume.csv",
        "location": "/web/datasets/baenke/manage",
    }
    again = _post(steward, fields, headers={"Accept": "application/json"})
    assert again.status_code == 400
    body = again.json()
    assert body["error"]["code"] == "invalid_input"
    assert body["form"]["input"] == "create-slug"
    assert "„Bänke“" in body["form"]["text"]


def test_steward_of_another_organization_is_refused_and_nothing_is_created(people: Hub) -> None:
    other = _signed_in(people, "dortmunder")
    token = _csrf(_form(other))
    before = _snapshot(people)
    fields = {"csrf": token, "org": "stadt-herne", "title": "Fremd", "slug": "fremd"}
    response = _post(other, fields)
    assert response.status_code == 403
    assert "In dieser Organisation dürfen Sie keine Datensätze anlegen." in response.text
    assert 'value="Fremd"' in response.text  # the form keeps what was typed
    unknown = _post(other, {**fields, "org": "gibt-es-nicht"})
    assert unknown.status_code == 404
    assert "Bitte wählen Sie eine Organisation aus der Liste." in unknown.text
    assert _snapshot(people) == before
    reader = _signed_in(people, "leserin")
    account = reader.get("/web/account")
    refused = _post(reader, {**fields, "csrf": _csrf(account.text)})
    assert refused.status_code == 403
    assert _snapshot(people) == before


def test_anonymous_is_sent_to_sign_in_and_creates_nothing(people: Hub) -> None:
    anonymous = TestClient(create_app(people), raise_server_exceptions=False)
    form = anonymous.get("/web/datasets/new", follow_redirects=False)
    assert form.status_code == 303
    assert form.headers["location"] == "/web/login"
    before = _snapshot(people)
    fields = {"org": "stadt-herne", "title": "Anonym", "slug": "anonym"}
    assert _post(anonymous, fields).status_code == 401
    json = _post(anonymous, fields, headers={"Accept": "application/json"})
    assert json.status_code == 401
    assert json.json()["error"]["code"] == "unauthorized"
    steward = _signed_in(people, "anlegerin")
    assert _post(steward, fields).status_code == 403  # signed in, but without the form's token
    assert _snapshot(people) == before


def test_a_ragged_csv_is_named_with_file_and_line_and_nothing_is_created(people: Hub) -> None:
    steward = _signed_in(people, "anlegerin")
    token = _csrf(_form(steward))
    before = _snapshot(people)
    fields = {"csrf": token, "org": "stadt-herne", "title": "Schiefe Tabelle", "slug": "schief"}
    response = _post(steward, fields, file=("schief.csv", RAGGED))
    assert response.status_code == 400
    message = _field_error(response.text, "file")
    assert "Datei „schief.csv“" in message
    assert "Zeile 3" in message
    assert 'id="create-error-detail">Row has 3 fields, the header has 2.</code>' in response.text
    assert (
        'id="create-file" name="file" type="file" required'
        ' aria-describedby="create-file-error" aria-invalid="true"' in response.text
    )
    assert 'value="Schiefe Tabelle"' in response.text
    assert 'value="schief"' in response.text
    assert _snapshot(people) == before
    english = _post(steward, fields, file=("schief.csv", RAGGED), params={"lang": "en"})
    assert "file “schief.csv”, line 3" in _field_error(english.text, "file")
    assert _snapshot(people) == before
    steward.cookies.delete("lang")


def test_a_hostile_title_is_shown_as_text(people: Hub) -> None:
    steward = _signed_in(people, "anlegerin")
    token = _csrf(_form(steward))
    fields = {"csrf": token, "org": "stadt-herne", "title": HOSTILE, "slug": ""}
    kept = _post(steward, fields, file=None)
    assert kept.status_code == 400
    assert "Bitte wählen Sie eine Datei aus." in _field_error(kept.text, "file")
    assert "<script>alert(1)" not in kept.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt; Bäume"' in kept.text
    created = _post(steward, fields)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/web/datasets/script-alert-1-script-baeume/manage"
    manage = steward.get(created.headers["location"]).text
    assert "<script>alert(1)" not in manage
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bäume" in manage


def test_a_slug_in_use_is_named_taken_only_where_the_dataset_may_be_known(people: Hub) -> None:
    steward = _signed_in(people, "anlegerin")
    token = _csrf(_form(steward))
    before = _snapshot(people)
    fields = {"csrf": token, "org": "stadt-herne", "title": "Noch ein Entwurf"}
    own = _post(steward, {**fields, "slug": "entwurf"})
    assert own.status_code == 400
    assert "Den Kurznamen „entwurf“ trägt schon der Datensatz" in _field_error(own.text, "slug")
    assert 'href="/web/datasets/entwurf/upload"' in own.text  # the steward may add a version
    hidden = _post(steward, {**fields, "slug": "dortmund-entwurf"})  # another city's draft
    reserved = _post(steward, {**fields, "slug": "new"})
    assert hidden.status_code == reserved.status_code == 400
    neutral = "Dieser Kurzname ist nicht verfügbar. Bitte wählen Sie einen anderen."
    assert _field_error(hidden.text, "slug") == _field_error(reserved.text, "slug") == neutral
    assert hidden.text.replace("dortmund-entwurf", "new") == reserved.text
    bad = _post(steward, {**fields, "slug": "Kein Slug!"})
    assert bad.status_code == 400
    assert "Kleinbuchstaben" in _field_error(bad.text, "slug")
    untitled = _post(steward, {**fields, "title": "  ", "slug": "ohne-titel"})
    assert untitled.status_code == 400
    assert _field_error(untitled.text, "title") == "Bitte geben Sie einen Titel an."
    assert _snapshot(people) == before
    # a public dataset of another organization: taken, but no upload link
    other = _signed_in(people, "dortmunder")
    public = _post(
        other,
        {
            "csrf": _csrf(_form(other)),
            "org": "stadt-dortmund",
            "title": "Luft",
            "slug": "luftmessung",
        },
    )
    assert public.status_code == 400
    assert "„Luftmessung“" in _field_error(public.text, "slug")
    assert "/web/datasets/luftmessung/upload" not in public.text
    assert _snapshot(people) == before
