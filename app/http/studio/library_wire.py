"""The Ads API library object (§7.1), built from ``LibraryItemView``.

``media_url`` is the public delivery URL of the main variant (a photo's bare URL, a
video's or GIF's largest mp4), null while the media is still processing.
``poster_media_url``/``poster_media_key`` (videos and GIFs): the image chosen with
``poster_media_key``, else the preview frame the service makes (then no key).
``duration`` (ms, video; null for a GIF) and ``aspect_ratio`` (reduced ``"w:h"``) appear
on videos and GIFs only. ``media_id`` (a string) is an extension (§7.1 notes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.http import media_wire
from app.media.views import MediaView, VariantKind, VariantView
from app.studio.library_views import LibraryItemView, media_status
from app.uploads.protocol import MediaKind

__all__ = ["ads_time", "library_item"]


def ads_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ready(media: MediaView) -> bool:
    return media.delivery_token is not None and not media.removed


def _media_url(media: MediaView, variants: list[VariantView], base_url: str) -> str | None:
    if not _ready(media):
        return None
    try:
        if media.kind is MediaKind.IMAGE:
            return media_wire.main_url(media, variants, base_url)
        mp4s = [v for v in variants if v.kind is VariantKind.MP4]
        if not mp4s:
            return None
        best = max(mp4s, key=lambda v: ((v.width or 0) * (v.height or 0), v.bitrate or 0))
        return media_wire.video_url(base_url, media, f"{best.name}.mp4")
    except ValueError:  # a variant the media should have is missing
        return None


def _poster(view: LibraryItemView, base_url: str) -> tuple[str | None, str | None]:
    if view.poster is not None and _ready(view.poster.media):
        try:
            url = media_wire.main_url(view.poster.media, view.poster.variants, base_url)
        except ValueError:
            url = None
        return url, view.poster.media.media_key
    if not _ready(view.media):
        return None, None
    try:
        return media_wire.main_url(view.media, view.variants, base_url), None
    except ValueError:
        return None, None


def _aspect(view: LibraryItemView) -> str | None:
    if not _ready(view.media):
        return None
    try:
        width, height = media_wire.aspect(view.media, view.variants)
    except ValueError:
        return None
    return f"{width}:{height}"


def library_item(view: LibraryItemView, *, base_url: str) -> dict[str, Any]:
    media = view.media
    item: dict[str, Any] = {
        "media_key": media.media_key,
        "media_id": str(media.media_id),
        "media_category": view.media_category,
        "media_type": view.media_type,
        "media_status": media_status(media.state),
        "media_url": _media_url(media, view.variants, base_url),
        "name": view.name,
        "file_name": view.file_name,
        "title": view.title,
        "description": view.description,
        "tweeted": view.tweeted,
        "created_at": ads_time(view.created_at),
        "updated_at": ads_time(view.updated_at),
        "deleted": view.deleted,
    }
    if view.media_type in ("VIDEO", "GIF"):
        poster_url, poster_key = _poster(view, base_url)
        item["poster_media_url"] = poster_url
        item["poster_media_key"] = poster_key
        item["duration"] = media.duration_ms if view.media_type == "VIDEO" else None
        item["aspect_ratio"] = _aspect(view)
    return item
