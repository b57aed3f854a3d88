"""Every studio router in the app: the Ads API ones under ``/11`` and ``/12`` alike (the
OpenAPI document shows ``/11``), the service's own under ``/studio/v1``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app.http.studio import (
    accounts,
    analytics,
    library,
    members,
    playback,
    posts,
    previews,
    stats,
    stats_jobs,
    versions,
)
from app.http.studio.envelope import ads_error_responses

__all__ = ["ADS_VERSIONS", "include_studio"]

ADS_VERSIONS = ("11", "12")


def _document_errors(router: APIRouter) -> None:
    """Every studio route documents the Ads error envelope for every status it may
    answer (a route's own entries win)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            route.responses = {**ads_error_responses(), **route.responses}


def include_studio(app: FastAPI) -> None:
    for module in (accounts, library, posts, previews, members, stats, stats_jobs, analytics):
        _document_errors(module.router)
    _document_errors(stats_jobs.files)
    for version in ADS_VERSIONS:
        for module in (accounts, library, posts, previews, stats, stats_jobs):
            app.include_router(
                module.router, prefix=f"/{version}", include_in_schema=version == "11"
            )
    app.include_router(members.router)
    app.include_router(analytics.router)
    app.include_router(playback.router)
    app.include_router(stats_jobs.files)
    app.include_router(previews.pages)
    versions.include_unknown_versions(app, ADS_VERSIONS)
