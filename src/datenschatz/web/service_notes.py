"""Service texts on web pages in the page's language: release checks, privacy findings, quality
warnings and the reasons of role proposals.

The services write these texts in English (API, CLI, logs) and store beside them a stable code
per sentence with the values it names (:mod:`datenschatz.coded`): a release check's
``reason_codes``, a privacy report's ``reason_codes`` and ``note_codes``, a quality report's
``warning_codes`` and a column's ``message_codes``. A page shows the catalog text
``note.<code>`` (``note.<code>.one`` where the sentence's ``count`` is 1), filled in with the
values shown in the page's language. The reason of a role proposal is read back from its text
(:func:`datenschatz.privacy.roles.reason_code`) and shown as ``note.proposal.<code>``.

What was stored before codes existed, or a text whose code has no catalog text, is shown in
English as it is: nothing a steward needs is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from datenschatz.privacy.roles import reason_code
from datenschatz.services.publish import ADMIN_DECISION, ADMIN_PURPOSE
from datenschatz.web.i18n import catalog

PREFIX = "note."
# Values shown by a label of their own (``note.<kind>.<value>``, or the one named).
_ENTITY = "note.entity."
_LABELS = {"what": "note.what.", "role": "role.", "fields": "errors.field."}
_NUMBERS = frozenset({"count", "total", "k", "groups", "smallest", "version"})
# The service texts an admin's direct publish records (datenschatz publish).
_ADMIN_TEXTS = {ADMIN_PURPOSE: "note.admin_purpose", ADMIN_DECISION: "note.admin_decision"}


def _number(value: Any, lang: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return str(value)
    text = f"{value:,}"
    return text.replace(",", "\u202f") if lang == "de" else text


def _items(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def entity_label(entity: str, lang: str) -> str:
    """What a detector found (``iban``, ``person_name``), as people say it; else the name."""
    return catalog(lang).get(_ENTITY + entity, entity)


def _value(name: str, value: Any, lang: str) -> str:
    texts = catalog(lang)
    if name in ("entity", "entities"):
        return ", ".join(entity_label(e, lang) for e in _items(value))
    if name in _LABELS:
        prefix = _LABELS[name]
        return ", ".join(texts.get(prefix + v.replace(" ", "_"), v) for v in _items(value))
    if name in _NUMBERS:
        return _number(value, lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _text(key: str, params: Mapping[str, Any], lang: str) -> str | None:
    """The catalog text ``key`` filled in with ``params``; None when there is none to fill."""
    texts = catalog(lang)
    text = texts.get(f"{key}.one") if params.get("count") == 1 else None
    text = text or texts.get(key)
    if text is None:
        return None
    values = {k: _value(k, v, lang) for k, v in params.items() if v is not None}
    lines = params.get("lines")
    if isinstance(lines, list):  # the lines or rows a sentence lists, and whether there are more
        shown = ", ".join(_number(n, lang) for n in lines) + (", …" if params.get("more") else "")
        several = "s" if len(lines) > 1 else ""
        values["lines"] = shown
        values["unit"] = texts.get(f"note.unit.{params.get('unit')}{several}", "")
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError):
        return None


def _coded(code: Any) -> tuple[str, Mapping[str, Any]] | None:
    if isinstance(code, Mapping) and isinstance(code.get("code"), str):
        params = code.get("params")
        return code["code"], params if isinstance(params, Mapping) else {}
    return None


def note(english: str, code: Any, lang: str) -> str:
    """One coded sentence (``{code, params}`` or None) in ``lang``; else ``english`` as it is."""
    found = _coded(code)
    text = _text(PREFIX + found[0], found[1], lang) if found else None
    return text if text is not None else str(english)


def sentences(english: str, codes: Any, lang: str, separator: str = " ") -> str:
    """A text of one or more coded sentences (``codes``, a list) in ``lang``.

    Every sentence needs its text, or the whole stays in English (a partial translation would
    mix the two languages within one text).
    """
    if not isinstance(codes, Sequence) or isinstance(codes, str) or not codes:
        return str(english)
    parts = []
    for code in codes:
        found = _coded(code)
        text = _text(PREFIX + found[0], found[1], lang) if found else None
        if text is None:
            return str(english)
        parts.append(text)
    return separator.join(parts)


def notes(texts: Sequence[Any], codes: Any, lang: str) -> list[str]:
    """A list of texts with a parallel list of codes (missing in older stores) in ``lang``."""
    codes = codes if isinstance(codes, Sequence) and not isinstance(codes, str) else []
    return [note(str(t), codes[i] if i < len(codes) else None, lang) for i, t in enumerate(texts)]


def check_label(name: str, lang: str) -> str:
    """The name of an automatic release check (``store``, ``privacy``, ...) in ``lang``."""
    return catalog(lang).get(f"{PREFIX}check.{name}", name)


def check_reason(check: Mapping[str, Any], lang: str) -> str:
    """The reason of a recorded release check in ``lang`` (English where it has no codes)."""
    return sentences(str(check.get("reason") or ""), check.get("reason_codes"), lang)


def quality_warnings(quality: Mapping[str, Any], lang: str) -> list[str]:
    """The warnings of a version's quality report in ``lang``."""
    return notes(quality.get("warnings") or [], quality.get("warning_codes"), lang)


def column_message(column: Mapping[str, Any], lang: str) -> str:
    """A quality report column's message (its sentences joined with "; ") in ``lang``."""
    return sentences(str(column.get("message") or ""), column.get("message_codes"), lang, "; ")


def privacy_reasons(report: Mapping[str, Any], lang: str) -> list[str]:
    """Why a version does not pass the privacy gate, in ``lang``."""
    return notes(report.get("reasons") or [], report.get("reason_codes"), lang)


def privacy_notes(report: Mapping[str, Any], lang: str) -> list[str]:
    """What the privacy gate allowed and why, in ``lang``."""
    return notes(report.get("notes") or [], report.get("note_codes"), lang)


def proposal_reason(reason: str, lang: str) -> str:
    """Why the gate proposes a column's role, in ``lang`` (read back from its English text)."""
    found = reason_code(reason) if reason else None
    text = _text(f"{PREFIX}proposal.{found['code']}", found["params"], lang) if found else None
    return text if text is not None else reason


def admin_text(text: str, lang: str) -> str:
    """A release's purpose or a decision's reason; those an admin's publish records, in ``lang``."""
    key = _ADMIN_TEXTS.get(text)
    return catalog(lang)[key] if key else text


GLOBALS = {
    "admin_text": admin_text,
    "check_label": check_label,
    "check_reason": check_reason,
    "column_message": column_message,
    "entity_label": entity_label,
    "privacy_notes": privacy_notes,
    "privacy_reasons": privacy_reasons,
    "proposal_reason": proposal_reason,
    "quality_warnings": quality_warnings,
}
