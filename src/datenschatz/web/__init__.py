"""The web UI: server-rendered pages in German and English over the same services as the API.

:func:`install` adds the pages under ``/web`` and their static files to an app.
"""

from __future__ import annotations

from fastapi import FastAPI

from datenschatz.web import assets, pages_catalog, pages_dataset, pages_more
from datenschatz.web.rendering import PREFIX


def install(app: FastAPI) -> None:
    app.include_router(pages_catalog.router)
    app.include_router(pages_dataset.router)
    app.include_router(pages_more.router)
    app.include_router(assets.router)
    app.mount(PREFIX + "/static", assets.static_files, name="web-static")
