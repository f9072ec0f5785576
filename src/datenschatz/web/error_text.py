"""Service errors in the page's language.

A :class:`~datenschatz.errors.DatenschatzError` carries an English message (for the API, the
CLI and the logs) and, where a web user meets it, a text ``key``: the page shows the catalog
text ``errors.<key>`` in its language, filled in from the error's ``params`` and from a few of
its details. An error without a key is shown as one sentence per error ``code``
(``errors.code.<code>``); on a page that is not English the English message follows as the
original, so nothing a steward needs to fix a file is lost.

The location of an error (file, archive member, sheet, line, column, feature, field,
parameter) is listed with labels in the page's language. No other detail reaches the page:
details such as ``user`` or ``dataset`` may name a person or a hidden dataset.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datenschatz.errors import DatenschatzError
from datenschatz.web.i18n import catalog

PREFIX = "errors."
# Details shown as the error's location, in this order.
LOCATION = ("file", "member", "sheet", "line", "column", "feature", "field", "parameter")
# Details a text may name besides its params (none of them can hold a personal value).
FORMAT_DETAILS = frozenset(LOCATION) | {
    "count",
    "question",
    "release",
    "retry_after",
    "scope",
    "version",
}
# Keys below these are the page's own texts, never an error's.
RESERVED = ("code.", "title.", "page.", "label.", "field.", "metadata.hint.")
# Values whose text is looked up as a field name (``errors.field.<value>``).
FIELD_NAMES = ("field", "parameter")
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class ErrorText:
    """What a page shows of an error: its title, its message, where, and the original."""

    title: str
    message: str
    location: tuple[tuple[str, str], ...]
    original: str | None


def placeholders(text: str) -> set[str]:
    """The names ``{name}`` in a catalog text."""
    return {name for _, name, _, _ in _FORMATTER.parse(text) if name}


def _bytes(value: int, lang: str) -> str:
    size, unit = float(value), "Bytes" if lang == "de" else "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if size < 1000:
            break
        size, unit = size / 1000, bigger
    text = f"{size:.0f}" if unit in ("Bytes", "bytes") or size >= 100 else f"{size:.1f}"
    if lang == "de":
        text = text.replace(".", ",")
    return f"{text}\u00a0{unit}"


def _shown(name: str, value: Any, lang: str) -> str:
    texts = catalog(lang)
    if name.endswith("bytes") and isinstance(value, int):
        return _bytes(value, lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if name in FIELD_NAMES and isinstance(value, str):
        return texts.get(f"{PREFIX}field.{value}", value)
    return str(value)


def _values(exc: DatenschatzError, lang: str) -> dict[str, str]:
    values = {k: v for k, v in exc.details.items() if k in FORMAT_DETAILS}
    values.update(exc.params)
    return {k: _shown(k, v, lang) for k, v in values.items() if v is not None}


def _keyed(exc: DatenschatzError, lang: str) -> str | None:
    """The catalog text of the error's key, filled in; None without a usable key."""
    if not exc.key:
        return None
    texts = catalog(lang)
    text = texts.get(PREFIX + exc.key)
    if text is None:
        return None
    try:
        message = text.format_map(_values(exc, lang))
    except (KeyError, IndexError, ValueError):
        return None
    field = exc.details.get("field")
    hint = texts.get(f"{PREFIX}{exc.key.split('.')[0]}.hint.{field}") if field else None
    return f"{message} {hint}" if hint else message


def _location(exc: DatenschatzError, lang: str) -> tuple[tuple[str, str], ...]:
    texts = catalog(lang)
    return tuple(
        (texts[f"{PREFIX}label.{name}"], _shown(name, exc.details[name], lang))
        for name in LOCATION
        if exc.details.get(name) not in (None, "", [])
    )


def title(status: int, lang: str) -> str:
    texts: Mapping[str, str] = catalog(lang)
    return texts.get(f"{PREFIX}title.{status}") or texts[f"{PREFIX}title.other"]


def error_text(exc: DatenschatzError, lang: str) -> ErrorText:
    """The error as a page in ``lang`` shows it."""
    texts = catalog(lang)
    keyed = _keyed(exc, lang)
    original = None
    if keyed is not None:
        message = keyed
    elif lang == "en":
        message = exc.message
    else:
        fallback = texts[f"{PREFIX}code.internal_error"]
        message = texts.get(f"{PREFIX}code.{exc.code}", fallback)
        original = exc.message
    return ErrorText(title(exc.status, lang), message, _location(exc, lang), original)
