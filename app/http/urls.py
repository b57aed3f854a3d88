"""The service's own public URL, as the client reached it (media URLs, Location)."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["base_url"]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
