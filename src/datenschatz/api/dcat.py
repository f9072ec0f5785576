"""DCAT-AP.de: the catalog and each dataset as RDF (Turtle, RDF/XML, JSON-LD), Hydra-paged.

``/catalog`` answers in the format the Accept header asks for (Turtle by default);
``/catalog.ttl``, ``/catalog.rdf`` and ``/catalog.jsonld`` name it in the path, as do
``/datasets/{slug}.ttl`` and its siblings. Pages hold 100 datasets; ``modified_since``
narrows the catalog to datasets changed since then (for incremental harvesting).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from datenschatz import events
from datenschatz.access.policy import Principal
from datenschatz.api.cache import ResponseCache
from datenschatz.api.deps import get_principal, get_session
from datenschatz.api.http import etag_for, matches
from datenschatz.catalog import dcat

router = APIRouter(tags=["dcat"])

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
PageQuery = Annotated[
    int, Query(ge=1, le=1_000_000, description="Page of the catalog, 100 datasets each.")
]
SinceQuery = Annotated[
    datetime | None,
    Query(description="Only datasets changed at or after this time (ISO 8601)."),
]

_RDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {media: {} for _fmt, media in dcat.SERIALIZATIONS.values()},
        "description": "DCAT-AP.de RDF.",
    }
}
_BY_MEDIA_TYPE = {media: suffix for suffix, (_fmt, media) in dcat.SERIALIZATIONS.items()}
_BY_MEDIA_TYPE.update({"application/x-turtle": "ttl", "application/json": "jsonld"})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _negotiate(accept: str | None) -> str:
    """The serialization the Accept header prefers most (Turtle when it names none we have)."""
    best, best_q = "ttl", -1.0
    for position, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        suffix = _BY_MEDIA_TYPE.get(media.lower())
        # among equal qualities the first listed wins
        if suffix is not None and quality > 0 and quality - position * 1e-6 > best_q:
            best, best_q = suffix, quality - position * 1e-6
    return best


def _answer(
    request: Request,
    principal: Principal,
    key: tuple[str, ...],
    build: Callable[[], bytes],
    suffix: str,
    *,
    vary: bool = False,
) -> Response:
    """The RDF answer, from the short-lived response cache when the catalog has not changed.

    The ETag is the body's digest, so If-None-Match answers 304 whenever nothing changed.
    """
    cache: ResponseCache = request.app.state.metadata_cache
    full_key = ("dcat", principal.cache_key, str(request.base_url), suffix, *key)
    entry = cache.get(full_key)
    if entry is None:
        generation = events.generation()
        body = build()
        etag = etag_for("dcat", hashlib.sha256(body).hexdigest())
        cache.put(full_key, etag, body, generation)
    else:
        etag, body = entry.etag, entry.body
    public = principal.cache_key == "anonymous"
    headers = {"ETag": etag, "Cache-Control": f"{'public' if public else 'private'}, max-age=60"}
    if vary:
        headers["Vary"] = "Accept"
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    media = dcat.SERIALIZATIONS[suffix][1]
    charset = "" if suffix == "jsonld" else "; charset=utf-8"
    return Response(body, media_type=media + charset, headers=headers)


def _catalog(
    session: Session,
    principal: Principal,
    request: Request,
    suffix: str,
    page: int,
    modified_since: datetime | None,
) -> bytes:
    result = dcat.catalog_page(
        session,
        principal,
        _base(request),
        page=page,
        modified_since=modified_since,
        suffix=suffix,
    )
    return dcat.serialize(result.graph, suffix)


@router.get(
    "/catalog",
    summary="The DCAT-AP.de catalog, in the format the Accept header asks for",
    response_class=Response,
    responses=_RDF_RESPONSES,
)
def catalog(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery = 1,
    modified_since: SinceQuery = None,
) -> Response:
    suffix = _negotiate(request.headers.get("accept"))
    return _answer(
        request,
        principal,
        ("catalog", str(page), str(modified_since)),
        lambda: _catalog(session, principal, request, suffix, page, modified_since),
        suffix,
        vary=True,
    )


def _catalog_route(suffix: str) -> Callable[..., Response]:
    def get_catalog(
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        page: PageQuery = 1,
        modified_since: SinceQuery = None,
    ) -> Response:
        return _answer(
            request,
            principal,
            ("catalog", str(page), str(modified_since)),
            lambda: _catalog(session, principal, request, suffix, page, modified_since),
            suffix,
        )

    get_catalog.__name__ = f"catalog_{suffix}"
    return get_catalog


def _dataset_route(suffix: str) -> Callable[..., Response]:
    def get_dataset_rdf(
        slug: str, request: Request, session: SessionDep, principal: PrincipalDep
    ) -> Response:
        def build() -> bytes:
            return dcat.serialize(
                dcat.dataset_graph(session, principal, slug, _base(request)), suffix
            )

        return _answer(request, principal, ("dataset", slug), build, suffix)

    get_dataset_rdf.__name__ = f"dataset_{suffix}"
    return get_dataset_rdf


for _suffix in dcat.SERIALIZATIONS:
    router.add_api_route(
        f"/catalog.{_suffix}",
        _catalog_route(_suffix),
        methods=["GET"],
        summary=f"The DCAT-AP.de catalog as {_suffix}, Hydra-paged",
        response_class=Response,
        responses=_RDF_RESPONSES,
    )
    router.add_api_route(
        f"/datasets/{{slug}}.{_suffix}",
        _dataset_route(_suffix),
        methods=["GET"],
        summary=f"One dataset as DCAT-AP.de ({_suffix})",
        response_class=Response,
        responses=_RDF_RESPONSES,
    )
