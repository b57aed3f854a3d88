"""Render ApiError (and framework errors) in Twitter's shapes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.core import errors
from app.http.deps import context_of
from app.http.drain import drain_before_answering
from app.http.responses import TwitterJSONResponse
from app.http.studio.envelope import AdsJSONResponse, ads_error_body, is_studio_path, render_ads
from app.schemas.common import BadRequestBody, ErrorsBody
from app.schemas.v2 import Problem, ProblemError
from app.storage import StorageFull
from app.studio.errors import InvalidParameter as StudioInvalid
from app.studio.errors import MissingParameter

__all__ = [
    "install_error_handlers",
    "render_v2",
    "render_v11",
    "v2_error_responses",
    "v11_error_responses",
]

log = logging.getLogger(__name__)


def _error_headers(error: errors.ApiError) -> dict[str, str] | None:
    if error.http_status == 401:
        return {"www-authenticate": 'OAuth realm="Media Studio API"'}
    if isinstance(error, errors.OutOfStorage):
        return {"retry-after": str(error.retry_after)}
    return None


def render_v11(error: errors.ApiError, path: str) -> Response:
    body: dict[str, Any]
    if error.legacy_form:
        body = {"request": path, "error": error.detail, **error.extra}
    else:
        item: dict[str, Any] = {"code": error.twitter_code, "message": error.detail}
        body = {"errors": [{**item, **error.extra}]}
    headers = _error_headers(error)
    return TwitterJSONResponse(body, status_code=error.http_status, headers=headers)


_PROBLEM_TYPES = {
    400: ("Invalid Request", "https://api.twitter.com/2/problems/invalid-request"),
    401: ("Unauthorized", "about:blank"),
    403: ("Forbidden", "https://api.twitter.com/2/problems/client-forbidden"),
    404: ("Not Found Error", "https://api.twitter.com/2/problems/resource-not-found"),
    409: ("Conflict", "https://api.twitter.com/2/problems/conflict"),
    413: ("Payload Too Large", "about:blank"),
    429: ("Too Many Requests", "about:blank"),
    503: ("Service Unavailable", "about:blank"),
}


def render_v2(error: errors.ApiError, *, parameter: str | None = None) -> Response:
    """The v2 problem form; ``errors[0]`` keeps the Twitter code and any detail fields."""
    title, kind = _PROBLEM_TYPES.get(error.http_status, ("Error", "about:blank"))
    detail = error.detail
    item = ProblemError(message=error.detail, code=error.twitter_code, **error.extra)
    if parameter is not None:
        item.parameters = {parameter: [error.detail]}
    if parameter == "media.media_ids":  # as Twitter words it (spec §5.1)
        item.message = "Your media IDs are invalid."
        detail = "One or more parameters to your request was invalid."
    problem = Problem(
        type=kind, title=title, detail=detail, status=error.http_status, errors=[item]
    )
    headers = _error_headers(error)
    # application/json, not application/problem+json: twitter-api-v2 parses only the former.
    return TwitterJSONResponse(problem.to_json(), status_code=error.http_status, headers=headers)


def _log_refusal(status: int, code: int | None, kind: str, message: str) -> None:
    """One line per refused request (4xx, and the expected 503s): its Twitter error code
    (None for the upload host's legacy form), the error's class and message."""
    log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "request refused: %s",
        message,
        extra={"status": status, "error_code": code, "error_type": kind, "error": message},
    )


def _render(request: Request, error: errors.ApiError, parameter: str | None = None) -> Response:
    _log_refusal(error.http_status, error.twitter_code, type(error).__name__, error.detail)
    if is_studio_path(request.url.path):
        response = render_ads(error, _error_headers(error))
    elif request.url.path.startswith("/2/"):
        response = render_v2(error, parameter=parameter)
    else:
        response = render_v11(error, request.url.path)
    if error.http_status in (401, 413) and _has_body(request):
        # Refused before (or while) reading the body: close rather than let the server
        # drain what the client still sends (RFC 9110 15.5.14).
        response.headers["connection"] = "close"
    return response


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return length not in (None, "0") or "transfer-encoding" in request.headers


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ApiError)
    # Posting rules name the offending parameter (v2 puts it in errors[].parameters).
    return _render(request, exc, getattr(exc, "parameter", None))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    name = str(first.get("loc", ("", "parameter"))[-1])
    if is_studio_path(request.url.path):
        missing = first.get("type") == "missing"
        studio = MissingParameter(name) if missing else StudioInvalid(name)
        return _render(request, studio, name)
    if first.get("type") == "missing":
        return _render(request, errors.ParameterMissing(name), name)
    return _render(request, errors.BadParameter(f"{name} parameter is invalid."), name)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (a path may be split over several
    routes, e.g. GET and POST ``/1.1/media/upload.json``), for a 405's ``Allow``: asked
    of the routes themselves, included routers too, one method at a time."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    studio = is_studio_path(request.url.path)
    if exc.status_code == 404 and not studio:
        return _render(request, errors.MediaNotFound())
    _log_refusal(exc.status_code, None, "HTTPException", str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    body: dict[str, Any]
    if studio:
        code = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code)
        message = "The requested resource could not be found" if exc.status_code == 404 else None
        body = ads_error_body(code or "INVALID_PARAMETER", message or str(exc.detail))
        return AdsJSONResponse(body, status_code=exc.status_code, headers=headers)
    elif request.url.path.startswith("/2/"):
        detail = str(exc.detail)
        body = {"type": "about:blank", "title": detail, "detail": detail}
        body |= {"status": exc.status_code, "errors": [{"message": detail}]}
    else:
        body = {"errors": [{"code": exc.status_code, "message": str(exc.detail)}]}
    return TwitterJSONResponse(body, status_code=exc.status_code, headers=headers)


async def _storage_full(request: Request, exc: Exception) -> Response:
    """A write found the disk full: 503 + Retry-After, and the unread body of the request
    (an APPEND refused mid-segment) is drained so the connection stays usable."""
    assert isinstance(exc, StorageFull)
    log.warning("storage full", extra={"path": request.url.path, "error": str(exc)})
    drain_before_answering(request)
    retry_after = context_of(request).settings.storage.retry_after_secs
    return _render(request, errors.OutOfStorage(retry_after))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    if is_studio_path(request.url.path):
        return AdsJSONResponse(ads_error_body("INTERNAL_ERROR", "Internal error"), 500)
    body = {"errors": [{"code": 131, "message": "Internal error."}]}
    return TwitterJSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StorageFull, _storage_full)
    app.add_exception_handler(Exception, _unexpected)


_ERROR_DOCS = {
    400: 'Bad request: `{"request","error"}` for upload validation, else `{"errors":[...]}`.',
    401: "Could not authenticate you (code 32).",
    403: "Not permitted (code 200).",
    404: "Sorry, that page does not exist (code 34).",
    409: "Conflict with the resource's state (code 409).",
    429: "Rate limit exceeded (code 88).",
    503: "Over capacity (code 130): upload bytes in flight or disk space; see Retry-After.",
}


def _headers(status: int) -> dict[str, Any]:
    if status != 503:
        return {}
    retry = {"description": "seconds to wait", "schema": {"type": "string"}, "required": True}
    return {"headers": {"Retry-After": retry}}


_V2_DOCS = {**_ERROR_DOCS, 400: "Bad request (code 38 missing, 44 invalid, 324/325 media)."}


def v2_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": f"{_V2_DOCS.get(status, 'Error')} In the v2 problem form.",
            "model": Problem,
            **_headers(status),
        }
        for status in statuses
    }


def v11_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": _ERROR_DOCS.get(status, "Error"),
            "model": BadRequestBody if status == 400 else ErrorsBody,
            **_headers(status),
        }
        for status in statuses
    }
