"""The ``process_media`` job: run the pipeline, record variants, publish or fail.

Shared by the worker (async media) and by FINALIZE itself (media finalized without a
``media_category``). Database transactions are short: none is open while ffmpeg or
Pillow runs.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.infra import metrics
from app.models import Media, MediaVariant
from app.processing import pipeline
from app.processing.errors import InternalError, ProcessingError
from app.storage import ObjectStore, StorageFull, StorageNotFound, keys
from app.storage.tempfiles import is_out_of_space
from app.uploads import queries
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import MediaKind, UploadState

__all__ = ["PROGRESS_STEP", "mark_failed", "new_delivery_token", "process_media"]

PROGRESS_STEP = 5  # persist progress only when it moved this many points
_TERMINAL = (UploadState.SUCCEEDED, UploadState.FAILED)


@dataclass(frozen=True, slots=True)
class _Work:
    kind: MediaKind
    category: str | None


def new_delivery_token() -> str:
    return secrets.token_urlsafe(12)  # 96 random bits, 16 URL-safe characters


async def _start(sessions: async_sessionmaker[AsyncSession], media_id: int) -> _Work | None:
    async with sessions() as session:
        media = await session.get(Media, media_id, with_for_update=True)
        if media is None or media.state in _TERMINAL:
            return None
        queries.mark_processing(media)
        work = _Work(media.kind, media.category)
        await session.commit()
        return work


class _ProgressWriter:
    """Persists rising percentages, at most one write per ``PROGRESS_STEP`` points;
    100 is written together with the succeeded state."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], media_id: int) -> None:
        self._sessions, self._media_id, self._written = sessions, media_id, 0

    async def __call__(self, percent: int) -> None:
        if percent >= 100 or percent - self._written < PROGRESS_STEP:
            return
        self._written = percent
        async with self._sessions() as session:
            await queries.set_progress(session, media_id=self._media_id, percent=percent)
            await session.commit()


async def process_media(
    sessions: async_sessionmaker[AsyncSession],
    store: ObjectStore,
    policy: UploadPolicy,
    *,
    media_id: int,
) -> ProcessingError | None:
    """Move a media through in_progress to succeeded (variants recorded), or to failed
    with the rule it broke; returns that permanent failure, or None.

    Idempotent: a media already in a terminal state is left alone, and a rerun replaces
    the previous run's variants. The pipeline works in a scratch folder; its outputs
    replace the media's variants prefix only once they are all made, before the
    succeeded state is committed. ``InternalError``, ``StorageFull`` (a full disk, even
    when a tool reported it as a decoding failure) and unexpected errors propagate, so
    the caller retries.
    """
    work = await _start(sessions, media_id)
    if work is None:
        return None
    started = time.perf_counter()
    try:
        async with store.scratch() as scratch:
            try:
                source = await scratch.local_copy(keys.media(media_id))
            except StorageNotFound as exc:
                raise InternalError("the media's blob is not in storage") from exc
            result = await pipeline.run(
                work.kind,
                work.category,
                source,
                scratch,
                policy.processing,
                on_progress=_ProgressWriter(sessions, media_id),
            )
            await scratch.publish(keys.variants_prefix(media_id))
    except Exception as exc:
        if not isinstance(exc, StorageFull) and is_out_of_space(exc):
            # A tool's write failed (Pillow, ffmpeg; some say so as a decoding failure).
            _observe(work, started, "storage_full")
            raise StorageFull(f"processing ran out of space: {exc}") from exc
        if not isinstance(exc, ProcessingError) or not exc.permanent:
            _observe(work, started, _category(exc))
            raise
        _observe(work, started, exc.name)
        await mark_failed(sessions, store, media_id, exc)
        return exc
    _observe(work, started, None)
    await _succeed(sessions, media_id, result)
    return None


def _category(exc: Exception) -> str:
    if isinstance(exc, StorageFull):
        return "storage_full"
    return exc.name if isinstance(exc, ProcessingError) else "unexpected"


def _observe(work: _Work, started: float, failure: str | None) -> None:
    """``mediastudio_processing_duration_seconds`` by kind and outcome (succeeded;
    failed: permanent; retry: the job runs again) and, for a failure, its category in
    ``mediastudio_processing_failures_total``."""
    if failure is None:
        outcome = "succeeded"
    else:
        permanent = failure in ("InvalidMedia", "UnsupportedMedia")
        outcome = "failed" if permanent else "retry"
        metrics.PROCESSING_FAILURES.labels(failure).inc()
    elapsed = time.perf_counter() - started
    metrics.PROCESSING_SECONDS.labels(work.kind.value, outcome).observe(elapsed)


async def _succeed(
    sessions: async_sessionmaker[AsyncSession], media_id: int, result: pipeline.PipelineResult
) -> None:
    async with sessions() as session:
        media = await session.get(Media, media_id, with_for_update=True)
        if media is None or media.state in _TERMINAL:
            return
        await session.execute(delete(MediaVariant).where(MediaVariant.media_id == media_id))
        session.add_all(
            MediaVariant(
                media_id=media_id,
                kind=v.kind,
                name=v.name,
                path=v.path,
                content_type=v.content_type,
                width=v.width,
                height=v.height,
                bitrate=v.bitrate,
                size=v.size,
            )
            for v in result.variants
        )
        queries.mark_processed(
            media,
            width=result.width,
            height=result.height,
            duration_ms=result.duration_ms,
            delivery_token=new_delivery_token(),
        )
        await session.commit()


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    store: ObjectStore,
    media_id: int,
    error: ProcessingError,
) -> None:
    """Record ``error`` as the media's ``processing_info.error`` and drop its variants."""
    async with sessions() as session:
        media = await session.get(Media, media_id, with_for_update=True)
        if media is None or media.state in _TERMINAL:
            return
        queries.mark_failed(media, code=error.code, name=error.name, message=error.message)
        await session.execute(delete(MediaVariant).where(MediaVariant.media_id == media_id))
        await session.commit()
    await store.delete_prefix(keys.variants_prefix(media_id))


class NotReopenable(Exception):
    """The media is not failed, or failed for good (the file is at fault)."""


async def reopen_for_retry(session: AsyncSession, media_id: int) -> None:
    """Back to pending a media whose processing failed for a cause outside the file
    (``InternalError``, code 131), so its retried job processes it again; the caller
    commits. Raises ``NotReopenable``."""
    media = await session.get(Media, media_id, with_for_update=True)
    if media is None:
        raise NotReopenable(f"media {media_id} is gone")
    if media.state != UploadState.FAILED:
        return  # not failed: its job runs as it is
    if media.error_code != InternalError.code:
        raise NotReopenable(
            f"media {media_id} failed for good ({media.error_name}: {media.error_message}); "
            "upload it again"
        )
    queries.reopen_failed(media)
