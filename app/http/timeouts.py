"""The body idle timeout: a request body that stalls is answered 408, not held open.

``BodyIdleTimeout`` is a pure ASGI middleware. While a request body is still coming, each
``receive()`` may wait at most ``timeout`` seconds, and once the body has taken
``timeout`` seconds it must average ``min_rate`` bytes a second (a client trickling a
byte a second never waits long for one chunk); past either the waiting task is
cancelled and ``receive()`` raises ``RequestTimeout`` (an ApiError), which the route's
error handler renders in the surface's error JSON. The response then says
``Connection: close``: the rest of that body is never read.

Cost on the hot path (APPEND reads a 5 MiB body in about 80 messages): no timer per
message. One timer per request is armed at the first ``receive()``; when it fires while
a ``receive()`` has waited less than ``timeout``, it is armed again for that wait's
deadline. A message costs a clock read, a length and three attribute writes. GET and HEAD carry no
body here and pass through untouched; so do the ``receive()`` calls after the last body
message (a streaming response's wait for the client's disconnect is not a stalled body).

The header timeout is the server's business (before routing): app/infra/http_protocol.py.
Measurements: docs/perf/request-timeouts.md.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import errors

__all__ = ["BodyIdleTimeout"]

_NO_BODY = frozenset({"GET", "HEAD"})
_CLOSE = (b"connection", b"close")


class _Watch:
    """One request's body: the timer, the waiting task, whether the timer fired."""

    __slots__ = (
        "done", "fired", "handle", "loop", "min_rate", "read", "receive", "since", "start",
        "task", "timeout",
    )  # fmt: skip

    def __init__(self, receive: Receive, timeout: float, min_rate: int) -> None:
        self.receive = receive
        self.timeout = timeout
        self.min_rate = min_rate
        self.loop = asyncio.get_running_loop()
        self.handle: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[object] | None = None
        self.since = 0.0  # when the current (or last) receive() began
        self.start = -1.0  # when the first one began
        self.read = 0  # body bytes received
        self.done = False  # the last body message was received
        self.fired = False

    async def __call__(self) -> Message:
        if self.done:
            return await self.receive()
        self.since = self.loop.time()
        if self.start < 0:
            self.start = self.since
        if self.handle is None:
            self.handle = self.loop.call_at(self.since + self.timeout, self._expire)
        task = self.task = asyncio.current_task()
        try:
            message = await self.receive()
        except asyncio.CancelledError:
            if self.fired and task is not None and task.uncancel() == 0:
                raise errors.RequestTimeout(
                    f"The request body stalled (more than {self.timeout:g} s without a "
                    f"chunk, or under {self.min_rate} bytes/s after {self.timeout:g} s)."
                ) from None
            raise
        finally:
            self.task = None
        self.read += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.done = True
        return message

    def _expire(self) -> None:
        self.handle = None
        task = self.task
        if task is None or self.done:
            return  # not waiting: the next receive() arms the timer again
        now = self.loop.time()
        deadline = self.since + self.timeout
        elapsed = now - self.start
        too_slow = elapsed >= self.timeout and self.read < self.min_rate * elapsed
        if now < deadline and not too_slow:
            self.handle = self.loop.call_at(min(deadline, now + self.timeout), self._expire)
            return
        self.fired = True
        task.cancel()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class BodyIdleTimeout:
    """Pure ASGI: ``receive()`` raises ``RequestTimeout`` after ``timeout`` seconds idle,
    or when the body, ``timeout`` seconds in, averages under ``min_rate`` bytes/s."""

    def __init__(self, app: ASGIApp, timeout: float, min_rate: int = 0) -> None:
        self.app = app
        self.timeout = timeout
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        watch = _Watch(receive, self.timeout, self.min_rate)

        async def send_closing(message: Message) -> None:
            if watch.fired and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
            await send(message)

        try:
            await self.app(scope, watch, send_closing)
        finally:
            watch.close()
