"""Rendering pages: one Jinja environment (autoescaping everything), the page frame, errors.

Pages call :func:`page` with a template and its values; :func:`error_page` turns a
:class:`~datenschatz.errors.DatenschatzError` into a friendly HTML page with its status, in the
page's language (:mod:`datenschatz.web.error_text`); :func:`error_message` gives the same text
as one line for a form, :func:`error_json` for a script. :func:`web_error_response` is how the
app's error handlers answer a browser: an address under ``/web`` (or an address that is not
the API's, asked for as HTML) gets the error page, a page's script asking ``/web`` for JSON the
one error shape with its message in the page's language; the API keeps its JSON.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from datenschatz.access.policy import Principal
from datenschatz.errors import DatenschatzError
from datenschatz.web.error_text import error_text
from datenschatz.web.i18n import COOKIE, Translator, catalog, language_of
from datenschatz.web.measure_notes import measure_notes
from datenschatz.web.service_notes import GLOBALS as SERVICE_NOTES

TEMPLATES = Path(__file__).parent / "templates"
PREFIX = "/web"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _json_attr(value: Any) -> str:
    """JSON for a data-* attribute (the template's autoescape makes it attribute-safe)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _when(value: datetime | date | str | None, lang: str = "de") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed: datetime | date = (
                date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
            )
        except ValueError:
            return value
        value = parsed
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M" if lang == "de" else "%Y-%m-%d %H:%M")
    return value.strftime("%d.%m.%Y" if lang == "de" else "%Y-%m-%d")


def _number(value: int | float | None, lang: str = "de") -> str:
    if value is None:
        return ""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    if lang == "de":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _labels(values: list[str], t: Translator, prefix: str) -> list[str]:
    """The texts ``<prefix><value>`` of ``values`` (e.g. the open questions of a release)."""
    return [t(prefix + v) for v in values]


_env.filters["json_attr"] = _json_attr
_env.filters["when"] = _when
_env.filters["number"] = _number
_env.filters["labels"] = _labels
_env.globals["measure_notes"] = measure_notes
_env.globals.update(SERVICE_NOTES)


def url_with(request: Request, drop: tuple[str, ...] = (), **replace: Any) -> str:
    """The current page's URL with parameters ``replace``d (None removes) and ``drop``ped."""
    pairs = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in replace and k not in drop and k != "lang"
    ]
    pairs += [(k, str(v)) for k, v in replace.items() if v is not None]
    query = urlencode(pairs)
    return request.url.path + ("?" + query if query else "")


# Texts scripts show: their own, and those of the API's error codes and error locations.
CLIENT_TEXTS = ("js.", "errors.code.", "errors.label.")


def client_texts(t: Translator) -> Markup:
    """The texts scripts show (:data:`CLIENT_TEXTS`), as JSON safe inside a script element."""
    texts = {k: v for k, v in catalog(t.lang).items() if k.startswith(CLIENT_TEXTS)}
    text = json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c")
    return Markup(text)


def _signed_in(request: Request) -> bool:
    principal = getattr(request.state, "principal", None)
    return isinstance(principal, Principal) and not principal.anonymous


def page(request: Request, template: str, http_status: int = 200, **values: Any) -> HTMLResponse:
    """Render ``template`` in the request's language inside the page frame."""
    lang, explicit = language_of(request)
    t = Translator(lang)
    html = _env.get_template(template).render(
        t=t,
        lang=lang,
        request=request,
        prefix=PREFIX,
        url_with=lambda *drop, **replace: url_with(request, drop, **replace),
        switch_url=url_with(request, lang=t.other),
        client_texts=client_texts,
        signed_in=_signed_in(request),
        **values,
    )
    response = HTMLResponse(html, status_code=http_status)
    if explicit:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def error_page(request: Request, exc: DatenschatzError) -> HTMLResponse:
    """A friendly page for a service error, with its HTTP status (404, 410, 400, ...)."""
    reason = exc.details.get("reason") if exc.status == 410 else None
    return page(
        request,
        "error.html",
        http_status=exc.status,
        status_code=exc.status,
        code=exc.code,
        err=error_text(exc, language_of(request)[0]),
        reason=reason,
    )


# Where in a file: a one-line message names these (a form already shows its fields).
_IN_FILE = ("file", "member", "sheet", "line", "column", "feature")


def error_message(request: Request, exc: DatenschatzError) -> str:
    """The error as one line in the page's language, with where in a file it is."""
    lang = language_of(request)[0]
    text = error_text(exc, lang)
    texts = catalog(lang)
    labels = {texts[f"errors.label.{name}"] for name in _IN_FILE}
    where = "; ".join(f"{label}: {value}" for label, value in text.location if label in labels)
    return f"{text.message} ({where})" if where else text.message


def error_json(request: Request, exc: DatenschatzError) -> dict[str, Any]:
    """The one error shape for a page's script, its message in the page's language."""
    body = exc.to_dict()
    body["error"]["message"] = error_message(request, exc)
    return body


def _under_web(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def answers_errors(request: Request) -> bool:
    """Whether the web UI answers an error of ``request`` (see :func:`web_error_response`)."""
    return _under_web(request.url.path) or "text/html" in request.headers.get("accept", "")


def web_error_response(
    request: Request, exc: DatenschatzError, headers: dict[str, str] | None = None
) -> Response | None:
    """The web UI's answer to an error of ``request``, or None where the API answers.

    Under ``/web``: the error page with the error's status, or for a script that asks for JSON
    the one error shape in the page's language. Elsewhere: the error page for a browser asking
    for HTML (the caller keeps the API's own addresses out); None (the API's JSON) otherwise.
    """
    if not answers_errors(request):
        return None
    if _under_web(request.url.path) and _wants_json(request):
        return JSONResponse(
            error_json(request, exc), status_code=exc.status, headers=headers or None
        )
    response = error_page(request, exc)
    response.headers.update(headers or {})
    return response


def markup_paragraphs(text: str) -> Markup:
    """Plain text with blank-line paragraphs as escaped HTML paragraphs."""
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(p) for p in parts)


_env.filters["paragraphs"] = markup_paragraphs
