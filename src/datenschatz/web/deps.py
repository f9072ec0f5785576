"""What every page handler needs: the hub, the principal, and labels in the page language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from datenschatz.access.policy import Principal
from datenschatz.api.deps import get_hub, get_principal
from datenschatz.catalog import vocab
from datenschatz.hub import Hub

HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def theme_label(code: str, lang: str) -> str:
    theme = vocab.THEMES.get(code)
    if theme is None:
        return code
    return theme.en if lang == "en" else theme.de


def frequency_label(code: str | None, lang: str) -> str | None:
    """The update frequency: German label from the vocabulary, the EU code read aloud in English."""
    if not code:
        return None
    if lang == "de":
        return vocab.FREQUENCIES.get(code, code)
    return code.replace("_", " ").lower()
