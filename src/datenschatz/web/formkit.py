"""What the web forms share: reading a submitted form, and a form that failed.

A handler reads the form with :func:`read_form` (checking the session's CSRF token first), calls
its service, and on a service error renders its page again with a :class:`FormState`: the
form's id, the service's message and the values the user entered, so nothing typed is lost.
Templates show it with the macros of ``_forms.html``. Secrets (passwords) are never put back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from datenschatz.access.policy import Principal
from datenschatz.errors import DatenschatzError, Forbidden, InputError, Unauthorized
from datenschatz.web import session as web_session
from datenschatz.web.error_text import error_text
from datenschatz.web.i18n import language_of
from datenschatz.web.rendering import PREFIX, error_page, page

# Form fields that are never echoed back into a page.
SECRET_FIELDS = frozenset({"csrf", "password", "password2"})


def text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Submitted:
    """A submitted form: single values (stripped) and the lists of repeated fields."""

    values: dict[str, str]
    lists: dict[str, list[str]]
    secrets: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def getlist(self, name: str) -> list[str]:
        return [v for v in self.lists.get(name, []) if v]

    def kept(self) -> dict[str, Any]:
        """The values to show again after an error (lists for repeated fields)."""
        kept: dict[str, Any] = dict(self.values)
        kept.update({k: v for k, v in self.lists.items() if k in MULTI})
        return kept


# Fields a form repeats (checkboxes, multiple selects): kept as lists.
MULTI = frozenset({"scope", "dataset", "datasets", "reviewers"})


def _submitted(form: FormData) -> Submitted:
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    secrets: dict[str, str] = {}
    for key, raw in form.multi_items():
        if not isinstance(raw, str):
            continue
        if key in SECRET_FIELDS:
            secrets[key] = raw  # passwords keep their spaces and are never shown again
            continue
        value = raw.strip()
        values[key] = value
        lists.setdefault(key, []).append(value)
    return Submitted(values, lists, secrets)


async def read_form(request: Request) -> Submitted:
    """The form of a POST, after checking the session's CSRF token (401/403 otherwise)."""
    async with request.form(max_files=0) as form:
        csrf = form.get("csrf")
        # hmac.compare_digest refuses non-ASCII text with a TypeError: such a token is wrong.
        usable = csrf if isinstance(csrf, str) and csrf.isascii() else None
        web_session.check_csrf(request, usable)
        return _submitted(form)


@dataclass(frozen=True)
class FormState:
    """A form that failed: which one, why (in the page's language, with the English original
    where no text of its own exists), and what the user had entered."""

    id: str
    error: str
    values: dict[str, Any]
    parameter: str | None = None
    original: str | None = None

    @classmethod
    def of(
        cls,
        request: Request,
        form_id: str,
        exc: DatenschatzError,
        submitted: Submitted | None,
    ) -> FormState:
        parameter = exc.details.get("parameter")
        text = error_text(exc, language_of(request)[0])
        return cls(
            form_id,
            text.message,
            submitted.kept() if submitted else {},
            str(parameter) if parameter is not None else None,
            text.original,
        )


def is_access_error(exc: DatenschatzError) -> bool:
    """Not signed in, or not allowed: such errors answer an error page, not the form again."""
    return isinstance(exc, Unauthorized | Forbidden)


def positive_int(value: str, parameter: str) -> int | None:
    """A whole number above zero, or None for an empty field."""
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InputError(
            f"{parameter} must be a whole number.", key="admin.whole_number", parameter=parameter
        ) from None
    if number <= 0:
        raise InputError(
            f"{parameter} must be above zero.", key="admin.above_zero", parameter=parameter
        )
    return number


def utc_time(value: str, parameter: str, *, required: bool = True) -> datetime | None:
    """A ``datetime-local`` field (``YYYY-MM-DDTHH:MM``, or a date) read as UTC."""
    if not value:
        if required:
            raise InputError(f"Give {parameter}.", key="admin.time_missing", parameter=parameter)
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{parameter} must be a date and time (YYYY-MM-DDTHH:MM).",
            key="admin.time_invalid",
            parameter=parameter,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def render_signed_in(
    request: Request,
    principal: Principal,
    template: str,
    context: Callable[[], dict[str, Any]],
    *,
    form: FormState | None,
    http_status: int,
    done_values: Collection[str],
) -> Response:
    """A page for signed-in users built from ``context()``: the sign-in page for others, the
    error page when the context refuses; with ``form``, a failed form's error and values, else
    the ``done`` note of a form that went through (one of ``done_values``)."""
    web = web_session.current(request)
    if web is None or principal.anonymous:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    try:
        values = context()
    except DatenschatzError as exc:
        return error_page(request, exc)
    done = request.query_params.get("done", "")
    return page(
        request,
        template,
        http_status=http_status,
        csrf=web.csrf,
        form=form,
        done=done if done in done_values and form is None else None,
        **values,
    )


T = TypeVar("T")


async def submit_form(
    request: Request,
    form_id: str,
    work: Callable[[Submitted], T],
    *,
    done: Callable[[Submitted, T], Response],
    again: Callable[[Submitted, FormState, DatenschatzError], Response],
    refused: Callable[[DatenschatzError], bool] = is_access_error,
) -> Response:
    """Run a form: read it (CSRF checked), do ``work`` in a worker thread, answer ``done``.

    A service error answers the error page where the form could not be read or the error is
    ``refused`` (not signed in, not allowed), else ``again``: the page with the form's error
    (its :class:`FormState`) and the entered values, under the error's status.
    """
    submitted: Submitted | None = None
    try:
        submitted = await read_form(request)
        result = await run_in_threadpool(work, submitted)
    except DatenschatzError as exc:
        if submitted is None or refused(exc):
            return error_page(request, exc)
        return again(submitted, FormState.of(request, form_id, exc, submitted), exc)
    return done(submitted, result)
