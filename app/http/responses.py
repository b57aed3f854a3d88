"""The JSON response class of every Twitter-shaped surface."""

from __future__ import annotations

from starlette.responses import JSONResponse

__all__ = ["TwitterJSONResponse"]


class TwitterJSONResponse(JSONResponse):
    # twitter-api-v2 parses a body only when it says exactly this.
    media_type = "application/json; charset=utf-8"
