"""Ads API paths under a version this service does not serve (``/10/accounts``): 404
``{"errors": [{"code": "INVALID", "message": "Version 10 is not available."}]}``, as X
answers (§1, observed). Only the Ads surfaces (``accounts``, ``stats``) under a numeric
first segment are caught, so ``/1.1/`` and ``/2/`` keep their own 404s."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.responses import Response

from app.http.studio.envelope import AdsJSONResponse, ads_error_body

__all__ = ["include_unknown_versions"]

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


async def _not_available(version: str, rest: str) -> Response:
    body = ads_error_body("INVALID", f"Version {version} is not available.")
    return AdsJSONResponse(body, status_code=404)


def include_unknown_versions(app: FastAPI, served: tuple[str, ...]) -> None:
    """Answer every version but ``served``; call after the served routes are included.
    (Added to the app itself: ``include_router`` would rebuild the route's pattern.)"""
    app.router.add_api_route(
        "/{version}/{rest:path}", _not_available, methods=_METHODS, include_in_schema=False
    )
    route = app.router.routes[-1]
    assert isinstance(route, APIRoute)
    others = "|".join(re.escape(v) for v in served)
    # The served versions never reach this route: their unknown paths and methods keep
    # the ordinary 404 ROUTE_NOT_FOUND and 405 METHOD_NOT_ALLOWED.
    route.path_regex = re.compile(
        rf"^/(?P<version>(?!(?:{others})/)[0-9]+(?:\.[0-9]+)?)"
        r"/(?P<rest>(?:accounts|stats)(?:/.*)?)$"
    )
