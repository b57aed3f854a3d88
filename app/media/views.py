"""What services hand to routers: plain snapshots of media, never ORM rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.models import Media, MediaVariant, VariantKind
from app.storage import StoredSegment
from app.uploads.protocol import MediaKind, UploadState

__all__ = [
    "MediaError",
    "MediaView",
    "VariantKind",
    "VariantView",
    "media_view",
    "variant_view",
]


@dataclass(frozen=True, slots=True)
class MediaError:
    code: int
    name: str
    message: str


@dataclass(frozen=True, slots=True)
class MediaView:
    media_id: int
    media_key: str
    state: UploadState
    kind: MediaKind
    category: str | None
    is_async: bool
    media_type: str
    detected_type: str | None
    total_bytes: int
    size: int | None
    sha256: str | None
    width: int | None
    height: int | None
    expires_after_secs: int
    progress_percent: int | None
    error: MediaError | None
    alt_text: str | None = None
    segments: list[StoredSegment] = field(default_factory=list)
    duration_ms: int | None = None
    delivery_token: str | None = None
    # Deleted from a studio library (the trash can): no bytes, no variants, no URLs.
    removed: bool = False

    @property
    def received_bytes(self) -> int:
        return sum(s.size for s in self.segments)


def media_view(
    media: Media | Any, *, now: datetime, segments: Sequence[StoredSegment] = ()
) -> MediaView:
    """From an ORM ``Media``, or any row with the media table's columns by name."""
    error = None
    if media.error_code is not None:
        error = MediaError(media.error_code, media.error_name or "", media.error_message or "")
    return MediaView(
        media_id=media.id,
        media_key=media.media_key,
        state=media.state,
        kind=media.kind,
        category=media.category,
        is_async=media.is_async,
        media_type=media.media_type,
        detected_type=media.detected_type,
        total_bytes=media.total_bytes,
        size=media.size,
        sha256=media.sha256,
        width=media.width,
        height=media.height,
        expires_after_secs=max(0, int((media.expires_at - now).total_seconds())),
        progress_percent=media.progress_percent,
        error=error,
        duration_ms=media.duration_ms,
        delivery_token=media.delivery_token,
        alt_text=media.alt_text,
        segments=sorted(segments, key=lambda s: s.index),
        removed=getattr(media, "removed_at", None) is not None,
    )


@dataclass(frozen=True, slots=True)
class VariantView:
    """One processed output; ``path`` is relative to the media's variants directory."""

    kind: VariantKind
    name: str
    path: str
    content_type: str
    width: int | None
    height: int | None
    bitrate: int | None
    size: int


def variant_view(variant: MediaVariant | Any) -> VariantView:
    """From an ORM ``MediaVariant``, or any row with its columns by name."""
    return VariantView(
        kind=variant.kind,
        name=variant.name,
        path=variant.path,
        content_type=variant.content_type,
        width=variant.width,
        height=variant.height,
        bitrate=variant.bitrate,
        size=variant.size,
    )
