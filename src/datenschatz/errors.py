"""The one exception hierarchy.

Every error a user can cause is a :class:`DatenschatzError` with an HTTP status, a stable
machine code and a public message. The public message never contains SQL, internal paths or
a personal value; ``details`` holds structured, safe context (file name, line, column,
parameter). Internal detail goes to the log only.

The message is English (API, CLI, logs). An error a web user meets also names a text ``key``
(``errors.<key>`` in the web UI's catalogs) and the ``params`` that text needs beyond the
details; the web UI shows that text in the page's language. ``key`` may also be set on a class.
Neither is part of the JSON error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DatenschatzError(Exception):
    """Base of every error Datenschatz raises on purpose."""

    status: int = 500
    code: str = "internal_error"
    key: str | None = None

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}
        if key is not None:
            self.key = key
        self.params: dict[str, Any] = dict(params or {})

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def __str__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.details.items() if k in _LOCATION_KEYS)
        return f"{self.message} ({where})" if where else self.message


_LOCATION_KEYS = ("file", "line", "column", "feature", "parameter", "sheet")


class ConfigError(DatenschatzError):
    """A setting is missing or invalid; the message names it."""

    code = "config_error"


class InputError(DatenschatzError):
    """The caller's input is wrong: a parameter, a file, a value."""

    status = 400
    code = "invalid_input"


class IngestError(InputError):
    """A file cannot be ingested; details name file, line, column or feature."""

    code = "ingest_failed"


class UnsupportedFormat(IngestError):
    code = "unsupported_format"
    status = 415


class TooLarge(IngestError):
    code = "too_large"
    status = 413


class NotFound(DatenschatzError):
    status = 404
    code = "not_found"


class Conflict(DatenschatzError):
    status = 409
    code = "conflict"


class Unauthorized(DatenschatzError):
    """No or invalid credentials where credentials are needed."""

    status = 401
    code = "unauthorized"


class Forbidden(DatenschatzError):
    """The caller may see the thing but not do this to it. Hidden things raise NotFound."""

    status = 403
    code = "forbidden"


class Gone(DatenschatzError):
    """The thing existed and was withdrawn; details carry the public reason."""

    status = 410
    code = "gone"


class RateLimited(DatenschatzError):
    """Too many requests; ``retry_after`` (seconds) goes into the Retry-After header."""

    status = 429
    code = "rate_limited"
    key = "rate_limited"


class CheckFailed(DatenschatzError):
    """An automatic check refused an action (publish); details list the reasons."""

    status = 422
    code = "check_failed"


class StoreCorrupt(DatenschatzError):
    """The version store does not match the catalog (hash mismatch, missing file)."""

    code = "store_corrupt"


class QueryTimeout(InputError):
    """A query ran past its time limit (the caller can narrow it down)."""

    code = "query_timeout"


class SqlError(InputError):
    """The SQL failed or was refused; the message says why, never with internal paths."""

    code = "sql_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, parameter="q", **details)


class SqlForbidden(SqlError):
    """The SQL tried something the sandbox does not allow."""

    code = "sql_forbidden"


class SqlTimeout(SqlError):
    code = "sql_timeout"


class SqlMemoryLimit(SqlError):
    code = "sql_memory_limit"


class SqlBusy(DatenschatzError):
    """Every SQL worker stayed busy for as long as a query may run."""

    status = 503
    code = "sql_busy"


class SqlWorkerFailed(DatenschatzError):
    code = "sql_worker_failed"
