"""Media objects as posts and messages show them (spec §8): v1.1 ``entities.media[]`` /
``extended_entities.media[]`` and the v2 ``includes.media[]`` object.

Dump with ``exclude_none=True``: absent fields (the HLS variant's bitrate, a GIF's
duration) are omitted, as Twitter omits them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = [
    "AdditionalMediaInfoV11",
    "MediaAvailabilityV11",
    "MediaEntityV11",
    "MediaSizeV11",
    "MediaSizesV11",
    "MediaTypeName",
    "MediaV2",
    "VideoInfoEntityV11",
    "VideoVariantV2",
    "VideoVariantV11",
]

MediaTypeName = Literal["photo", "video", "animated_gif"]


class MediaSizeV11(BaseModel):
    w: int
    h: int
    resize: Literal["fit", "crop"]


class MediaSizesV11(BaseModel):
    thumb: MediaSizeV11
    small: MediaSizeV11
    medium: MediaSizeV11
    large: MediaSizeV11


class VideoVariantV11(BaseModel):
    bitrate: int | None = None  # absent on the HLS playlist
    content_type: str
    url: str


class VideoInfoEntityV11(BaseModel):
    aspect_ratio: list[int]
    duration_millis: int | None = None  # absent for animated GIFs
    variants: list[VideoVariantV11]


class AdditionalMediaInfoV11(BaseModel):
    """A video's or GIF's title and description (from the studio library)."""

    title: str | None
    description: str | None
    embeddable: bool = True
    monetizable: bool = False


class MediaAvailabilityV11(BaseModel):
    """``{"status": "Available"}``, or ``Unavailable`` with a ``reason`` (``Deleted``:
    the media was deleted from a studio library; its URLs are gone)."""

    status: Literal["Available", "Unavailable"]
    reason: str | None = None


class MediaEntityV11(BaseModel):
    id: int
    id_str: str
    media_key: str
    media_url: str | None = None  # absent on unavailable (deleted) media
    media_url_https: str | None = None
    type: MediaTypeName
    sizes: MediaSizesV11 | None = None
    video_info: VideoInfoEntityV11 | None = None
    additional_media_info: AdditionalMediaInfoV11 | None = None
    ext_media_availability: MediaAvailabilityV11 | None = None


class VideoVariantV2(BaseModel):
    bit_rate: int | None = None  # absent on the HLS playlist
    content_type: str
    url: str


class MediaV2(BaseModel):
    media_key: str
    type: MediaTypeName
    url: str | None = None  # photos
    preview_image_url: str | None = None  # video and animated GIF
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None  # video
    variants: list[VideoVariantV2] | None = None  # video and animated GIF
