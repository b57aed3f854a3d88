"""The Ads API envelope (§2): ``{"request": {"params"}, "data", "next_cursor",
"total_count"}`` for answers, ``{"errors": [{"code", "message", "parameter"?}],
"request": {"params": {}}}`` for failures, on every studio path."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from app.core import errors
from app.http.responses import TwitterJSONResponse
from app.studio.errors import StudioError

__all__ = [
    "ADS_ERROR_STATUSES",
    "CURRENT_API_VERSION",
    "STUDIO_PREFIXES",
    "AdsJSONResponse",
    "ads_error_body",
    "ads_error_responses",
    "data_response",
    "is_studio_path",
    "render_ads",
]

STUDIO_PREFIXES = ("/11/", "/12/", "/studio/v1/", "/advertiser-api-async-analytics/")
_UNSET: Any = object()

# Core errors raised on a studio path (auth, rate limits, posting rules, bodies), as
# the Ads API names them (§2.3).
_CODES: dict[type[errors.ApiError], str] = {
    errors.NotAuthenticated: "UNAUTHORIZED_ACCESS",
    errors.ParameterMissing: "MISSING_PARAMETER",
    errors.InvalidParameter: "INVALID_PARAMETER",
    errors.BadParameter: "INVALID_PARAMETER",
    errors.MalformedBody: "INVALID_PARAMETER",
    errors.RateLimited: "TOO_MANY_REQUESTS",
    errors.OverCapacity: "OVER_CAPACITY",
    errors.RequestTimeout: "CANCELLED_REQUEST",
    errors.BodyTooLarge: "INVALID_PARAMETER",
    errors.StatusTooLong: "INVALID_TWEET",
    errors.DuplicateStatus: "DUPLICATE_TWEET",
    errors.InvalidMediaIds: "INVALID_MEDIA",
    errors.MediaIdNotFound: "INVALID_MEDIA",
    errors.GifNotAlone: "INVALID_MEDIA",
    errors.AttachmentTypesMixed: "INVALID_MEDIA",
    errors.Forbidden: "ACTION_NOT_ALLOWED",
    errors.UserNotFound: "USER_NOT_FOUND",
    errors.StatusNotFound: "TWEET_NOT_FOUND",
    errors.MediaNotFound: "NOT_FOUND",
}
_MESSAGES: dict[str, str] = {
    "UNAUTHORIZED_ACCESS": "This request is not properly authenticated",
}
_STATUS_CODES = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 500: "INTERNAL_ERROR"}


# What any studio route may answer besides its success (documented on every one of
# them by app/http/studio/routes.py): bad parameters, credentials, account/permission,
# unknown item, rate limits.
ADS_ERROR_STATUSES = (400, 401, 403, 404, 429)
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["errors", "request"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "parameter": {"type": "string"},
                },
            },
        },
        "request": {"type": "object"},
    },
}
_ERROR_WORDS = {
    400: "INVALID_PARAMETER, MISSING_PARAMETER, EXCLUSIVE_PARAMETERS, INVALID_MEDIA, ...",
    401: "UNAUTHORIZED_ACCESS: missing or bad credentials",
    403: "NOT_FOUND (no such account for the caller) or ACTION_NOT_ALLOWED (role)",
    404: "NOT_FOUND: no such item in this account (or ROUTE_NOT_FOUND)",
    429: "TOO_MANY_REQUESTS",
}


def ads_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the Ads error envelope."""
    return {
        status: {
            "description": f"Ads API error envelope: {_ERROR_WORDS.get(status, 'error')}",
            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
        }
        for status in statuses or ADS_ERROR_STATUSES
    }


CURRENT_API_VERSION = "12"


class AdsJSONResponse(TwitterJSONResponse):
    """Every studio answer says which Ads API version is current (§1:
    ``x-current-api-version``; ``/11/`` and ``/12/`` are served alike)."""

    def __init__(self, content: Any, status_code: int = 200, headers: Any = None) -> None:
        super().__init__(
            content,
            status_code=status_code,
            headers={**(headers or {}), "x-current-api-version": CURRENT_API_VERSION},
        )


def is_studio_path(path: str) -> bool:
    return path.startswith(STUDIO_PREFIXES)


def _code_of(error: errors.ApiError) -> str:
    if isinstance(error, StudioError):
        return error.ads_code
    for cls in type(error).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return _STATUS_CODES.get(error.http_status, "INVALID_PARAMETER")


def ads_error_body(code: str, message: str, parameter: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "message": message}
    if parameter is not None:
        item["parameter"] = parameter
    return {"errors": [item], "request": {"params": {}}}


def render_ads(error: errors.ApiError, headers: dict[str, str] | None = None) -> Response:
    code = _code_of(error)
    message = _MESSAGES.get(code, error.detail)
    body = ads_error_body(code, message, getattr(error, "parameter", None))
    return AdsJSONResponse(body, status_code=error.http_status, headers=headers)


def data_response(
    data: Any,
    *,
    params: dict[str, Any] | None = None,
    data_type: str | None = None,
    next_cursor: Any = _UNSET,
    total_count: int | None = None,
    status_code: int = 200,
) -> Response:
    """A success envelope. ``next_cursor`` is written when given (``None`` is written as
    ``null``: the collection ended); ``total_count`` only when not None."""
    body: dict[str, Any] = {"request": {"params": params or {}}}
    if data_type is not None:
        body["data_type"] = data_type
    body["data"] = data
    if next_cursor is not _UNSET:
        body["next_cursor"] = next_cursor
    if total_count is not None:
        body["total_count"] = total_count
    return AdsJSONResponse(body, status_code=status_code)
