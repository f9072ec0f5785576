"""Signing in and out, the account page, and the steward's upload with a progress bar.

Sign-in checks the name and password with the governance accounts (argon2); the session lives
in a signed cookie (:mod:`datenschatz.web.session`). Every form that changes something carries
the session's CSRF token. Uploading a new version asks the access policy
(:func:`~datenschatz.access.policy.ensure_can_edit`) before a byte is stored.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from datenschatz.access.policy import Principal, ensure_can_edit, visible_datasets
from datenschatz.catalog.views import DatasetInfo
from datenschatz.db.models import Dataset
from datenschatz.errors import DatenschatzError, InputError, TooLarge, Unauthorized
from datenschatz.governance.accounts import authenticate
from datenschatz.hub import Hub
from datenschatz.ingest.model import IngestOptions
from datenschatz.ingest.pipeline import ingest_file
from datenschatz.web import session as web_session
from datenschatz.web.deps import HubDep, PrincipalDep
from datenschatz.web.rendering import PREFIX, error_page, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)
CHUNK = 1024 * 1024


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
        query = select(Dataset).where(visible_datasets(principal)).order_by(Dataset.slug)
        if not principal.is_admin:
            query = query.where(Dataset.organization_id.in_(sorted(principal.steward_org_ids)))
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


def _ingest(hub: Hub, principal: Principal, slug: str, upload: UploadFile) -> dict[str, Any]:
    with hub.session() as session:
        ensure_can_edit(session, principal, slug)
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
        info = ingest_file(hub, path, dataset=slug, options=options, actor=principal.name)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {"dataset": slug, "version": info.number, "rows": info.rows, "file": name}


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
            return JSONResponse(exc.to_dict(), status_code=exc.status)
        return error_page(request, exc)
    if wants_json:
        return JSONResponse(result, status_code=201)
    return RedirectResponse(f"{PREFIX}/account", status_code=303)
