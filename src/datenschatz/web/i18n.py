"""Languages of the web UI: German by default, English on request.

The language comes from ``?lang=`` (which the page also remembers in a cookie), else the
``lang`` cookie, else the browser's Accept-Language, else German. Every visible string is a
key in ``i18n/<lang>.json`` or in one of its parts ``i18n/<lang>.<area>.json`` (one per area
of the UI, merged; a key defined twice is an error). A key missing in a catalog is a bug that
the tests catch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request

LANGUAGES = ("de", "en")
DEFAULT = "de"
COOKIE = "lang"
CATALOG_DIR = Path(__file__).parent / "i18n"


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOG_DIR / f"{lang}.json").read_text("utf-8"))
    for part in sorted(CATALOG_DIR.glob(f"{lang}.*.json")):
        extra: dict[str, str] = json.loads(part.read_text("utf-8"))
        twice = sorted(data.keys() & extra.keys())
        if twice:
            raise ValueError(f"web UI texts defined twice ({part.name}): {', '.join(twice)}")
        data.update(extra)
    return data


def _accepted(header: str) -> str | None:
    """The first supported language in an Accept-Language header, by quality."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def language_of(request: Request) -> tuple[str, bool]:
    """(language, chosen explicitly by ``?lang=``) for ``request``."""
    asked = request.query_params.get("lang", "").strip().lower()
    if asked in LANGUAGES:
        return asked, True
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        return cookie, False
    return _accepted(request.headers.get("accept-language", "")) or DEFAULT, False


@dataclass(frozen=True)
class Translator:
    lang: str

    def __call__(self, key: str, **values: Any) -> str:
        text = catalog(self.lang).get(key)
        if text is None:
            raise KeyError(f"web UI text {key!r} is missing in i18n/{self.lang}.json")
        return text.format(**values) if values else text

    @property
    def other(self) -> str:
        return "en" if self.lang == "de" else "de"
