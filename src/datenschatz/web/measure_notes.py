"""The warnings of a measure's evaluation in the page's language.

The analysis gives each warning an English text and a stable code with its values
(``warning_codes``); the page shows the catalog text ``measure_note.<code>``. Evaluations
stored before warnings had codes carry the English texts only: their code is recognised from
the text, and a text nothing matches is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from datenschatz.web.i18n import catalog

PREFIX = "measure_note."
# code, and the English text of evaluations stored without codes (values as named groups)
_LEGACY = (
    ("placebo_effect", re.compile(r"The placebo test at (?P<fake_start>\d{4}-\d{2}-\d{2}) ")),
    ("placebo_too_short", re.compile(r"The before period is too short for a placebo test")),
    ("pre_trend_not_parallel", re.compile(r"not move in parallel .*\(p = (?P<p_value>[\d.]+)\)")),
    ("short_after_period", re.compile(r"The after period has only (?P<days>\d+) days")),
)


@dataclass(frozen=True)
class Note:
    code: str | None
    text: str


def _value(name: str, value: Any, lang: str) -> str:
    if name == "fake_start" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return day.strftime("%d.%m.%Y" if lang == "de" else "%Y-%m-%d")
    if name == "p_value":
        text = f"{float(value):.3f}"
        return text.replace(".", ",") if lang == "de" else text
    return str(value)


def _coded(english: str, coded: Any) -> tuple[str | None, Mapping[str, Any]]:
    if isinstance(coded, Mapping) and isinstance(coded.get("code"), str):
        params = coded.get("params")
        return coded["code"], params if isinstance(params, Mapping) else {}
    for code, pattern in _LEGACY:
        found = pattern.search(english)
        if found:
            return code, found.groupdict()
    return None, {}


def measure_notes(evaluation: Mapping[str, Any], lang: str) -> list[Note]:
    """The warnings of ``evaluation`` (a stored result) as texts in ``lang``."""
    texts = catalog(lang)
    warnings = evaluation.get("warnings") or []
    codes = evaluation.get("warning_codes") or []
    notes = []
    for index, english in enumerate(warnings):
        code, params = _coded(str(english), codes[index] if index < len(codes) else None)
        text = texts.get(PREFIX + code) if code else None
        if text is not None:
            try:
                text = text.format_map({k: _value(k, v, lang) for k, v in params.items()})
            except (KeyError, IndexError, ValueError):
                text = None
        notes.append(Note(code, text if text is not None else str(english)))
    return notes
