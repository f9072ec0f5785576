"""The web UI: server-rendered pages in German and English over the same services as the API.

:func:`install` adds the pages under ``/web`` and their static files to an app, and the
web session cookie to the ways a request can authenticate (``api/deps.PRINCIPAL_LOADERS``).
"""

from __future__ import annotations

from fastapi import FastAPI

from datenschatz.api.deps import PRINCIPAL_LOADERS
from datenschatz.web import (
    assets,
    pages_account,
    pages_admin,
    pages_admin_forms,
    pages_board,
    pages_catalog,
    pages_challenge_forms,
    pages_dataset,
    pages_more,
    pages_partner,
    pages_steward,
    pages_token_forms,
    session,
)
from datenschatz.web.rendering import PREFIX


def install(app: FastAPI) -> None:
    app.include_router(pages_catalog.router)
    # before the dataset page: /web/datasets/new is a page of its own, not a slug
    app.include_router(pages_account.router)
    app.include_router(pages_dataset.router)
    app.include_router(pages_more.router)
    app.include_router(pages_steward.router)
    app.include_router(pages_board.router)
    app.include_router(pages_partner.router)
    app.include_router(pages_admin.router)
    app.include_router(pages_admin_forms.router)
    app.include_router(pages_token_forms.router)
    app.include_router(pages_challenge_forms.router)
    app.include_router(assets.router)
    if session.load_principal not in PRINCIPAL_LOADERS:
        PRINCIPAL_LOADERS.append(session.load_principal)
    app.mount(PREFIX + "/static", assets.static_files, name="web-static")
