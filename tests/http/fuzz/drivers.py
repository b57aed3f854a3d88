"""Parser drivers: each parser fed a body's pieces from memory and its output gathered
(fields, bytes, or the 400's message); a real Starlette ``Request`` over ASGI messages
built from the pieces, for ``open_form``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.types import Message

from app.core import errors
from app.http.forms import (
    MEDIA_FIELDS,
    RequestForm,
    _Event,
    _multipart_events,
    _unquote_plus,
    _urlencoded_events,
    open_form,
)
from app.uploads.streams import PercentDecoder, b64decoded
from tests.fixtures.fuzzing import run
from tests.http.fuzz.strategies import feed

__all__ = [
    "Form",
    "b64_stream",
    "form_of",
    "gather",
    "multipart_parts",
    "percent_stream",
    "request_of",
    "urlencoded_pairs",
]


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


def multipart_parts(pieces: Sequence[bytes], boundary: bytes) -> list[tuple[str, bytes]] | str:
    """``_multipart_events``' parts, or the message of its 400."""
    try:
        return run(gather(_multipart_events(feed(pieces), boundary)))
    except errors.BadParameter as exc:
        return str(exc)


def urlencoded_pairs(pieces: Sequence[bytes]) -> list[tuple[str, bytes]]:
    """``_urlencoded_events``' pairs: plain fields arrive still escaped (open_form
    unquotes them whole), ``media``/``media_data`` already percent-decoded."""
    found = run(gather(_urlencoded_events(feed(pieces))))
    return [(n, v if n in MEDIA_FIELDS else _unquote_plus(v)) for n, v in found]


async def _b64(pieces: Sequence[bytes]) -> bytes:
    return b"".join([chunk async for chunk in b64decoded(feed(pieces))])


def b64_stream(pieces: Sequence[bytes]) -> bytes | None:
    """``b64decoded`` over the pieces; None for its 400."""
    try:
        return run(_b64(pieces))
    except errors.BadParameter:
        return None


def percent_stream(pieces: Sequence[bytes]) -> bytes:
    decoder = PercentDecoder()
    return b"".join(decoder.feed(piece) for piece in pieces) + decoder.finish()
