"""What the log lines of one request carry: its id and, once known, the caller's id.

One ``ContextVar`` holds a small mutable ``RequestInfo`` for the request being served
(set by ``app.http.requestlog.RequestLog``). Code that learns something later (the
authenticated user, in ``app.http.deps``) writes it into that object, so it is seen by
every line of the request, child contexts included (FastAPI runs sync dependencies in
copies of the context). ``app.logging.ContextFilter`` copies it onto each record.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["RequestInfo", "bind_user", "current_request"]


class RequestInfo:
    __slots__ = ("bytes_in", "bytes_out", "request_id", "status", "user_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.user_id: int | None = None
        self.status = 0
        self.bytes_in = 0
        self.bytes_out = 0


current_request: ContextVar[RequestInfo | None] = ContextVar("request_info", default=None)


def bind_user(user_id: int) -> None:
    """Record the authenticated caller of the current request (if there is one)."""
    info = current_request.get()
    if info is not None:
        info.user_id = user_id
