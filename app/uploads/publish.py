"""The publish step shared by FINALIZE and the simple upload: assemble, verify, decide;
then, for media that is not processed in the background, the processing itself.

``examine`` runs with no transaction open (it moves the bytes: assembly, hashing,
sniffing, decoding an image) and returns what it found, or the error to raise; the
caller then records that under the upload's lock with ``record``/``record_failure``,
which never commit. Media without async processing is left ``in_progress`` with a job
already claimed by this process; after the commit the caller runs ``process_now``,
which processes it with no row lock held and answers with the final state. If the
process dies meanwhile, the job's lease runs out and a worker finishes the media.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
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
from app.storage import SegmentStore, StorageFull, keys
from app.uploads import queries
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import MediaKind, UploadState

__all__ = ["Examined", "UploadFacts", "examine", "process_now", "record", "record_failure"]

_SIMPLE_UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


@dataclass(frozen=True, slots=True)
class UploadFacts:
    """What the locked step read about the upload, for the unlocked one."""

    media_id: int
    kind: MediaKind
    category: str | None
    media_type: str  # "image/*": a simple upload, whose bytes say what it is
    total_bytes: int
    segments: Mapping[int, int]  # index -> size, as recorded


@dataclass(frozen=True, slots=True)
class Examined:
    """What the bytes turned out to be."""

    size: int
    sha256: str
    detected_type: str | None
    media_type: str
    kind: MediaKind
    width: int | None = None
    height: int | None = None


async def _check_storage(store: SegmentStore, upload: UploadFacts, order: list[int]) -> None:
    """Storage is the truth for bytes: a segment the DB recorded must still be there."""
    stored = await store.segment_sizes(keys.media(upload.media_id))
    if not stored and await store.blob_size(keys.media(upload.media_id)) == upload.total_bytes:
        return  # assembled by an earlier FINALIZE that did not get to record it
    wrong = sorted(i for i, size in upload.segments.items() if stored.get(i) != size)
    if wrong:
        raise errors.SegmentsIncomplete(
            total_bytes=upload.total_bytes,
            received_bytes=sum(stored.get(i, 0) for i in order),
            missing_segments=wrong,
        )


async def _head(store: SegmentStore, key: str) -> bytes:
    head = b""
    async for chunk in store.read(key, stop=SNIFF_BYTES):
        head += chunk
    return head


async def examine(
    store: SegmentStore, upload: UploadFacts, *, order: list[int], policy: UploadPolicy
) -> Examined | errors.ApiError:
    """Assemble the segments in ``order`` and look at the result: what it is, or the
    rule it breaks. Holds no lock and opens no transaction. Raises ``SegmentsIncomplete``
    when storage lost a recorded segment."""
    key = keys.media(upload.media_id)
    await _check_storage(store, upload, order)
    blob = await store.assemble(key, order)
    detected = sniff(await _head(store, key))
    media_type = upload.media_type
    if media_type == "image/*":  # simple upload: the bytes say what it is
        if detected not in _SIMPLE_UPLOAD_TYPES:
            return errors.MediaTypeUnrecognized()
        media_type = detected
    elif not compatible(media_type, detected):
        return errors.ContentMismatch(
            f"File content does not match media_type {media_type}: "
            f"detected {detected or 'unrecognized data'}.",
            detected_type=detected,
        )
    found = Examined(
        size=blob.size,
        sha256=blob.sha256,
        detected_type=detected,
        media_type=media_type,
        kind=upload.kind,
    )
    if upload.kind in (MediaKind.IMAGE, MediaKind.GIF):
        try:
            async with store.scratch() as work:
                local = await work.local_copy(key)
                info = await image_info(local, max_pixels=policy.max_image_pixels)
        except ImageRejected as exc:
            return errors.ContentMismatch(str(exc))
        kind = upload.kind
        if upload.category is None and info.mime == "image/gif" and info.frames > 1:
            kind = MediaKind.GIF
        found = Examined(
            size=found.size,
            sha256=found.sha256,
            detected_type=detected,
            media_type=media_type,
            kind=kind,
            width=info.width,
            height=info.height,
        )
    return found


def record_failure(media: Media, error: errors.ApiError) -> errors.ApiError:
    """Record ``error`` as the media's failure (the caller then commits, discards the
    bytes and raises it)."""
    queries.mark_failed(media, code=1, name="InvalidMedia", message=error.detail)
    return error


def record(
    session: AsyncSession,
    media: Media,
    found: Examined,
    *,
    policy: UploadPolicy,
    now: datetime,
) -> None:
    """Record what ``examine`` found and queue the processing job, in the caller's locked
    transaction (so the job exists exactly when the finalized state is committed)."""
    queries.mark_published(
        media,
        size=found.size,
        sha256=found.sha256,
        detected_type=found.detected_type,
        media_type=found.media_type,
        kind=found.kind,
        width=found.width,
        height=found.height,
        state=UploadState.PENDING if media.is_async else UploadState.IN_PROGRESS,
        finalized_at=now,
        expires_at=now + policy.media_ttl,
    )
    if media.is_async:
        jobs.enqueue(
            session,
            kind=jobs.PROCESS_MEDIA,
            media_id=media.id,
            max_attempts=policy.job_max_attempts,
            now=now,
        )
    else:
        jobs.enqueue(
            session,
            kind=jobs.PROCESS_MEDIA,
            media_id=media.id,
            max_attempts=policy.job_max_attempts,
            now=now,
            claimed_by=_sync_worker(),
            lease=policy.job_lease,
        )


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
    except StorageFull as exc:  # not the media's fault: a worker retries once space is back
        await jobs.defer(
            sessions, job_id, error=repr(exc), now=utcnow(), delay=jobs.FULL_DISK_RETRY,
            worker=worker,
        )  # fmt: skip
        raise
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
