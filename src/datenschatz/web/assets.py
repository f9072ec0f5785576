"""Static files: the project's own script and style, and the npm libraries (no CDN).

The libraries come from ``web/package.json`` + ``web/package-lock.json`` at the repository
root, installed by ``make web`` (``npm ci``) into ``web/node_modules``; only the files the
pages use are served, from a fixed list.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

from datenschatz.errors import NotFound
from datenschatz.web.rendering import PREFIX

STATIC_DIR = Path(__file__).parent / "static"
REPO_NODE_MODULES = Path(__file__).resolve().parents[3] / "web" / "node_modules"

# URL name -> path below node_modules
VENDOR_FILES: dict[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "images/layers.png": "leaflet/dist/images/layers.png",
    "uplot.js": "uplot/dist/uPlot.iife.min.js",
    "uplot.css": "uplot/dist/uPlot.min.css",
}

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def vendor_dir() -> Path:
    return REPO_NODE_MODULES


def vendor_available() -> bool:
    return all((vendor_dir() / path).is_file() for path in VENDOR_FILES.values())


@router.get("/vendor/{name:path}")
def vendor(name: str) -> FileResponse:
    relative = VENDOR_FILES.get(name)
    path = vendor_dir() / relative if relative else None
    if path is None or not path.is_file():
        raise NotFound("No such file; run 'make web' to install the front-end libraries.")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


static_files = StaticFiles(directory=STATIC_DIR)
