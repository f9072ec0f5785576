"""The FastAPI application: wiring only. Routers translate; services decide."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from datenschatz import __version__
from datenschatz.api import (
    ckan,
    errors,
    ogc,
    rest_admin,
    rest_challenges,
    rest_datasets,
    rest_measures,
    rest_metadata,
    rest_privacy,
    rest_recipes,
    rest_releases,
    rest_rows,
    rest_search,
    rest_sensors,
    rest_sql,
    rest_treatments,
)
from datenschatz.api import dcat as dcat_api
from datenschatz.api import sta as sta_api
from datenschatz.api.cache import ResponseCache
from datenschatz.api.ratelimit import RateLimitMiddleware
from datenschatz.api.requestlog import RequestLogMiddleware
from datenschatz.db.models import Dataset, DatasetStatus
from datenschatz.hub import Hub
from datenschatz.web import install as install_web


def create_app(hub: Hub | None = None) -> FastAPI:
    hub = hub or Hub.from_env()
    app = FastAPI(
        title="Datenschatz",
        version=__version__,
        description=(
            "Open data of the city and its Stadtwerke: versioned datasets, without personal data."
        ),
    )
    app.state.hub = hub
    app.state.metadata_cache = ResponseCache(hub.settings.metadata_cache_seconds)
    errors.install(app)
    app.include_router(dcat_api.router)
    app.include_router(rest_metadata.router)
    app.include_router(rest_datasets.router)
    app.include_router(rest_rows.router)
    app.include_router(rest_sql.router)
    app.include_router(ogc.router)
    app.include_router(sta_api.router)
    app.include_router(rest_search.router)
    app.include_router(ckan.router)
    app.include_router(rest_admin.router)
    app.include_router(rest_releases.router)
    app.include_router(rest_challenges.router)
    app.include_router(rest_treatments.router)
    app.include_router(rest_privacy.router)
    app.include_router(rest_measures.router)
    app.include_router(rest_recipes.router)
    app.include_router(rest_sensors.router)
    install_web(app)
    app.add_middleware(RateLimitMiddleware, settings=hub.settings)
    app.add_middleware(RequestLogMiddleware, key=hub.settings.signing_key())

    @app.get("/health", tags=["meta"], summary="Liveness and database check")
    def health() -> dict[str, str]:
        with hub.session() as session:
            session.execute(select(1))
        return {"status": "ok"}

    @app.get(
        "/",
        tags=["meta"],
        summary="What this server offers (browsers are sent to the web pages)",
        response_model=None,
    )
    def root(request: Request) -> dict[str, Any] | RedirectResponse:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/web/", status_code=307)
        with hub.session() as session:
            published = session.scalar(
                select(func.count())
                .select_from(Dataset)
                .where(Dataset.status == DatasetStatus.PUBLISHED)
            )
        return {
            "name": "Datenschatz",
            "version": __version__,
            "published_datasets": published or 0,
            "links": {
                "web": "/web/",
                "health": "/health",
                "openapi": "/openapi.json",
                "docs": "/docs",
                "catalog": "/catalog",
                "ckan": "/api/3/action/package_list",
                "ogc": "/ogc",
                "sensorthings": "/sta/v1.1",
            },
        }

    return app
