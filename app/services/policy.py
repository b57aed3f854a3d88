"""Operator-tunable upload rules, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.config import Settings
from app.upload.protocol import ByteLimits

__all__ = ["UploadPolicy"]


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    limits: ByteLimits
    upload_ttl: timedelta
    media_ttl: timedelta
    max_image_pixels: int
    job_max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadPolicy:
        lim = settings.limits
        return cls(
            limits=ByteLimits(
                image=lim.image_bytes,
                gif=lim.gif_bytes,
                video=lim.video_bytes,
                amplify_video=lim.amplify_video_bytes,
                subtitles=lim.subtitles_bytes,
                segment=lim.segment_bytes,
            ),
            upload_ttl=timedelta(seconds=lim.upload_expiry_secs),
            media_ttl=timedelta(seconds=lim.media_expiry_secs),
            max_image_pixels=lim.max_image_pixels,
            job_max_attempts=settings.worker.max_attempts,
        )
