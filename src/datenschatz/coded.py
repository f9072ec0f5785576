"""English service texts that carry a stable code, so that pages can show them in any language.

A warning, a check reason or a finding is an English sentence for the API, the CLI and the
logs. Made with :func:`coded`, it is still that ``str`` (everything that handles texts keeps
working), and it also carries its code and the values the sentence names. Where such texts are
stored as JSON, their codes are stored beside them (:func:`code_of`, :func:`codes_of`); the web
UI shows the catalog text of the code in the page's language. Joining coded texts with
:func:`joined` keeps every part's code; any other string operation gives a plain ``str``, whose
code is None: readers then show the English text as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Code = dict[str, Any]  # {"code": str, "params": {name: value}}


class Coded(str):
    """An English text with the codes (one per sentence) it stands for."""

    codes: tuple[Code, ...]

    def __new__(cls, text: str, codes: Iterable[Mapping[str, Any]]) -> Coded:
        made = super().__new__(cls, text)
        made.codes = tuple(
            {"code": c["code"], "params": dict(c.get("params") or {})} for c in codes
        )
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (Coded, (str(self), self.codes))


def coded(text: str, code: str, **params: Any) -> Coded:
    """The English ``text`` with its stable ``code`` and the ``params`` it names."""
    return Coded(text, [{"code": code, "params": params}])


def joined(separator: str, parts: Iterable[str]) -> str:
    """``separator.join(parts)``, coded with every part's codes when every part is coded."""
    parts = list(parts)
    text = separator.join(parts)
    if parts and all(isinstance(p, Coded) for p in parts):
        return Coded(text, [c for p in parts if isinstance(p, Coded) for c in p.codes])
    return text


def codes_of(text: object) -> list[Code]:
    """The codes of ``text`` (empty for a plain string)."""
    return [dict(c) for c in text.codes] if isinstance(text, Coded) else []


def code_of(text: object) -> Code | None:
    """The code of a one-sentence ``text``; None for a plain string."""
    codes = codes_of(text)
    return codes[0] if len(codes) == 1 else None
