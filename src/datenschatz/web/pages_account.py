"""Signing in and out, the account page, and the steward's uploads with a progress bar.

Sign-in checks the name and password with the governance accounts (argon2); the session lives
in a signed cookie (:mod:`datenschatz.web.session`). Every form that changes something carries
the session's CSRF token. Uploading a new version asks the access policy
(:func:`~datenschatz.access.policy.ensure_can_edit`) before a byte is stored; creating a new
dataset ("Neuer Datensatz", ``/web/datasets/new``) goes through
:func:`~datenschatz.services.datasets_create.create_dataset`, which asks
:func:`~datenschatz.access.policy.ensure_can_create_dataset` for the chosen organization, and
leads to the steward's page of the new dataset. Both answer JSON to the page script
(``static/upload.js``), which shows the upload's progress.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from datenschatz.access.policy import (
    Principal,
    creatable_organizations,
    editable_datasets,
    ensure_can_edit,
    ensure_creatable_organizations,
)
from datenschatz.catalog.datasets import VersionInfo
from datenschatz.catalog.views import DatasetInfo
from datenschatz.db.models import Dataset
from datenschatz.errors import DatenschatzError, InputError, TooLarge, Unauthorized
from datenschatz.governance.accounts import authenticate
from datenschatz.hub import Hub
from datenschatz.ingest.model import IngestOptions
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.services.datasets_create import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    NewDataset,
    check_new_dataset,
    create_dataset,
)
from datenschatz.web import session as web_session
from datenschatz.web.create_form import FormError, form_error, form_values
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.i18n import Translator, language_of
from datenschatz.web.rendering import PREFIX, error_json, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)
CHUNK = 1024 * 1024
T = TypeVar("T")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    token = web_session.login_csrf(request)
    response = page(request, "login.html", csrf=token, failed=False, name="")
    web_session.set_login_csrf(request, response, token)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, hub: HubDep) -> Response:
    async with request.form(max_files=0) as form:
        pass
    name, password = _text(form.get("name")).strip(), _text(form.get("password"))
    try:
        web_session.check_login_csrf(request, _text(form.get("csrf")))

        def check() -> int | None:
            with hub.session() as session:
                return authenticate(session, name, password).user_id

        user_id = await run_in_threadpool(check)
    except Unauthorized:
        token = web_session.login_csrf(request)
        response = page(request, "login.html", http_status=401, csrf=token, failed=True, name=name)
        web_session.set_login_csrf(request, response, token)
        return response
    except DatenschatzError as exc:
        return error_page(request, exc)
    if user_id is None:  # pragma: no cover - authenticate returns users only
        return error_page(request, Unauthorized("Sign in first.", key="auth.sign_in_first"))
    redirect = RedirectResponse(f"{PREFIX}/account", status_code=303)
    web_session.sign_in(request, redirect, hub, user_id)
    return redirect


@router.post("/logout")
async def logout(request: Request) -> Response:
    async with request.form(max_files=0) as form:
        pass
    try:
        web_session.check_csrf(request, _text(form.get("csrf")))
    except DatenschatzError as exc:
        return error_page(request, exc)
    redirect = RedirectResponse(f"{PREFIX}/", status_code=303)
    web_session.sign_out(redirect)
    return redirect


def _editable(hub: Hub, principal: Principal) -> list[DatasetInfo]:
    """The datasets ``principal`` may upload to: their organizations' (all, for admins)."""
    with hub.session() as session:
        query = select(Dataset).where(editable_datasets(principal)).order_by(Dataset.slug)
        return [DatasetInfo.of(d) for d in session.scalars(query)]


def _signed_in(request: Request, principal: Principal) -> web_session.WebSession:
    web = web_session.current(request)
    if web is None or principal.anonymous:
        raise Unauthorized("Sign in first.", key="auth.sign_in_first")
    return web


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        web = _signed_in(request, principal)
    except Unauthorized:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    return page(
        request,
        "account.html",
        principal=principal,
        roles=sorted(r.value for r in principal.roles),
        datasets=_editable(hub, principal),
        can_create=bool(_organizations(hub, principal)),
        csrf=web.csrf,
    )


@router.get("/datasets/{slug}/upload", response_class=HTMLResponse)
def upload_form(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        web = _signed_in(request, principal)
        with hub.session() as session:
            dataset = DatasetInfo.of(ensure_can_edit(session, principal, slug))
    except Unauthorized:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    except DatenschatzError as exc:
        return error_page(request, exc)
    return page(
        request,
        "upload.html",
        dataset=dataset,
        csrf=web.csrf,
        max_bytes=hub.settings.max_upload_bytes,
    )


def _store_upload(hub: Hub, upload: UploadFile, target: Path) -> None:
    """Copy the uploaded file to ``target``, refusing more than max_upload_bytes."""
    limit = hub.settings.max_upload_bytes
    written = 0
    with target.open("wb") as out:
        upload.file.seek(0)
        while chunk := upload.file.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise TooLarge(
                    f"The file is larger than {limit} bytes.",
                    key="ingest.too_large",
                    params={"limit_bytes": limit},
                    file=upload.filename,
                )
            out.write(chunk)


def _with_upload(hub: Hub, upload: UploadFile, run: Callable[[Path, IngestOptions], T]) -> T:
    """``run`` on the uploaded file, stored under the hub's tmp_dir and removed afterwards."""
    name = Path(upload.filename or "upload").name or "upload"
    hub.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="upload-", dir=hub.settings.tmp_dir))
    try:
        path = directory / name
        _store_upload(hub, upload, path)
        options = IngestOptions(
            display_name=name,
            max_unpacked_bytes=hub.settings.max_unpacked_bytes,
            max_compression_ratio=hub.settings.max_compression_ratio,
        )
        return run(path, options)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _ingest(hub: Hub, principal: Principal, slug: str, upload: UploadFile) -> dict[str, Any]:
    with hub.session() as session:
        ensure_can_edit(session, principal, slug)

    def run(path: Path, options: IngestOptions) -> VersionInfo:
        return ingest_file(hub, path, dataset=slug, options=options, actor=principal.name)

    info = _with_upload(hub, upload, run)
    return {"dataset": slug, "version": info.number, "rows": info.rows, "file": info.source_name}


@router.post("/datasets/{slug}/upload")
async def upload(slug: str, request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        async with request.form(max_files=1) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            if principal.anonymous:
                raise Unauthorized("Sign in first.", key="auth.sign_in_first")
            upload_file = form.get("file")
            if not isinstance(upload_file, UploadFile) or not upload_file.filename:
                raise InputError("Choose a file to upload.", key="ingest.no_file", parameter="file")
            result = await run_in_threadpool(_ingest, hub, principal, slug, upload_file)
    except DatenschatzError as exc:
        if wants_json:
            return JSONResponse(error_json(request, exc), status_code=exc.status)
        return error_page(request, exc)
    if wants_json:
        return JSONResponse(result, status_code=201)
    return RedirectResponse(f"{PREFIX}/account", status_code=303)


# --- a new dataset ---------------------------------------------------------------------------


def _organizations(hub: Hub, principal: Principal) -> list[tuple[str, str]]:
    """(slug, name) of the organizations ``principal`` may create datasets in."""
    with hub.session() as session:
        return [(o.slug, o.name) for o in creatable_organizations(session, principal)]


def _create_page(
    request: Request,
    hub: Hub,
    web: web_session.WebSession,
    organizations: list[tuple[str, str]],
    values: NewDataset,
    error: FormError | None = None,
    http_status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "create.html",
        http_status=http_status,
        csrf=web.csrf,
        organizations=organizations,
        values=values,
        error=error,
        max_bytes=hub.settings.max_upload_bytes,
        max_title=MAX_TITLE,
        max_description=MAX_DESCRIPTION,
    )


@router.get("/datasets/new", response_class=HTMLResponse)
def create_form(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    try:
        web = _signed_in(request, principal)
    except Unauthorized:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    try:
        with hub.session() as session:
            found = ensure_creatable_organizations(session, principal)
    except DatenschatzError as exc:
        return error_page(request, exc)
    organizations = [(o.slug, o.name) for o in found]
    chosen = request.query_params.get("org", "")
    if chosen not in {slug for slug, _ in organizations}:
        chosen = organizations[0][0] if len(organizations) == 1 else ""
    return _create_page(request, hub, web, organizations, NewDataset(org=chosen, title=""))


def _create(hub: Hub, principal: Principal, values: NewDataset, upload: object) -> dict[str, Any]:
    """Check the form (policy first), then store the file as version 1 of the new dataset."""
    with hub.session() as session:
        new = check_new_dataset(session, principal, values)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InputError("Choose a file to upload.", key="ingest.no_file", parameter="file")

    def run(path: Path, options: IngestOptions) -> VersionInfo:
        return create_dataset(hub, principal, new, path, options=options)

    info = _with_upload(hub, upload, run)
    return {
        "dataset": info.dataset,
        "version": info.number,
        "rows": info.rows,
        "file": info.source_name,
        "location": f"{PREFIX}/datasets/{info.dataset}/manage",
    }


@router.post("/datasets/new")
async def create(request: Request, hub: HubDep, principal: PrincipalDep) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    values = NewDataset(org="", title="")
    try:
        async with request.form(max_files=1) as form:
            web_session.check_csrf(request, _text(form.get("csrf")))
            if principal.anonymous:
                raise Unauthorized("Sign in first.", key="auth.sign_in_first")
            values = form_values(form)
            result = await run_in_threadpool(_create, hub, principal, values, form.get("file"))
    except DatenschatzError as exc:
        return await _create_refused(request, hub, principal, values, exc, wants_json)
    if wants_json:
        return JSONResponse(result, status_code=201)
    return RedirectResponse(result["location"], status_code=303)


async def _create_refused(
    request: Request,
    hub: Hub,
    principal: Principal,
    values: NewDataset,
    exc: DatenschatzError,
    wants_json: bool,
) -> Response:
    """The form again with the message at its field (status of the error), for those who may
    create datasets somewhere; the error page (or the JSON error) for everyone else."""
    web = web_session.current(request)
    organizations = (
        await run_in_threadpool(_organizations, hub, principal)
        if web is not None and not isinstance(exc, Unauthorized)
        else []
    )
    if web is None or not organizations:
        if wants_json:
            return JSONResponse(exc.to_dict(), status_code=exc.status)
        return error_page(request, exc)
    error = form_error(exc, Translator(language_of(request)[0]), hub.settings.max_upload_bytes)
    if wants_json:
        return JSONResponse({**exc.to_dict(), "form": error.to_dict()}, status_code=exc.status)
    return _create_page(request, hub, web, organizations, values, error, exc.status)
