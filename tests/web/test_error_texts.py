"""Service errors on web pages: German on German pages, English on English ones.

Every ``key=`` given to an error in the source has its text in both catalogs, with no
placeholder the raise site does not fill; German pages show German texts for sign-in, CSRF,
upload and metadata errors; no personal value reaches the page.
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from datenschatz import errors
from datenschatz.errors import DatenschatzError, InputError, NotFound, RateLimited, TooLarge
from datenschatz.governance.accounts import create_user
from datenschatz.hub import Hub
from datenschatz.web.error_text import FORMAT_DETAILS, RESERVED, error_text, placeholders
from datenschatz.web.i18n import LANGUAGES, catalog

SRC = Path(__file__).resolve().parents[2] / "src" / "datenschatz"
PASSWORD = "ein-langes-passwort-42"
PERSON = "erika.mustermann@example.org"


def _error_classes() -> list[type[DatenschatzError]]:
    found: list[type[DatenschatzError]] = [DatenschatzError]
    for cls in found:
        found.extend(c for c in cls.__subclasses__() if c not in found)
    return found


def _strings(node: ast.AST, assigned: dict[str, list[ast.expr]]) -> list[str] | None:
    """The constant keys an expression can take; None if it is not made of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body, assigned), _strings(node.orelse, assigned)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Name) and node.id in assigned:
        keys: list[str] = []
        for value in assigned[node.id]:
            more = _strings(value, assigned)
            if more is None:
                return None
            keys += more
        return keys
    return None


def _assignments(function: ast.AST) -> dict[str, list[ast.expr]]:
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    return assigned


def _raise_sites() -> list[tuple[str, str, set[str] | None]]:
    """(where, key, names the site fills or None when its params are not a literal)."""
    classes = {c.__name__ for c in _error_classes()}
    sites: list[tuple[str, str, set[str] | None]] = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if name not in classes or "key" not in keywords:
                continue
            scope: ast.AST = node
            while scope in parents and not isinstance(
                scope, ast.FunctionDef | ast.AsyncFunctionDef
            ):
                scope = parents[scope]
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            keys = _strings(keywords["key"], _assignments(scope))
            assert keys is not None, f"{where}: key= must be made of string constants"
            params = keywords.get("params")
            filled: set[str] | None = set()
            if isinstance(params, ast.Dict):
                filled = {str(k.value) for k in params.keys if isinstance(k, ast.Constant)}
            elif params is not None:
                filled = None
            if filled is not None:
                filled |= set(keywords) & FORMAT_DETAILS
            sites += [(where, key, filled) for key in keys]
    return sites


SITES = _raise_sites()


def test_every_error_key_in_the_source_has_a_text_in_both_catalogs() -> None:
    assert len({key for _, key, _ in SITES}) > 80  # the scan finds the raise sites
    class_keys = [c.key for c in _error_classes() if c.key]
    assert "rate_limited" in class_keys
    for where, key, filled in [*SITES, *(("class", k, None) for k in class_keys)]:
        assert not key.startswith(RESERVED), f"{where}: {key} is a reserved name"
        for lang in LANGUAGES:
            text = catalog(lang).get("errors." + key)
            assert text is not None, f"{where}: errors.{key} missing in {lang}"
            if filled is not None:
                missing = placeholders(text) - filled
                assert not missing, f"{where}: errors.{key} ({lang}) needs {missing}"


def test_every_error_code_and_location_has_a_text() -> None:
    for lang in LANGUAGES:
        texts = catalog(lang)
        for cls in _error_classes():
            assert f"errors.code.{cls.code}" in texts, (cls.__name__, lang)
        for name in ("file", "member", "sheet", "line", "column", "feature", "field", "parameter"):
            assert f"errors.label.{name}" in texts


def test_error_texts_are_in_no_other_catalog_part() -> None:
    directory = SRC / "web" / "i18n"
    for path in directory.glob("*.json"):
        if path.name.endswith(".errors.json"):
            continue
        assert '"errors.' not in path.read_text("utf-8"), path.name


def test_a_keyed_error_is_german_with_its_place_in_the_file() -> None:
    exc = errors.IngestError(
        "Line 3 has 4 fields but the rows below it have 2; ...",
        key="ingest.header_wider",
        params={"fields": 4, "width": 2},
        file="messwerte.csv",
        line=3,
    )
    german = error_text(exc, "de")
    assert german.message.startswith("Zeile 3 hat 4 Felder, die Zeilen darunter aber nur 2.")
    assert german.location == (("Datei", "messwerte.csv"), ("Zeile", "3"))
    assert german.title == "Ungültige Anfrage"
    assert german.original is None
    english = error_text(exc, "en")
    assert english.message.startswith("Line 3 has 4 fields, but the rows below it have 2.")
    assert english.location == (("File", "messwerte.csv"), ("Line", "3"))
    assert exc.to_dict() == {
        "error": {
            "code": "ingest_failed",
            "message": "Line 3 has 4 fields but the rows below it have 2; ...",
            "details": {"file": "messwerte.csv", "line": 3},
        }
    }


def test_sizes_and_field_names_are_shown_in_the_page_language() -> None:
    too_large = TooLarge("big", key="ingest.too_large", params={"limit_bytes": 2_500_000})
    assert error_text(too_large, "de").message == (
        "Die Datei ist größer als erlaubt (höchstens 2,5\u00a0MB)."
    )
    assert error_text(too_large, "de").title == "Zu groß"
    wrong = InputError(
        "Invalid metadata field 'contact.email': not a valid e-mail address.",
        key="metadata.invalid_field",
        field="contact.email",
        parameter="contact",
    )
    text = error_text(wrong, "de")
    assert text.message == (
        "Das Feld „E-Mail-Adresse der Kontaktstelle“ ist ungültig. "
        "Bitte geben Sie eine gültige E-Mail-Adresse an."
    )
    assert ("Parameter", "Kontaktstelle") in text.location


def test_an_error_without_a_key_is_german_by_its_code_with_the_original() -> None:
    exc = InputError("Invalid parameter page: not a number.", parameter="page")
    german = error_text(exc, "de")
    assert german.message == "Eine Eingabe ist ungültig."
    assert german.location == (("Parameter", "page"),)
    assert german.original == "Invalid parameter page: not a number."
    english = error_text(exc, "en")
    assert english.message == "Invalid parameter page: not a number."
    assert english.original is None


def test_no_personal_value_reaches_the_text() -> None:
    samples = [
        NotFound("No such user.", key="account.no_user", user=PERSON),
        errors.Conflict("A user with this name exists.", key="account.name_taken", user=PERSON),
        errors.Unauthorized("Wrong user name or password.", key="auth.wrong_credentials"),
        NotFound("No such user.", user=PERSON, email=PERSON, name="Erika Mustermann"),
        RateLimited("Too many requests; try again in 7 s.", retry_after=7, token=PERSON),
    ]
    for exc in samples:
        for lang in LANGUAGES:
            text = error_text(exc, lang)
            shown = " ".join([text.message, text.original or "", *map(" ".join, text.location)])
            assert PERSON not in shown
            assert "Mustermann" not in shown
    assert error_text(samples[-1], "de").message == (
        "Zu viele Anfragen in kurzer Zeit. Bitte versuchen Sie es in 7 Sekunden noch einmal."
    )


# --- pages (both backends) ------------------------------------------------------------------


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_not_found_and_gone_pages_speak_the_page_language(client: TestClient) -> None:
    client.cookies.clear()
    missing = client.get("/web/datasets/gibt-es-nicht")
    assert missing.status_code == 404
    assert "Diesen Datensatz gibt es nicht, oder Sie dürfen ihn nicht sehen." in missing.text
    assert "gibt-es-nicht" not in _main(missing.text)
    english = client.get("/web/datasets/gibt-es-nicht?lang=en")
    assert "This dataset does not exist, or you may not see it." in english.text
    client.cookies.clear()
    gone = client.get("/web/datasets/alt")
    assert gone.status_code == 410
    assert "Dieser Datensatz wurde zurückgezogen" in gone.text
    assert "Ersetzt durch luftmessung" in gone.text


def test_a_bad_parameter_is_german_with_the_english_original_folded_away(
    client: TestClient,
) -> None:
    client.cookies.clear()
    response = client.get("/web/search?page=x")
    assert response.status_code == 400
    main = _main(response.text)
    assert "Eine Eingabe ist ungültig." in main
    assert "<dt>Parameter</dt><dd>page</dd>" in main
    assert re.search(r"<details class=\"original\"><summary>Originalmeldung \(englisch\)", main)


@pytest.fixture(scope="module")
def steward(web_hub: Hub) -> str:
    with web_hub.session() as session:
        create_user(
            session, "fehler-test", role="steward", org="stadt-herne", password=PASSWORD, actor="t"
        )
    return "fehler-test"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


@pytest.fixture
def signed_in(client: TestClient, steward: str) -> TestClient:
    client.cookies.clear()
    form = client.get("/web/login")
    done = client.post(
        "/web/login",
        data={"name": steward, "password": PASSWORD, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


def test_wrong_password_and_an_outdated_form_are_german(client: TestClient, steward: str) -> None:
    client.cookies.clear()
    form = client.get("/web/login")
    wrong = client.post(
        "/web/login",
        data={"name": steward, "password": "falsch-falsch-1", "csrf": _csrf(form.text)},
    )
    assert wrong.status_code == 401
    assert "Name oder Passwort falsch." in wrong.text
    assert steward not in _main(wrong.text).split("<form", 1)[0]
    stale = client.post("/web/login", data={"name": steward, "password": PASSWORD, "csrf": "x"})
    assert stale.status_code == 403
    assert "Das Formular ist veraltet." in _main(stale.text)
    client.cookies.clear()


def test_upload_errors_are_german_on_the_page_and_for_the_script(signed_in: TestClient) -> None:
    token = _csrf(signed_in.get("/web/datasets/entwurf/upload").text)

    def send(name: str, content: bytes, accept: str = "text/html") -> tuple[int, str]:
        response = signed_in.post(
            "/web/datasets/entwurf/upload",
            data={"csrf": token},
            files={"file": (name, content)},
            headers={"Accept": accept},
        )
        return response.status_code, response.text

    status, html = send("messwerte.csv", b"a;b;c;d\n1;2\n3;4\n5;6\n")
    assert status == 400
    main = _main(html)
    assert "Zeile 1 hat 4 Felder, die Zeilen darunter aber nur 2." in main
    assert "<dt>Datei</dt><dd>messwerte.csv</dd>" in main
    assert "<dt>Zeile</dt><dd>1</dd>" in main
    assert "Originalmeldung" not in main  # a translated text needs no original
    status, html = send("leer.csv", b"\n\n")
    assert "Die Datei ist leer oder enthält nur Leerzeilen." in _main(html)
    status, html = send("bild.bmp", b"BM" + bytes(200))
    assert status == 415
    assert "Dieses Dateiformat wird nicht unterstützt (.bmp)." in _main(html)
    status, html = send("latin.csv", "ort;wert\nMünster;1\n".encode() + b"K\xf6ln;2\n")
    assert "Kodierung" in _main(html), _main(html)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("gebiete.shp", bytes(4 * 1024 * 1024))
        for part in ("shx", "dbf", "prj"):
            archive.writestr(f"gebiete.{part}", b"x")
    status, html = send("gebiete.zip", bomb.getvalue())
    assert status == 413
    assert "ZIP-Bombe" in _main(html)
    assert "<dt>Datei im Archiv</dt><dd>gebiete.shp</dd>" in _main(html)
    status, body = send("messwerte.csv", b"a;b;c;d\n1;2\n3;4\n5;6\n", "application/json")
    assert status == 400
    assert '"code":"ingest_failed"' in body.replace(" ", "")
    assert "Zeile 1 hat 4 Felder" in body
    assert "(Datei: messwerte.csv; Zeile: 1)" in body
    english = signed_in.post(
        "/web/datasets/entwurf/upload?lang=en",
        data={"csrf": token},
        files={"file": ("leer.csv", b"\n\n")},
    )
    assert "The file is empty or contains only blank lines." in english.text
    signed_in.cookies.clear()


def test_a_form_from_another_session_is_refused_in_german(signed_in: TestClient) -> None:
    refused = signed_in.post("/web/logout", data={"csrf": "nicht-das-richtige"})
    assert refused.status_code == 403
    assert "Das Formular ist veraltet." in _main(refused.text)
    signed_in.cookies.clear()
