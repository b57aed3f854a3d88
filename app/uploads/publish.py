"""The publish step shared by FINALIZE and the simple upload: assemble, verify, decide;
then, for media that is not processed in the background, the processing itself.

``publish`` runs inside the caller's locked transaction and never commits: it returns
the error to raise (after the caller committed the failed state) or None on success.
Media without async processing leaves it ``in_progress`` with a job already claimed by
this process; after the commit the caller runs ``process_now``, which processes it with
no row lock held and answers with the final state. If the process dies meanwhile, the
job's lease runs out and a worker finishes the media.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import errors
from app.core.clock import utcnow
from app.jobs import queue as jobs
from app.media.views import MediaView, media_view
from app.models import Media
from app.processing import service as processing
from app.processing.imageinfo import ImageRejected, image_info
from app.processing.sniff import SNIFF_BYTES, compatible, sniff
from app.storage import SegmentStore, keys
from app.uploads import protocol
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import MediaKind, UploadState

__all__ = ["process_now", "publish"]

_SIMPLE_UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


async def _check_storage(store: SegmentStore, media: Media, order: list[int]) -> None:
    """Storage is the truth for bytes: a segment the DB recorded must still be there."""
    stored = await store.segment_sizes(keys.media(media.id))
    if not stored and await store.blob_size(keys.media(media.id)) == media.total_bytes:
        return  # assembled by an earlier FINALIZE whose transaction did not commit
    recorded = {s.segment_index: s.size for s in media.segments}
    wrong = sorted(i for i, size in recorded.items() if stored.get(i) != size)
    if wrong:
        raise errors.SegmentsIncomplete(
            total_bytes=media.total_bytes,
            received_bytes=sum(stored.get(i, 0) for i in order),
            missing_segments=wrong,
        )


async def _head(store: SegmentStore, key: str) -> bytes:
    head = b""
    async for chunk in store.read(key, stop=SNIFF_BYTES):
        head += chunk
    return head


def _fail(media: Media, error: errors.ApiError) -> errors.ApiError:
    media.state = UploadState.FAILED
    media.error_code, media.error_name, media.error_message = 1, "InvalidMedia", error.detail
    return error


async def publish(
    session: AsyncSession,
    store: SegmentStore,
    media: Media,
    *,
    order: list[int],
    policy: UploadPolicy,
    now: datetime,
) -> errors.ApiError | None:
    key = keys.media(media.id)
    await _check_storage(store, media, order)
    blob = await store.assemble(key, order)
    detected = sniff(await _head(store, key))
    if media.media_type == "image/*":  # simple upload: the bytes say what it is
        if detected not in _SIMPLE_UPLOAD_TYPES:
            return _fail(media, errors.MediaTypeUnrecognized())
        media.media_type = detected
    elif not compatible(media.media_type, detected):
        return _fail(
            media,
            errors.ContentMismatch(
                f"File content does not match media_type {media.media_type}: "
                f"detected {detected or 'unrecognized data'}.",
                detected_type=detected,
            ),
        )
    media.size, media.sha256, media.detected_type = blob.size, blob.sha256, detected
    if media.kind in (MediaKind.IMAGE, MediaKind.GIF):
        try:
            async with store.scratch() as work:
                local = await work.local_copy(key)
                info = await image_info(local, max_pixels=policy.max_image_pixels)
        except ImageRejected as exc:
            return _fail(media, errors.ContentMismatch(str(exc)))
        media.width, media.height = info.width, info.height
        if media.category is None and info.mime == "image/gif" and info.frames > 1:
            media.kind = MediaKind.GIF
            media.media_key = protocol.media_key(media.id, MediaKind.GIF, None)
    media.finalized_at = now
    media.expires_at = now + policy.media_ttl
    if media.is_async:
        media.state = UploadState.PENDING
        jobs.enqueue(
            session,
            kind=jobs.PROCESS_MEDIA,
            media_id=media.id,
            max_attempts=policy.job_max_attempts,
            now=now,
        )
    else:
        media.state, media.progress_percent = UploadState.IN_PROGRESS, 0
        jobs.enqueue(
            session,
            kind=jobs.PROCESS_MEDIA,
            media_id=media.id,
            max_attempts=policy.job_max_attempts,
            now=now,
            claimed_by=_sync_worker(),
            lease=policy.job_lease,
        )
    return None


def _sync_worker() -> str:
    return f"finalize:{socket.gethostname()[:32]}:{os.getpid()}"


async def process_now(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    policy: UploadPolicy,
    *,
    media_id: int,
    now: datetime,
) -> MediaView:
    """Process a media ``publish`` left in_progress, under the job it claimed.

    Raises ``MediaProcessingFailed`` (and discards the bytes) when the file breaks a
    rule. An internal failure propagates and leaves the job to a worker's retry.
    """
    worker = _sync_worker()
    job_id = await jobs.running_job_id(sessions, media_id=media_id, worker=worker)
    if job_id is None:  # a worker took it over already
        return await _current_view(sessions, media_id, now=now)
    try:
        async with jobs.hold_lease(
            sessions, job_id, worker=worker, lease=policy.job_lease, clock=utcnow
        ):
            failure = await processing.process_media(sessions, store, policy, media_id=media_id)
    except jobs.LeaseLost:
        return await _current_view(sessions, media_id, now=now)
    except Exception as exc:
        await jobs.retry_or_fail(sessions, job_id, error=repr(exc), now=utcnow(), worker=worker)
        raise
    await jobs.finish(sessions, job_id, now=utcnow(), worker=worker)
    if failure is not None:
        await store.discard(keys.media(media_id))
        raise errors.MediaProcessingFailed(failure.message, code=failure.code, name=failure.name)
    return await _current_view(sessions, media_id, now=now)


async def _current_view(
    sessions: async_sessionmaker[AsyncSession], media_id: int, *, now: datetime
) -> MediaView:
    async with sessions() as session:
        media = await session.get(Media, media_id)
        if media is None:
            raise errors.InvalidMediaId(media_id)
        return media_view(media, now=now)
