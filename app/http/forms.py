"""Request bodies as parameters plus one streamed media part, in constant memory.

Both ``multipart/form-data`` (python-multipart's streaming parser) and urlencoded bodies
are read incrementally. Small fields are collected as text; the ``media`` or
``media_data`` field is handed out as an async byte stream as it arrives, never spooled.
Starlette's ``request.form()`` is not used: it spools file parts to temporary files and
caps plain fields at 1 MB.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_to_bytes

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.core import errors
from app.http.json_body import body_chunks, declared_length, json_object, read_json
from app.uploads.streams import PercentDecoder, b64decode_all, b64decoded

__all__ = [
    "JSON_OVERHEAD",
    "MEDIA_FIELDS",
    "MediaPart",
    "RequestForm",
    "b64",
    "is_json",
    "json_object",
    "once",
    "open_form",
    "read_json",
    "segment_sha256_header",
    "sha256_hex",
]

MEDIA_FIELDS = ("media", "media_data")
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 200
_URLENC = "urlencoded"
# A JSON body carrying base64 media: room for the other fields around it.
JSON_OVERHEAD = 64 * 1024
# RFC 2046 5.1.1: 1 to 70 characters from bchars, the last one not a space.
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


@dataclass
class _Event:
    kind: str  # "begin" (name, headers), "data", "end"
    data: bytes = b""
    name: str = ""
    content_type: str = ""
    transfer_encoding: str = ""


@dataclass
class MediaPart:
    """The media field: ``chunks()`` yields raw bytes, base64-decoded where needed. It
    ends only once the rest of the body is parsed (``_rest``): a body cut short (no
    closing boundary) fails there, before the caller records the segment."""

    name: str
    is_base64: bool
    _raw: AsyncIterator[bytes]
    _rest: Callable[[], Awaitable[None]]

    async def chunks(self) -> AsyncIterator[bytes]:
        decoded = b64decoded(self._raw, self.name) if self.is_base64 else self._raw
        async for chunk in decoded:
            yield chunk
        await self._rest()


@dataclass
class RequestForm:
    params: dict[str, str]
    media: MediaPart | None = None
    _events: AsyncIterator[_Event] | None = None
    _pending: deque[_Event] = field(default_factory=deque)

    async def _next(self) -> _Event | None:
        if self._pending:
            return self._pending.popleft()
        if self._events is None:
            return None
        try:
            return await anext(self._events)
        except StopAsyncIteration:
            return None

    async def _read_until_media(self) -> None:
        while (event := await self._next()) is not None:
            if event.kind != "begin":
                continue
            if event.name in MEDIA_FIELDS:
                is_b64 = event.name == "media_data" or event.transfer_encoding == "base64"
                self.media = MediaPart(event.name, is_b64, self._part_data(), self.read_rest)
                return
            await self._read_field(event)

    async def _read_field(self, begin: _Event) -> None:
        name = begin.name
        value = b""
        while (event := await self._next()) is not None and event.kind == "data":
            value += event.data
            if len(value) > MAX_FIELD_BYTES:
                raise errors.BadParameter(f"{name} parameter is too long.")
        if len(self.params) >= MAX_FIELDS:
            raise errors.BadParameter("Too many parameters.")
        if begin.transfer_encoding == "urlencoded":
            value = _unquote_plus(value)
        self.params.setdefault(name, value.decode("utf-8", errors="replace"))

    async def _part_data(self) -> AsyncIterator[bytes]:
        while (event := await self._next()) is not None and event.kind == "data":
            if event.data:
                yield event.data

    async def hold_media(self, cap: int) -> AsyncIterator[bytes]:
        """For the rare client that sends the media part before the fields that say where
        it goes: hold it (at most ``cap`` decoded bytes, one segment) in memory, read the
        fields after it, then replay it."""
        assert self.media is not None
        held: list[bytes] = []
        size = 0
        async for chunk in self.media.chunks():
            size += len(chunk)
            if size > cap:
                raise errors.SegmentTooLarge(cap)
            held.append(chunk)
        await self.read_rest()
        return _replay(held)

    async def read_rest(self) -> None:
        """Collect the fields after the media part (its unread bytes are skipped)."""
        while (event := await self._next()) is not None:
            if event.kind == "begin":
                if event.name in MEDIA_FIELDS:
                    raise errors.BadParameter("Send exactly one of media or media_data.")
                await self._read_field(event)


def segment_sha256_header(request: Request) -> str | None:
    """``X-Segment-SHA256`` (APPEND, both generations): lower-case hex, or None."""
    return sha256_hex(request.headers.get("x-segment-sha256"))


def sha256_hex(value: str | None) -> str | None:
    """A SHA-256 header value as lower-case hex; None stays None."""
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise errors.BadParameter("X-Segment-SHA256 must be 64 hex digits.")
    return value


async def _replay(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _small_body(request: Request) -> bytes:
    """A body known to be small, read straight from the ASGI messages (INIT, FINALIZE:
    one message, usually); ``request.stream()`` would cost two generators per request.
    A body already read (OAuth 1.0a signs urlencoded bodies) is kept by Starlette."""
    body: bytes | None = getattr(request, "_body", None)
    if body is not None:
        return body
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise errors.BadParameter("The client closed the connection mid-body.")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _multipart_events(body: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[_Event]:
    events: deque[_Event] = deque()
    headers: dict[bytes, bytes] = {}
    header = [b"", b""]

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        headers[header[0].strip().lower()] = header[1].strip()
        header[0] = header[1] = b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        events.append(
            _Event(
                "begin",
                name=options.get(b"name", b"").decode("utf-8", "replace"),
                content_type=headers.get(b"content-type", b"").decode("latin-1"),
                transfer_encoding=headers.get(b"content-transfer-encoding", b"")
                .decode("latin-1")
                .lower(),
            )
        )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        events.append(_Event("data", data=data[start:end]))

    def on_part_end() -> None:
        events.append(_Event("end"))

    closed: list[bool] = []  # the closing boundary was seen

    def on_end() -> None:
        closed.append(True)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
            while events:
                yield events.popleft()
        parser.finalize()
    except errors.ApiError:
        raise
    except Exception as exc:  # python-multipart raises its own MultipartParseError family
        raise errors.BadParameter(f"Malformed multipart body: {exc}") from exc
    while events:
        yield events.popleft()
    if not closed:  # cut short: whatever the last part held is not to be kept
        raise errors.BadParameter("Malformed multipart body: no closing boundary.")


async def _urlencoded_events(body: AsyncIterator[bytes]) -> AsyncIterator[_Event]:
    """Split ``a=1&b=2`` as it streams; only ``media_data`` may be large."""
    buffer = b""
    name: str | None = None  # set while inside a value
    decoder: PercentDecoder | None = None
    async for chunk in body:
        buffer += chunk
        while buffer:
            if name is None:
                eq, amp = buffer.find(b"="), buffer.find(b"&")
                if amp == 0:  # an empty pair ('a=1&&b=2'): parse_qsl drops it too
                    buffer = buffer[1:]
                    continue
                if amp != -1 and (eq == -1 or amp < eq):  # a key without a value
                    yield _Event("begin", name=_unquote(buffer[:amp]), transfer_encoding=_URLENC)
                    yield _Event("end")
                    buffer = buffer[amp + 1 :]
                    continue
                if eq == -1:
                    if len(buffer) > MAX_FIELD_BYTES:
                        raise errors.BadParameter("Parameter name too long.")
                    break
                name, buffer, decoder = _unquote(buffer[:eq]), buffer[eq + 1 :], PercentDecoder()
                yield _Event("begin", name=name, transfer_encoding=_URLENC)
            amp = buffer.find(b"&")
            piece, buffer = (buffer, b"") if amp == -1 else (buffer[:amp], buffer[amp + 1 :])
            assert decoder is not None
            if name in MEDIA_FIELDS:
                yield _Event("data", data=decoder.feed(piece))
            else:
                yield _Event("data", data=piece)
            if amp == -1:
                break
            if name in MEDIA_FIELDS:
                yield _Event("data", data=decoder.finish())
            yield _Event("end")
            name = None
    if name is not None:
        if name in MEDIA_FIELDS and decoder is not None:
            yield _Event("data", data=decoder.finish())
        yield _Event("end")
    elif buffer:
        yield _Event("begin", name=_unquote(buffer), transfer_encoding=_URLENC)
        yield _Event("end")


def _utf8(latin1: str) -> str:
    return latin1.encode("latin-1").decode("utf-8", errors="replace")


def _unquote(raw: bytes) -> str:
    return _unquote_plus(raw).decode("utf-8", errors="replace")


def _unquote_plus(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))


async def open_form(request: Request, *, max_body: int | None = None) -> RequestForm:
    """Parse the query string and the body up to the media part (if any).

    The caller streams ``form.media.chunks()`` (it ends once the whole body is parsed),
    then calls ``read_rest()`` for fields that follow the media part. ``max_body`` caps
    the whole body (``BodyTooLarge``); the upload routes cap the media part instead.
    """
    query = request.scope["query_string"]  # as Starlette decodes it; the last value wins
    params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) if query else {}
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    form = RequestForm(params=params)
    body = body_chunks(request, max_body)
    if content_type == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise errors.BadParameter("multipart body without a boundary.")
        if not _BOUNDARY.fullmatch(boundary):
            raise errors.BadParameter("The multipart boundary is not 1-70 RFC 2046 characters.")
        form._events = _multipart_events(body, boundary)
    elif content_type == b"application/x-www-form-urlencoded" or (
        not content_type and request.method == "POST"
    ):
        length = declared_length(request)
        if length is not None and length <= min(MAX_FIELD_BYTES, max_body or MAX_FIELD_BYTES):
            # INIT, FINALIZE: a few short fields, parsed in one go.
            raw = await _small_body(request)
            # latin-1 keeps every byte: UTF-8 is read once the escapes are undone, as the
            # streaming path does ('\xc3%A9' is 'é' both ways).
            pairs = [(_utf8(n), _utf8(v)) for n, v in parse_qsl(
                raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")]  # fmt: skip
            if len(pairs) > MAX_FIELDS:
                raise errors.BadParameter("Too many parameters.")
            if not any(name in MEDIA_FIELDS for name, _ in pairs):
                for name, value in pairs:
                    params.setdefault(name, value)
                return form
            form._events = _urlencoded_events(_replay([raw]))
        else:
            form._events = _urlencoded_events(body)
    await form._read_until_media()
    return form


def is_json(request: Request) -> bool:
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == b"application/json"


def b64(data: str) -> bytes:
    """Base64 (v2 JSON ``media``) by the one rule of ``media_data`` (streams.Base64Decoder:
    whitespace and the URL-safe alphabet taken, padding only at the end); else a 400."""
    return b64decode_all(data, "media")


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data
