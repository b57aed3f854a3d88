"""Public delivery of processed media: map CDN-style URLs to stored objects.

Only media that succeeded and carries the URL's random ``delivery_token`` resolves;
everything else, a wrong token included, is ``MediaNotFound``, so URLs cannot be
guessed or listed. A lookup answers a storage key and its stat (size, validators),
never a path; the HTTP layer streams the bytes with ``ObjectStore.read``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.media.views import MediaView, VariantView, media_view, variant_view
from app.models import Media, MediaVariant, VariantKind
from app.storage import ObjectStore, StorageError, keys
from app.uploads.protocol import MediaKind, UploadState

__all__ = [
    "DEFAULT_PHOTO_SIZE",
    "DeliveredFile",
    "delivered_object",
    "find_photo",
    "find_video_file",
    "load_deliverable",
]

DEFAULT_PHOTO_SIZE = "medium"
PRIVATE = ("dm_image", "dm_gif", "dm_video")
_FORMAT_ALIASES = {"jpeg": "jpg"}
_HLS_FILE = re.compile(r"^pl/(\d{1,5}x\d{1,5})/(index\.m3u8|seg-\d{5}\.ts)$")
_MP4_FILE = re.compile(r"^(\d{1,5}x\d{1,5})\.mp4$")
_SUBS_FILE = re.compile(r"^pl/subs/[a-z]{2,3}(?:-[a-z0-9]{2,8})?\.(?:vtt|m3u8)$")
_CONTENT_TYPES = {".m3u8": "application/x-mpegURL", ".ts": "video/mp2t", ".vtt": "text/vtt"}


@dataclass(frozen=True, slots=True)
class DeliveredFile:
    key: str  # the object to stream
    size: int
    modified: datetime
    etag: str  # strong validator, quoted
    content_type: str


async def _media(
    session: AsyncSession, token: str, kinds: tuple[MediaKind, ...], *, allow_private: bool
) -> Media:
    query = select(Media).where(
        Media.delivery_token == token,
        Media.state == UploadState.SUCCEEDED,
        Media.kind.in_(kinds),
        Media.removed_at.is_(None),  # deleted from a library: its URLs are gone
    )
    if not allow_private:  # DM media is served only to the DM's participants
        query = query.where(or_(Media.category.is_(None), Media.category.not_in(PRIVATE)))
    media = await session.scalar(query)
    if media is None:
        raise errors.MediaNotFound()
    return media


async def _variant(
    session: AsyncSession, media_id: int, kind: VariantKind, name: str
) -> MediaVariant:
    variant = await session.scalar(
        select(MediaVariant).where(
            MediaVariant.media_id == media_id, MediaVariant.kind == kind, MediaVariant.name == name
        )
    )
    if variant is None:
        raise errors.MediaNotFound()
    return variant


async def _end_transaction(session: AsyncSession) -> None:
    """Lookups end their (read) transaction before the file streams: on SQLite every
    transaction holds the write lock, and a slow download must not hold it."""
    await session.commit()


async def _file(
    store: ObjectStore, media_id: int, relative: str, content_type: str
) -> DeliveredFile:
    return await delivered_object(store, keys.variant(media_id, relative), content_type)


async def delivered_object(store: ObjectStore, key: str, content_type: str) -> DeliveredFile:
    """An object to serve, with its validators; MediaNotFound when it is not there."""
    try:
        found = await store.stat(key)
    except StorageError:  # not found, or a key no object can have
        raise errors.MediaNotFound() from None
    return DeliveredFile(
        key=key,
        size=found.size,
        modified=found.modified,
        etag=found.etag,
        content_type=content_type,
    )


async def find_photo(
    session: AsyncSession,
    store: ObjectStore,
    *,
    token: str,
    fmt: str | None,
    size: str | None,
    allow_private: bool = False,
) -> DeliveredFile:
    """``/media/<token>.<fmt>?name=<size>``: a photo size (bare: medium). A format
    other than the stored one is not converted: it is not found."""
    media = await _media(session, token, (MediaKind.IMAGE,), allow_private=allow_private)
    variant = await _variant(session, media.id, VariantKind.PHOTO, size or DEFAULT_PHOTO_SIZE)
    if fmt is not None and not variant.path.endswith("." + _FORMAT_ALIASES.get(fmt, fmt)):
        raise errors.MediaNotFound()
    await _end_transaction(session)
    return await _file(store, media.id, variant.path, variant.content_type)


async def find_video_file(
    session: AsyncSession,
    store: ObjectStore,
    *,
    media_key: str,
    token: str,
    path: str,
    allow_private: bool = False,
) -> DeliveredFile:
    """``/video/<media_key>/<token>/<path>``: ``<W>x<H>.mp4``, ``preview.jpg``,
    ``pl/master.m3u8`` and the HLS playlists and segments below ``pl/``."""
    media = await _media(
        session, token, (MediaKind.VIDEO, MediaKind.GIF), allow_private=allow_private
    )
    if media.media_key != media_key:
        raise errors.MediaNotFound()
    if path == "preview.jpg":
        variant = await _variant(session, media.id, VariantKind.PREVIEW, "preview")
    elif path == "pl/master.m3u8":
        variant = await _variant(session, media.id, VariantKind.HLS, "master")
    elif found := _MP4_FILE.match(path):
        variant = await _variant(session, media.id, VariantKind.MP4, found.group(1))
    elif _SUBS_FILE.match(path):  # subtitle tracks attached to the video
        await _end_transaction(session)
        return await _file(store, media.id, path, _CONTENT_TYPES[PurePosixPath(path).suffix])
    elif found := _HLS_FILE.match(path):
        # Only below a rendition that exists; the regex already rules out "..".
        await _variant(session, media.id, VariantKind.MP4, found.group(1))
        await _end_transaction(session)
        return await _file(store, media.id, path, _CONTENT_TYPES[PurePosixPath(path).suffix])
    else:
        raise errors.MediaNotFound()
    await _end_transaction(session)
    return await _file(store, media.id, variant.path, variant.content_type)


async def load_deliverable(
    session: AsyncSession, *, media_id: int, now: datetime
) -> tuple[MediaView, list[VariantView]]:
    """A succeeded media and its variants, as the media object builders take them."""
    media = await session.scalar(
        select(Media).where(Media.id == media_id, Media.state == UploadState.SUCCEEDED)
    )
    if media is None or media.delivery_token is None:
        raise errors.MediaNotFound()
    rows = await session.scalars(
        select(MediaVariant).where(MediaVariant.media_id == media_id).order_by(MediaVariant.id)
    )
    return media_view(media, now=now), [variant_view(row) for row in rows]
