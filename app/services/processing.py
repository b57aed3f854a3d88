"""The ``process_media`` job: probe the assembled file and enforce its category's rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Media
from app.processing import probe as probing
from app.processing import rules
from app.processing.errors import InternalError, InvalidMedia, ProcessingError
from app.processing.imageinfo import ImageRejected, image_info
from app.processing.probe import ImageProbe
from app.upload.protocol import MediaKind, UploadState
from app.upload.storage import SegmentStore
from app.upload.storage.base import SupportsLocalPath

__all__ = ["mark_failed", "process_media"]

_TERMINAL = (UploadState.SUCCEEDED, UploadState.FAILED)


async def _start(sessions: async_sessionmaker[AsyncSession], media_id: int) -> Media | None:
    async with sessions() as session:
        media = await session.get(Media, media_id, with_for_update=True)
        if media is None or media.state in _TERMINAL:
            return None
        media.state, media.progress_percent = UploadState.IN_PROGRESS, 0
        await session.commit()
        return media


async def _inspect(media: Media, store: SegmentStore, *, max_pixels: int) -> dict[str, int | None]:
    if not isinstance(store, SupportsLocalPath):
        raise InternalError("storage backend cannot hand files to the processor")
    path = store.blob_path(str(media.id))
    if media.kind is MediaKind.GIF:
        try:
            info = await image_info(path, max_pixels=max_pixels)
        except ImageRejected as exc:
            raise InvalidMedia(str(exc)) from exc
        rules.check_gif(ImageProbe("GIF", info.width, info.height, info.frames))
        return {"width": info.width, "height": info.height, "duration_ms": None}
    found = await probing.probe(path)
    video_rules = rules.AMPLIFY_VIDEO if media.category == "amplify_video" else rules.TWEET_VIDEO
    rules.check_video(found, video_rules)
    return {"width": found.width, "height": found.height, "duration_ms": found.duration_ms}


async def process_media(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    *,
    media_id: int,
    max_pixels: int,
    clock: Callable[[], datetime],
) -> None:
    """Move a media through in_progress to succeeded, or failed with the rule it broke.

    Idempotent: a media already in a terminal state is left alone. Errors other than
    ProcessingError propagate, so the runner retries the job.
    """
    media = await _start(sessions, media_id)
    if media is None:
        return
    try:
        facts = await _inspect(media, store, max_pixels=max_pixels)
    except ProcessingError as exc:
        await mark_failed(sessions, media_id, exc)
        return
    async with sessions() as session:
        row = await session.get(Media, media_id, with_for_update=True)
        if row is None or row.state in _TERMINAL:
            return
        row.width, row.height = facts["width"], facts["height"]
        row.duration_ms = facts["duration_ms"]
        row.state, row.progress_percent = UploadState.SUCCEEDED, 100
        await session.commit()


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession], media_id: int, error: ProcessingError
) -> None:
    async with sessions() as session:
        media = await session.get(Media, media_id, with_for_update=True)
        if media is None or media.state in _TERMINAL:
            return
        media.state = UploadState.FAILED
        media.error_code, media.error_name, media.error_message = (
            error.code,
            error.name,
            error.message,
        )
        await session.commit()
