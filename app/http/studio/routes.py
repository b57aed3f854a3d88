"""Every studio router in the app: the Ads API ones under ``/11`` and ``/12`` alike (the
OpenAPI document shows ``/11``), the service's own under ``/studio/v1``."""

from __future__ import annotations

from fastapi import FastAPI

from app.http.studio import accounts, library, members, posts, previews, versions

__all__ = ["ADS_VERSIONS", "include_studio"]

ADS_VERSIONS = ("11", "12")


def include_studio(app: FastAPI) -> None:
    for version in ADS_VERSIONS:
        for module in (accounts, library, posts, previews):
            app.include_router(
                module.router, prefix=f"/{version}", include_in_schema=version == "11"
            )
    app.include_router(members.router)
    app.include_router(previews.pages)
    versions.include_unknown_versions(app, ADS_VERSIONS)
