"""Operator-tunable upload rules, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app.config import Settings
from app.uploads.protocol import ByteLimits

__all__ = ["ProcessingOptions", "UploadPolicy"]


@dataclass(frozen=True, slots=True)
class ProcessingOptions:
    """Bounds on processing work; see ``config.ProcessingSettings``."""

    ffmpeg_threads: int = 2
    ffmpeg_preset: str = "veryfast"
    max_transcodes: int = 2
    max_image_jobs: int = 4


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    limits: ByteLimits
    upload_ttl: timedelta
    media_ttl: timedelta
    max_image_pixels: int
    job_max_attempts: int
    job_lease: timedelta = timedelta(seconds=60)
    processing: ProcessingOptions = field(default_factory=ProcessingOptions)

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadPolicy:
        lim = settings.limits
        proc = settings.processing
        return cls(
            limits=ByteLimits(
                image=lim.image_bytes,
                gif=lim.gif_bytes,
                video=lim.video_bytes,
                amplify_video=lim.amplify_video_bytes,
                live_video=lim.live_video_bytes,
                subtitles=lim.subtitles_bytes,
                segment=lim.segment_bytes,
            ),
            upload_ttl=timedelta(seconds=lim.upload_expiry_secs),
            media_ttl=timedelta(seconds=lim.media_expiry_secs),
            max_image_pixels=lim.max_image_pixels,
            job_max_attempts=settings.worker.max_attempts,
            job_lease=timedelta(seconds=settings.worker.lease_secs),
            processing=ProcessingOptions(
                ffmpeg_threads=proc.ffmpeg_threads,
                ffmpeg_preset=proc.ffmpeg_preset,
                max_transcodes=proc.max_transcodes,
                max_image_jobs=proc.max_image_jobs,
            ),
        )
