"""uvicorn's httptools protocol with a header timeout and a header size cap.

uvicorn (0.54) closes an idle kept-alive connection (``timeout_keep_alive``) but, once a
byte of a request came, waits for the rest of its headers forever: a client sending one
byte a second holds a connection and its buffers for as long as it likes. This subclass
arms a timer when a connection opens and when a response is done (the connection goes
idle) and cancels it when a request's headers are complete. When it fires:

- a request had begun (some of its bytes came): ``408`` with a small JSON body, then close;
- nothing of a new request came (or only the rest of a body the app answered early): close.

Headers of more than ``max_header_bytes`` (request line included; counted as the reads
that end with them incomplete, so a read of the previous body may count too) get
``431`` and close.

It runs before routing, so it knows no API surface; the JSON is the v1.1 ``errors``
form with the status as the code. The body idle timeout is the app's:
app/http/timeouts.py.

Used by ``mediastudio serve`` and ``app.serve.uvicorn_config``; with uvicorn's own CLI,
pass ``--http app.infra.http_protocol:TimedHttpToolsProtocol``. The class reads
``MEDIASTUDIO_HTTP__*`` (``get_settings().http``) unless made by ``protocol_for``.
The uvicorn internals this leans on are pinned by tests/test_private_apis.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import HttpSettings, get_settings

__all__ = ["LINGER_SECS", "TimedHttpToolsProtocol", "protocol_for"]

log = logging.getLogger(__name__)

LINGER_SECS = 2.0


def _response(status: bytes, message: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    body = json.dumps({"errors": [{"code": int(status[:3]), "message": message}]}).encode()
    head = [b"HTTP/1.1 " + status + b"\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    return b"".join(
        [
            *head,
            b"content-type: application/json; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus the header timeout and the header size cap."""

    settings: ClassVar[HttpSettings | None] = None  # None: get_settings().http

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        http = type(self).settings or get_settings().http
        self.header_timeout = http.header_timeout_secs
        self.max_header_bytes = http.max_header_bytes
        self.header_timer: asyncio.TimerHandle | None = None
        self.in_headers = False  # a request began and its headers are not complete
        self.header_bytes = 0
        self.refused = False  # answered 408/431 and closing: read nothing more

    def _arm(self) -> None:
        self._disarm()
        self.header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _refuse(self, status: bytes, message: str) -> None:
        self.refused = True
        self._disarm()
        if self.transport.is_closing():
            return
        peer = self.client[0] if self.client else None
        log.info(
            "request refused", extra={"status": int(status[:3]), "error": message, "client": peer}
        )
        self.transport.write(_response(status, message, self.server_state.default_headers))
        # A lingering close: stop writing, read (and drop) what still comes for a moment,
        # then close. Closing at once with unread bytes sends a reset, which can destroy
        # the answer before the client reads it.
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECS, self.transport.close)
        else:
            self.transport.close()

    def _headers_late(self) -> None:
        self.header_timer = None
        if self.in_headers:
            self._refuse(
                b"408 Request Timeout",
                f"Request timeout: the request headers took over {self.header_timeout:g} s.",
            )
        elif not self.transport.is_closing():
            self.refused = True
            self.transport.close()

    # uvicorn's protocol interface and parser callbacks
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        super().data_received(data)
        if not self.in_headers:
            return
        self.header_bytes += len(data)  # the whole read: at most one read over the cap
        if self.header_bytes > self.max_header_bytes:
            self._refuse(
                b"431 Request Header Fields Too Large",
                f"The request headers are over {self.max_header_bytes} bytes.",
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_headers = True
        self.header_bytes = 0

    def on_headers_complete(self) -> None:
        self.in_headers = False
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()  # idle again: the next request's headers are timed from here


def protocol_for(http: HttpSettings) -> type[TimedHttpToolsProtocol]:
    """The protocol class with these settings (for an in-process ``uvicorn.Config``; a
    class made here cannot be pickled for ``workers`` > 1: name the module's class)."""
    return type("TimedHttpToolsProtocol", (TimedHttpToolsProtocol,), {"settings": http})
