"""Request ids and the access line: ``RequestLog``, the outermost (pure ASGI) middleware.

Each request gets an id: the client's ``X-Request-ID`` when it is sane (1-128 characters
of ``A-Z a-z 0-9 . _ : -``), else a new one (32 hex digits). It is bound for the log
lines of the request (``app.infra.logcontext``) and returned in the ``X-Request-ID``
header of every response, the 500 of an unexpected error included: ``install_request_log``
puts the middleware outside Starlette's ``ServerErrorMiddleware``.

Once the request is answered, one line on ``app.http.access``: method, route (the route's
template, ``/2/media/{media_id}``), path (never the query string; a ``token`` or
``filename`` path parameter shows as ``{token}``), status, duration_ms,
bytes_in, bytes_out, user_id (when authenticated), client. An unexpected error was logged
with its traceback by the 500 handler (``app.http.errors``); it is not raised again to
the server, which would log the same traceback a second time.

On the upload path its cost is a header scan, a ``ContextVar.set`` and, for requests with
a body, one counting wrapper around ``receive``; no logger or dict is made when the
access logger is off.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.infra.logcontext import RequestInfo, current_request

__all__ = ["RequestLog", "install_request_log"]

log = logging.getLogger("app.http.access")

_HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_NO_BODY = frozenset({"GET", "HEAD"})
# Path parameters that are capabilities (media delivery and profile image URLs): the
# access line's path shows their name instead, as the query string is never logged.
_SECRET_PARAMS = frozenset({"token", "filename"})


def _request_id(headers: Any) -> bytes:
    for name, value in headers:
        if name == _HEADER:
            if _SANE.fullmatch(value):
                return bytes(value)
            break
    return os.urandom(16).hex().encode()


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope["headers"])
        info = RequestInfo(request_id.decode())
        token = current_request.set(info)
        id_header = (_HEADER, request_id)

        async def send_with_id(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                info.status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            elif kind == "http.response.body":
                info.bytes_out += len(message.get("body", b""))
            await send(message)

        counted = receive
        if scope["method"] not in _NO_BODY:

            async def counted() -> Message:
                message = await receive()
                info.bytes_in += len(message.get("body", b""))
                return message

        try:
            await self.app(scope, counted, send_with_id)
        except Exception:
            if info.status == 0:  # nothing answered: the server answers 500 and logs it
                info.status = 500
                raise
            # ServerErrorMiddleware answered 500 and its handler logged the traceback.
        finally:
            if log.isEnabledFor(logging.INFO):
                _access_line(scope, info, start)
            current_request.reset(token)


def _access_line(scope: Scope, info: RequestInfo, start: float) -> None:
    route = scope.get("route")
    template = getattr(route, "path", None)
    client = scope.get("client")
    method, path = scope["method"], scope["path"]
    params = scope.get("path_params")
    if params and not _SECRET_PARAMS.isdisjoint(params):
        for name in _SECRET_PARAMS.intersection(params):  # the delivery URLs' keys
            path = path.replace(str(params[name]), f"{{{name}}}")
    log.info(
        "%s %s %d",
        method,
        template or path,
        info.status,
        extra={
            "method": method,
            "route": template,
            "path": path,
            "status": info.status,
            "duration_ms": round((time.perf_counter() - start) * 1000, 3),
            "bytes_in": info.bytes_in,
            "bytes_out": info.bytes_out,
            "client": client[0] if client else None,
        },
    )


def install_request_log(app: Any) -> None:
    """Make ``RequestLog`` the outermost layer of a Starlette/FastAPI ``app``, outside
    ``ServerErrorMiddleware`` (``add_middleware`` can only go inside it)."""
    build = app.build_middleware_stack

    def build_with_request_log() -> ASGIApp:
        return RequestLog(build())

    app.build_middleware_stack = build_with_request_log
