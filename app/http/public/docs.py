"""Swagger UI at ``/docs`` and ReDoc at ``/redoc``, from local files: the assets
fastapi-offline ships (``fastapi_offline/static/``), served under ``/docs/static/``. The
pages name no outside host (no CDN, no Google Fonts, no Swagger validator badge), so the
docs work offline. ``MEDIASTUDIO_DOCS_ENABLED=false`` leaves these routes out (app.main);
``/openapi.json`` is served either way.

The asset URLs carry a digest of the file (``?v=...``), so the files are cached for a
year (``immutable``); an ``ETag`` answers revalidations with ``304``. Swagger UI keeps
what was entered under Authorize across reloads (``persistAuthorization``).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

__all__ = ["ASSETS", "STATIC_PREFIX", "router"]

STATIC_PREFIX = "/docs/static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_FOREVER = "public, max-age=31536000, immutable"
_PAGE_CACHE = "no-cache"  # the page names the current digests: always revalidate

router = APIRouter()


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    digest: str

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


@functools.cache
def _asset(name: str) -> _Asset:
    body = resources.files("fastapi_offline").joinpath("static", name).read_bytes()
    return _Asset(body, ASSETS[name], hashlib.sha256(body).hexdigest()[:16])


def _url(request: Request, name: str) -> str:
    root = request.scope.get("root_path", "")
    return f"{root}{STATIC_PREFIX}/{name}?v={_asset(name).digest}"


def _openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["cache-control"] = _PAGE_CACHE
    return response


@router.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    return _page(
        get_swagger_ui_html(
            openapi_url=_openapi_url(request),
            title=f"{request.app.title} - Swagger UI",
            swagger_js_url=_url(request, "swagger-ui-bundle.js"),
            swagger_css_url=_url(request, "swagger-ui.css"),
            swagger_favicon_url=_url(request, "favicon.png"),
            # validatorUrl: no badge fetched from validator.swagger.io.
            swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        )
    )


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    return _page(
        get_redoc_html(
            openapi_url=_openapi_url(request),
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=_url(request, "redoc.standalone.js"),
            redoc_favicon_url=_url(request, "favicon.png"),
            with_google_fonts=False,
        )
    )


@router.get(STATIC_PREFIX + "/{name}", include_in_schema=False)
async def static(name: str, request: Request) -> Response:
    if name not in ASSETS:
        raise HTTPException(status_code=404)
    asset = _asset(name)
    headers = {"cache-control": _FOREVER, "etag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
