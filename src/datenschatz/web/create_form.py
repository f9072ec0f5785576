"""The "Neuer Datensatz" form: its values, and a service error as a message at its field.

The service (:mod:`datenschatz.services.datasets_create`) names the wrong parameter and the
problem in an error's details; this module turns that into a sentence in the page language
next to the field it concerns. A refused file is named with its line, column, sheet or feature
from the IngestError's details, followed by the ingest's own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from datenschatz.errors import (
    DatenschatzError,
    Forbidden,
    IngestError,
    NotFound,
    TooLarge,
    UnsupportedFormat,
)
from datenschatz.services.datasets_create import NewDataset
from datenschatz.web.i18n import Translator
from datenschatz.web.rendering import PREFIX

# The form's fields, in the order they appear, with the id of their input.
FIELD_IDS = {
    "org": "create-org",
    "title": "create-title",
    "slug": "create-slug",
    "description": "create-description",
    "file": "create-file",
}
_PROBLEMS = {
    "title": ("required", "too_long"),
    "slug": ("required", "invalid", "taken", "unavailable"),
    "description": ("too_long",),
}
_WHERE = ("line", "column", "sheet", "feature")


@dataclass(frozen=True)
class FormError:
    """One message on the form: at ``field`` (an input of FIELD_IDS) or, empty, above it."""

    field: str
    text: str
    detail: str = ""  # the service's own words, for a refused file
    link: str | None = None  # the upload page of a taken slug the steward may change

    @property
    def input_id(self) -> str | None:
        return FIELD_IDS.get(self.field)

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "input": self.input_id,
            "text": self.text,
            "detail": self.detail,
            "link": self.link,
        }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def form_values(form: FormData) -> NewDataset:
    """The text fields of a submitted form (the file is read separately)."""
    return NewDataset(
        org=_text(form.get("org")),
        title=_text(form.get("title")),
        slug=_text(form.get("slug")),
        description=_text(form.get("description")),
    )


def _megabytes(size: int, lang: str) -> str:
    text = f"{size / 1024**2:,.0f}"
    return text.replace(",", "\u202f") if lang == "de" else text


def _file_error(exc: IngestError, t: Translator, max_bytes: int) -> FormError:
    details = exc.details
    if isinstance(exc, TooLarge):
        lead = t("create.error.too_large", max=_megabytes(max_bytes, t.lang))
    elif isinstance(exc, UnsupportedFormat):
        lead = t("create.error.format")
    else:
        lead = t("create.error.file")
    where = [t(f"create.where.{k}", value=details[k]) for k in _WHERE if k in details]
    if "file" in details:
        where.insert(0, t("create.where.file", value=details["file"]))
    text = f"{lead} ({', '.join(where)})" if where else lead
    return FormError("file", text, detail=exc.message)


def form_error(exc: DatenschatzError, t: Translator, max_bytes: int) -> FormError:
    """``exc`` as a message at the form field it concerns."""
    details = exc.details
    parameter = details.get("parameter")
    problem = details.get("problem")
    if isinstance(exc, IngestError):
        return _file_error(exc, t, max_bytes)
    if parameter == "org" or "org" in details:
        if isinstance(exc, Forbidden):
            return FormError("org", t("create.error.org_forbidden"))
        if isinstance(exc, NotFound):
            return FormError("org", t("create.error.org_unknown"))
    if parameter in _PROBLEMS and problem in _PROBLEMS[parameter]:
        text = t(f"create.error.{parameter}_{problem}", **details)
        link = None
        if problem == "taken" and details.get("editable"):
            link = f"{PREFIX}/datasets/{details['dataset']}/upload"
        return FormError(str(parameter), text, link=link)
    if parameter == "file":
        return FormError("file", t("create.error.file_required"))
    return FormError("", t("create.error.other"), detail=exc.message)
