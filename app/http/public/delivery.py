"""Public, unauthenticated delivery of processed media, in the shape of Twitter's CDN:

- photos: ``/media/<token>.<fmt>?name=<size>`` (or ``?format=<fmt>&name=<size>``; the
  legacy ``<token>.<fmt>:<size>`` works too; no name means ``medium``)
- video and GIF: ``/video/<media_key>/<token>/<W>x<H>.mp4``, ``.../preview.jpg``,
  ``.../pl/master.m3u8`` and the HLS playlists and segments it references

Responses are immutable (a reprocessed file changes its ETag), support a single byte
range (206, or 416 when unsatisfiable) and conditional requests (304). HEAD works on
every path.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from app.core import errors
from app.http.deps import ReadSessionDep, StoreDep, context_of, playback_of
from app.http.errors import v11_error_responses
from app.media import delivery
from app.media.delivery import DeliveredFile
from app.storage import ObjectStore

__all__ = ["NOSNIFF", "NOSNIFF_DOC", "router", "serve"]

router = APIRouter(tags=["delivery"])

CACHE_CONTROL = "public, max-age=31536000, immutable"
NOSNIFF = {"x-content-type-options": "nosniff"}
NOSNIFF_DOC: dict[str, Any] = {
    "X-Content-Type-Options": {
        "description": "always `nosniff`: the file is only ever its stated type",
        "required": True,
        "schema": {"type": "string", "enum": ["nosniff"]},
    }
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the whole file",
        "content": {"application/octet-stream": {}},
        "headers": NOSNIFF_DOC,
    },
    206: {
        "description": "the requested byte range (`Content-Range` says which)",
        "headers": NOSNIFF_DOC,
    },
    304: {"description": "not modified (`If-None-Match` / `If-Modified-Since` matched)"},
    416: {"description": "range not satisfiable (`Content-Range: bytes */<size>`)"},
    **v11_error_responses(404),
}


def _split_photo_name(filename: str) -> tuple[str, str | None, str | None]:
    """``<token>[.<fmt>][:<size>]`` -> token, format, size."""
    name, _, size = filename.partition(":")
    token, _, fmt = name.partition(".")
    if not _TOKEN.match(token):
        raise errors.MediaNotFound()
    return token, fmt.lower() or None, size or None


@router.get(
    "/media/{filename}",
    operation_id="delivery-photo",
    response_class=Response,
    responses=_RESPONSES,
)
@router.head("/media/{filename}", include_in_schema=False)
async def photo(
    request: Request,
    session: ReadSessionDep,
    store: StoreDep,
    filename: str,
    fmt: Annotated[str | None, Query(alias="format", description="jpg, png or webp")] = None,
    size: Annotated[
        str | None, Query(alias="name", description="thumb, small, medium, large or orig")
    ] = None,
) -> Response:
    """A photo variant, EXIF and GPS stripped. Public: the token is the secret."""
    token, url_fmt, legacy_size = _split_photo_name(filename)
    found = await delivery.find_photo(
        session, store, token=token, fmt=(fmt or url_fmt), size=size or legacy_size
    )
    return serve(request, store, found)


@router.get(
    "/video/{media_key}/{token}/{path:path}",
    operation_id="delivery-video",
    response_class=Response,
    responses=_RESPONSES,
)
@router.head("/video/{media_key}/{token}/{path:path}", include_in_schema=False)
async def video(
    request: Request,
    session: ReadSessionDep,
    store: StoreDep,
    media_key: str,
    token: str,
    path: str,
) -> Response:
    """A video or GIF rendition (`<W>x<H>.mp4`), its `preview.jpg`, or HLS
    (`pl/master.m3u8` and the playlists and `.ts` segments below `pl/`)."""
    if not _TOKEN.match(token):
        raise errors.MediaNotFound()
    found = await delivery.find_video_file(
        session, store, media_key=media_key, token=token, path=path
    )
    if _is_impression(request, path):
        await playback_of(context_of(request)).impression(media_key)
    return serve(request, store, found)


def _is_impression(request: Request, path: str) -> bool:
    """A viewer starting to load the media: the HLS master playlist, or a rendition
    from its first byte (not the Range requests that continue it)."""
    if request.method != "GET":
        return False
    if path == "pl/master.m3u8":
        return True
    span = request.headers.get("range", "")
    return path.endswith(".mp4") and (not span or span.startswith("bytes=0-"))


def serve(request: Request, store: ObjectStore, file: DeliveredFile) -> Response:
    """The response for ``file``: 200, 206, 304, 416 or a HEAD, its bytes streamed from
    ``store`` in bounded blocks."""
    headers = {
        "etag": file.etag,
        "last-modified": format_datetime(file.modified, usegmt=True),
        "cache-control": CACHE_CONTROL,
        "accept-ranges": "bytes",
        # The stored type is the served type: a browser must not sniff another one.
        **NOSNIFF,
    }
    if _not_modified(request, file):
        return Response(status_code=304, headers=headers)
    span = _byte_range(request, file)
    if span is False:
        headers["content-range"] = f"bytes */{file.size}"
        return Response(status_code=416, headers=headers)
    status = 200
    start, stop = 0, file.size
    if span is not None:
        status, (start, stop) = 206, span
        headers["content-range"] = f"bytes {start}-{stop - 1}/{file.size}"
    headers["content-length"] = str(stop - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=file.content_type)
    return StreamingResponse(
        store.read(file.key, start=start, stop=stop),
        status_code=status,
        headers=headers,
        media_type=file.content_type,
    )


def _not_modified(request: Request, file: DeliveredFile) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or file.etag in tags
    since = _http_date(request.headers.get("if-modified-since"))
    return since is not None and file.modified <= since


def _byte_range(request: Request, file: DeliveredFile) -> tuple[int, int] | Literal[False] | None:
    """``(start, stop)`` of a single satisfiable range, None to send the whole file
    (no, malformed or multiple ranges, or a stale If-Range), False when unsatisfiable."""
    header = request.headers.get("range")
    if header is None or not _if_range_holds(request, file):
        return None
    found = _RANGE.match(header.strip().replace(" ", ""))
    if found is None:
        return None
    first, last = found.groups()
    size = file.size
    if not first:
        if not last or int(last) == 0 or size == 0:
            return None if not last else False
        return max(0, size - int(last)), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    stop = min(int(last) + 1, size) if last else size
    return start, stop


def _if_range_holds(request: Request, file: DeliveredFile) -> bool:
    if_range = request.headers.get("if-range")
    if if_range is None:
        return True
    if if_range.startswith('"'):
        return if_range == file.etag
    since = _http_date(if_range)
    return since is not None and file.modified <= since


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
