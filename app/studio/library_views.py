"""What the media library hands to its presenter (``app/http/studio/library_wire.py``):
items as plain views, loaded for a whole page at once (a fixed number of queries, never
one per item), and the facts derived from a media (category, status, type)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.media.views import MediaView, VariantView, media_view, variant_view
from app.models import LibraryItem, Media, MediaVariant, PostMedia
from app.uploads.protocol import MediaKind, UploadState

__all__ = [
    "CATEGORIES",
    "MEDIA_TYPES",
    "LibraryItemView",
    "Poster",
    "library_category",
    "library_type",
    "load_views",
    "media_status",
]

_MEDIA = cast(Table, Media.__table__).c
_VARIANTS = cast(Table, MediaVariant.__table__).c
MEDIA_TYPES = ("GIF", "IMAGE", "VIDEO")
CATEGORIES = ("TWEET_IMAGE", "TWEET_GIF", "TWEET_VIDEO", "AMPLIFY_VIDEO")
_TYPES = {MediaKind.IMAGE: "IMAGE", MediaKind.GIF: "GIF", MediaKind.VIDEO: "VIDEO"}
_BY_KIND = {
    MediaKind.IMAGE: "TWEET_IMAGE",
    MediaKind.GIF: "TWEET_GIF",
    MediaKind.VIDEO: "TWEET_VIDEO",
}
# Upload processing state -> media_status (Ads API §7.7). Only TRANSCODE_COMPLETED is
# documented; TRANSCODING and TRANSCODE_FAILED are this service's names (README).
_STATUS = {
    UploadState.SUCCEEDED: "TRANSCODE_COMPLETED",
    UploadState.PENDING: "TRANSCODING",
    UploadState.IN_PROGRESS: "TRANSCODING",
    UploadState.UPLOADING: "TRANSCODING",
    UploadState.FAILED: "TRANSCODE_FAILED",
}


def library_type(kind: MediaKind) -> str | None:
    """IMAGE, GIF or VIDEO; None for what no library holds (subtitles)."""
    return _TYPES.get(kind)


def library_category(kind: MediaKind, category: str | None) -> str | None:
    """The Ads ``media_category`` of an upload: its own category upper-cased, or (an
    uncategorized upload) the one its kind implies; None for other categories (DM media,
    subtitles), which no library holds."""
    if category is None:
        return _BY_KIND.get(kind)
    if category == "live_video":  # a broadcast's recording: an amplify video to the Ads API
        return "AMPLIFY_VIDEO"
    upper = category.upper()
    return upper if upper in CATEGORIES else None


def media_status(state: UploadState) -> str:
    return _STATUS[state]


@dataclass(frozen=True, slots=True)
class Poster:
    """A video's or GIF's poster image chosen with ``poster_media_key``."""

    media: MediaView
    variants: list[VariantView]


@dataclass(frozen=True, slots=True)
class LibraryItemView:
    id: int
    account_id: str
    media: MediaView
    variants: list[VariantView]
    media_type: str
    media_category: str
    name: str | None
    title: str | None
    description: str | None
    file_name: str | None
    poster: Poster | None
    tweeted: bool
    created_at: datetime
    updated_at: datetime
    deleted: bool = False


async def load_views(
    session: AsyncSession, items: Sequence[LibraryItem | Any], *, now: datetime
) -> list[LibraryItemView]:
    """Views of ``items`` (ORM items or rows of their columns) in their order: two
    queries for the whole page (the media with whether each is in a post, and their
    variants)."""
    if not items:
        return []
    media_ids = {i.media_id for i in items} | {
        i.poster_media_id for i in items if i.poster_media_id is not None
    }
    # Plain rows, not ORM objects: a page hydrates in a fraction of the time.
    in_post = exists().where(PostMedia.media_id == _MEDIA.id).label("in_post")
    rows = await session.execute(select(*_MEDIA, in_post).where(_MEDIA.id.in_(media_ids)))
    media = {m.id: m for m in rows}
    variants: dict[int, list[VariantView]] = {i: [] for i in media_ids}
    for row in await session.execute(
        select(*_VARIANTS).where(_VARIANTS.media_id.in_(media_ids)).order_by(_VARIANTS.id)
    ):
        variants[row.media_id].append(variant_view(row))
    views = []
    for item in items:
        found = media[item.media_id]
        poster = None
        if item.poster_media_id is not None and item.poster_media_id in media:
            poster_row = media[item.poster_media_id]
            poster = Poster(media_view(poster_row, now=now), variants[poster_row.id])
        views.append(
            LibraryItemView(
                id=item.id,
                account_id=item.account_id,
                media=media_view(found, now=now),
                variants=variants[found.id],
                media_type=item.media_type,
                media_category=library_category(found.kind, found.category) or "TWEET_IMAGE",
                name=item.name,
                title=item.title,
                description=item.description,
                file_name=item.file_name,
                poster=poster,
                tweeted=bool(found.in_post),
                created_at=item.created_at,
                updated_at=item.updated_at,
            )
        )
    return views
