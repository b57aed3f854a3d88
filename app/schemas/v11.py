"""v1.1 media upload wire models (spec §2-3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.uploads.limits import CHECK_AFTER_SECS

__all__ = [
    "ImageInfoV11",
    "InitResponseV11",
    "MediaResponseV11",
    "ProcessingError",
    "ProcessingInfo",
    "SegmentInfo",
    "UploadInfo",
    "VideoInfoV11",
]


class InitResponseV11(BaseModel):
    media_id: int
    media_id_string: str
    expires_after_secs: int
    media_key: str | None = None


class ImageInfoV11(BaseModel):
    image_type: str
    w: int
    h: int


class VideoInfoV11(BaseModel):
    video_type: str


class ProcessingError(BaseModel):
    """Why processing failed. `code` 1 `InvalidMedia`: the file cannot be decoded
    (corrupt, truncated); 3 `UnsupportedMedia`: it breaks a rule of its category (the
    message names the rule and both values); 131 `InternalError`: our failure, reported
    once the job's retries ran out (not documented by Twitter, which uses 131 for
    "Internal error.")."""

    code: int = Field(description="1 InvalidMedia, 3 UnsupportedMedia, 131 InternalError")
    name: str = Field(description="InvalidMedia, UnsupportedMedia or InternalError")
    message: str


ProcessingState = Literal["uploading", "pending", "in_progress", "succeeded", "failed"]


class ProcessingInfo(BaseModel):
    state: ProcessingState
    check_after_secs: int | None = None
    progress_percent: int | None = None
    error: ProcessingError | None = None


class SegmentInfo(BaseModel):
    segment_index: int
    size: int
    sha256: str | None = None  # absent only if the segment vanished from storage


class UploadInfo(BaseModel):
    """Beyond Twitter: what is stored so far, so a client resends only what is missing."""

    total_bytes: int
    received_bytes: int
    segments: list[SegmentInfo]


class MediaResponseV11(BaseModel):
    """FINALIZE, STATUS and simple-upload answer: optional fields are omitted, not null."""

    media_id: int
    media_id_string: str
    media_key: str | None = None
    size: int | None = None
    expires_after_secs: int | None = None
    image: ImageInfoV11 | None = None
    video: VideoInfoV11 | None = None
    processing_info: ProcessingInfo | None = None
    upload_info: UploadInfo | None = None


def check_after(state: str) -> int | None:
    return CHECK_AFTER_SECS if state in ("uploading", "pending", "in_progress") else None
