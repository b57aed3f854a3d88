"""Keep a keep-alive connection usable when the service answers before the body ended.

uvicorn cannot parse the next request on a connection while the previous request's body
is still arriving: an answer sent mid-body (APPEND refused by a full disk after 1 MiB of
a 5 MiB segment) left the client's next request on that connection reset. A handler that
answers early calls ``drain_before_answering(request)``; ``DrainUnreadBody`` then reads
and drops the rest of the body (bytes counted, never kept) before the answer's first
message goes out. Past ``max_bytes`` it stops and the answer says ``Connection: close``:
a client sending more than any route takes is not worth reading.

Pure ASGI (no Starlette base class): it wraps ``receive`` only to see when the body ends.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DrainUnreadBody", "drain_before_answering"]

_FLAG = "mediastudio.drain_body"


def drain_before_answering(request: Request) -> None:
    """Ask ``DrainUnreadBody`` to read the rest of this request's body before answering."""
    request.scope[_FLAG] = True


class DrainUnreadBody:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.drained_requests = 0  # requests whose unread body was dropped (metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)  # no body to drain: STATUS stays as fast
            return
        ended = False

        async def tracked() -> Message:
            nonlocal ended
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                ended = True
            return message

        async def answer(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start" and not ended and scope.get(_FLAG):
                ended = True
                if not await self._drain(receive):
                    message = _closing(message)
            await send(message)

        await self.app(scope, tracked, answer)

    async def _drain(self, receive: Receive) -> bool:
        """Read and drop the body's rest; False when it was longer than ``max_bytes``."""
        left = self.max_bytes
        self.drained_requests += 1
        while left >= 0:
            try:
                message = await receive()
            except Exception:  # the body stalled (RequestTimeout): stop, and close
                return False
            if message["type"] != "http.request":
                return True  # the client went away: nothing left to read
            left -= len(message.get("body", b""))
            if not message.get("more_body", False):
                return left >= 0
        return False


def _closing(message: Message) -> dict[str, Any]:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
    return {**message, "headers": [*headers, (b"connection", b"close")]}
