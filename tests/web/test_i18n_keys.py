"""Every text in the web UI's catalogs is used: by its key, written out in a template or in the
web UI's Python or JavaScript, or under a prefix that a page completes with a value (listed
below with the reason). A text nobody shows any more is deleted, not kept "just in case"."""

from __future__ import annotations

import re
from pathlib import Path

from datenschatz.web.i18n import LANGUAGES, catalog

SRC = Path(__file__).resolve().parents[2] / "src" / "datenschatz"
WEB = SRC / "web"
# Keys a page builds from a prefix and a value, and why. The value must be one the source
# names (a quoted word in its Python, templates or scripts), so that a text for a value that
# no longer exists is found as well.
DYNAMIC = {
    "errors.": "a service error's text by its key, code, HTTP status, location or field "
    "(web/error_text.py; scripts: errors.code.* and errors.label.* in static/app.js)",
    "note.": "service texts by their stored code: checks, privacy findings, quality warnings, "
    "proposal reasons, entity names (web/service_notes.py)",
    "measure_note.": "a measure's warnings by code (web/measure_notes.py)",
    "role.": "a column's role (manage.html, review.html, dataset.html)",
    "status.": "a dataset's life-cycle status",
    "value.": "an access level",
    "question.": "a release question (technical, political, ethical)",
    "checklist.": "an item of the ethics checklist",
    "release.status.": "a release request's status",
    "challenge.status.": "a challenge's status",
    "challenge.app_status.": "an application's status",
    "challenge.done.": "what a challenge form just did (?done=...)",
    "partner.done.": "what a partner form just did (?done=...)",
    "partner.extra_status.": "the status of a request for extra data",
    "admin.done.": "what an admin form just did (?done=...)",
    "admin.scope.": "a token scope",
    "orgtype.": "an organization's type",
    "facet.": "a search facet's name",
    "sort.": "a search order",
    "metric.": "an aggregate's metric",
    "bucket.": "a time bucket of the chart",
    "audit.": "a column of the audit log",
    "create.where.": "where in a file a new dataset's upload failed",
    "create.error.": "a new dataset form's error by parameter and problem",
}


def _sources() -> str:
    files = [*WEB.rglob("*.html"), *WEB.rglob("*.py"), *WEB.rglob("*.js")]
    return "\n".join(p.read_text("utf-8") for p in sorted(files))


def _all_sources() -> str:
    files = [*SRC.rglob("*.py"), *WEB.rglob("*.html"), *WEB.rglob("*.js")]
    return "\n".join(p.read_text("utf-8") for p in sorted(files))


def _quoted(text: str, word: str) -> bool:
    return f'"{word}"' in text or f"'{word}'" in text


def _named(source: str, rest: str) -> bool:
    """Whether the source names the value that completes a dynamic key (``rest``): the whole
    rest (an error's key), its last part (a code, a status), or the two parts of
    ``<parameter>_<problem>``; a status code as a number."""
    rest = rest.removesuffix(".one")
    last = rest.split(".")[-1]
    if last.isdigit():
        return re.search(rf"\b{last}\b", source) is not None
    candidates = {rest, last, last.replace("_", " "), last.removesuffix("s")}
    if any(_quoted(source, c) for c in candidates):
        return True
    head, _, tail = last.partition("_")
    return bool(tail) and _quoted(source, head) and _quoted(source, tail)


def test_every_catalog_key_is_used() -> None:
    web, everywhere = _sources(), _all_sources()
    for prefix in DYNAMIC:
        assert _quoted(web, prefix) or f"{prefix}{{" in web or f"{prefix}'" in web, (
            f"nothing builds keys from {prefix!r} any more: remove it from DYNAMIC"
        )
    unused = []
    for lang in LANGUAGES:
        for key in catalog(lang):
            if _quoted(web, key):
                continue
            prefix = next((p for p in DYNAMIC if key.startswith(p)), None)
            if prefix is not None and _named(everywhere, key[len(prefix) :]):
                continue
            unused.append(f"{lang}: {key}")
    assert unused == [], "texts nobody shows (delete them, or list their prefix in DYNAMIC)"


def test_the_old_error_page_texts_are_gone() -> None:
    for lang in LANGUAGES:
        texts = catalog(lang)
        assert not [k for k in texts if k.startswith("error.")]
        assert "partner.token_hint" not in texts
