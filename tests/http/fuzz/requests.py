"""Parser drivers: a real Starlette ``Request`` over ASGI messages built from pieces of a
body (what ``open_form`` reads), and the parsers' events gathered into fields."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.types import Message

from app.core import errors
from app.http.forms import RequestForm, _Event, open_form

__all__ = ["Form", "form_of", "gather", "request_of"]


def request_of(
    pieces: Sequence[bytes], content_type: str, *, content_length: bool = True
) -> Request:
    """A POST whose body arrives as one ASGI message per piece."""
    headers = [(b"content-type", content_type.encode("latin-1"))]
    if content_length:
        headers.append((b"content-length", str(sum(map(len, pieces))).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"",
        "headers": headers, "server": ("testserver", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip
    messages: list[Message] = [
        {"type": "http.request", "body": piece, "more_body": True} for piece in pieces
    ]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return Request(scope, receive)


@dataclass
class Form:
    """What the service got from a body: its fields, its media bytes, or its 400."""

    params: dict[str, str] = field(default_factory=dict)
    media: bytes | None = None
    error: str | None = None


async def form_of(request: Request) -> Form:
    """``open_form``, the media part streamed to its end, then ``read_rest`` (the order
    of every upload route)."""
    try:
        form: RequestForm = await open_form(request)
        media = None
        if form.media is not None:
            media = b"".join([chunk async for chunk in form.media.chunks()])
        await form.read_rest()
    except errors.BadParameter as exc:
        return Form(error=str(exc))
    return Form(params=form.params, media=media)


async def gather(events: AsyncIterator[_Event]) -> list[tuple[str, bytes]]:
    """The (name, bytes) of each part, from the begin/data/end events of a parser."""
    found: list[tuple[str, bytes]] = []
    open_part = False
    async for event in events:
        if event.kind == "begin":
            assert not open_part, "a part began inside another"
            found.append((event.name, b""))
            open_part = True
        elif event.kind == "data":
            assert open_part, "data outside a part"
            found[-1] = (found[-1][0], found[-1][1] + event.data)
        else:
            assert open_part, "an end without a begin"
            open_part = False
    assert not open_part, "the last part never ended"
    return found
