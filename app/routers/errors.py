"""Render ApiError (and framework errors) in Twitter's shapes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app import errors
from app.schemas.common import BadRequestBody, ErrorsBody, TwitterJSONResponse

__all__ = ["install_error_handlers", "render_v11", "v11_error_responses"]

log = logging.getLogger(__name__)


def render_v11(error: errors.ApiError, path: str) -> Response:
    body: dict[str, Any]
    if error.legacy_form:
        body = {"request": path, "error": error.detail, **error.extra}
    else:
        item: dict[str, Any] = {"code": error.twitter_code, "message": error.detail}
        body = {"errors": [{**item, **error.extra}]}
    headers = (
        {"www-authenticate": 'OAuth realm="Media Studio API"'} if error.http_status == 401 else None
    )
    return TwitterJSONResponse(body, status_code=error.http_status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ApiError)
    return render_v11(exc, request.url.path)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    name = str(first.get("loc", ("", "parameter"))[-1])
    if first.get("type") == "missing":
        return render_v11(errors.ParameterMissing(name), request.url.path)
    return render_v11(errors.BadParameter(f"{name} parameter is invalid."), request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render_v11(errors.MediaNotFound(), request.url.path)
    body = {"errors": [{"code": exc.status_code, "message": str(exc.detail)}]}
    return TwitterJSONResponse(body, status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    body = {"errors": [{"code": 131, "message": "Internal error."}]}
    return TwitterJSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


_ERROR_DOCS = {
    400: 'Bad request: `{"request","error"}` for upload validation, else `{"errors":[...]}`.',
    401: "Could not authenticate you (code 32).",
    404: "Sorry, that page does not exist (code 34).",
    429: "Rate limit exceeded (code 88).",
}


def v11_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": _ERROR_DOCS.get(status, "Error"),
            "model": BadRequestBody if status == 400 else ErrorsBody,
        }
        for status in statuses
    }
