"""The v1.1 upload use cases: INIT, FINALIZE, STATUS and the simple upload (APPEND is in
``app.uploads.append``).

No transaction is open while bytes move. FINALIZE: a short locked step marks the upload
finalizing (``protocol.finalize_action``), the assembly runs with no lock
(``publish.examine``), and a short locked step records the result if the lease is still
this FINALIZE's. Locks: ``FOR UPDATE`` of the media row on PostgreSQL, the write
transaction on SQLite. Every write of a media or segment row goes through
``app.uploads.queries``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import errors
from app.core.ids import IdGenerator
from app.infra import metrics
from app.media.views import MediaView, media_view
from app.models import Media
from app.storage import SegmentStore, StoredSegment
from app.storage.keys import media as storage_key
from app.uploads import limits, protocol, queries
from app.uploads import publish as finalize_step
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import FinalizeAction, MediaKind, UploadSnapshot, UploadState
from app.uploads.streams import capped

__all__ = [
    "finalize_upload",
    "get_status",
    "init_upload",
    "simple_upload",
]

log = logging.getLogger(__name__)

# What the simple upload makes of each category it takes.
_SIMPLE_UPLOAD_KINDS = {
    protocol.MediaCategory.TWEET_IMAGE: MediaKind.IMAGE,
    protocol.MediaCategory.DM_IMAGE: MediaKind.IMAGE,
    protocol.MediaCategory.TWEET_GIF: MediaKind.GIF,
    protocol.MediaCategory.DM_GIF: MediaKind.GIF,
}

# How often a FINALIZE waiting on another process's lease looks again (one in this
# process is awaited directly).
_LEASE_POLL_SECS = 0.2


def _snapshot(media: Media) -> UploadSnapshot:
    return UploadSnapshot(
        media_id=media.id,
        state=media.state,
        total_bytes=media.total_bytes,
        segments=queries.segment_sizes(media),
        expires_at=media.expires_at,
        finalizing_until=media.finalizing_until,
    )


async def init_upload(
    statements: queries.Statements,
    ids: IdGenerator,
    policy: UploadPolicy,
    *,
    owner_id: int,
    total_bytes: int,
    media_type: str,
    category: protocol.MediaCategory | None,
    additional_owners: list[int],
    shared: bool,
    now: datetime,
) -> MediaView:
    """INIT: check type and size against the category, then open the upload."""
    plan = protocol.plan_init(
        total_bytes=total_bytes, media_type=media_type, category=category, limits=policy.limits
    )
    if len(additional_owners) > limits.MAX_ADDITIONAL_OWNERS:
        raise errors.BadParameter("additional_owners may list at most 100 users.")
    row = queries.upload_row(
        owner_id=owner_id,
        kind=plan.kind,
        category=category,
        is_async=plan.is_async,
        is_shared=shared,
        media_type=media_type.split(";")[0].strip().lower(),
        total_bytes=total_bytes,
        created_at=now,
        expires_at=now + policy.upload_ttl,
    )
    # A plain row, not an ORM object: INIT runs often and needs no unit of work.
    stored = await queries.insert_upload(statements, ids, row, additional_owners)
    return media_view(SimpleNamespace(**stored), now=now)


@dataclass(frozen=True, slots=True)
class _Claim:
    """FINALIZE's lease, taken by the first step: assemble ``order``, then record."""

    upload: finalize_step.UploadFacts
    order: list[int]
    until: datetime


# FINALIZEs running in this process, so that a second one for the same media awaits the
# first's answer instead of polling the lease.
_RUNNING: dict[int, asyncio.Future[MediaView]] = {}


async def _claim(
    sessions: async_sessionmaker[AsyncSession],
    *,
    owner_id: int,
    media_id: int,
    now: datetime,
    lease: timedelta,
) -> MediaView | _Claim | datetime:
    """FINALIZE's first step, short and locked: the current state to answer, the lease
    to wait for (its end), or the lease taken."""
    async with sessions() as session:
        media = await queries.load_owned(
            session, owner_id=owner_id, media_id=media_id, for_update=True
        )
        snapshot = _snapshot(media)
        action = protocol.finalize_action(snapshot, now=now)
        if action is FinalizeAction.ANSWER:
            return media_view(media, now=now)
        if action is FinalizeAction.WAIT:
            assert snapshot.finalizing_until is not None
            return snapshot.finalizing_until
        claim = _Claim(
            upload=finalize_step.UploadFacts(
                media_id=media.id,
                kind=media.kind,
                category=media.category,
                media_type=media.media_type,
                total_bytes=media.total_bytes,
                segments=snapshot.segments,
            ),
            order=protocol.plan_finalize(snapshot),
            until=now + lease,
        )
        queries.mark_finalizing(media, until=claim.until)
        await session.commit()
    return claim


async def _release(
    sessions: async_sessionmaker[AsyncSession], *, media_id: int, until: datetime
) -> None:
    """After an assembly that failed before deciding anything: the upload is open again
    (as when the single transaction of old rolled back), so a retry starts at once."""
    try:
        async with sessions() as session:
            await queries.release_finalizing(session, media_id=media_id, until=until)
            await session.commit()
    except Exception:  # the lease then simply runs out
        log.warning("finalize lease not released", extra={"media_id": media_id}, exc_info=True)


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    policy: UploadPolicy,
    claim: _Claim,
    found: finalize_step.Examined | errors.ApiError,
    *,
    owner_id: int,
    now: datetime,
) -> tuple[MediaView, errors.ApiError | None] | None:
    """FINALIZE's last step, short and locked: record what the assembly found, if the
    lease is still ours (None when it lapsed and another FINALIZE took over)."""
    async with sessions() as session:
        media = await queries.load_owned(
            session, owner_id=owner_id, media_id=claim.upload.media_id, for_update=True
        )
        if media.state is not UploadState.UPLOADING or media.finalizing_until != claim.until:
            return None
        failure = None
        if isinstance(found, errors.ApiError):
            failure = finalize_step.record_failure(media, found)
        else:
            finalize_step.record(session, media, found, policy=policy, now=now)
        await session.commit()
        return media_view(media, now=now), failure


async def finalize_upload(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    policy: UploadPolicy,
    *,
    owner_id: int,
    media_id: int,
    now: datetime,
) -> MediaView:
    """FINALIZE: assemble, verify, and either publish or queue processing.

    Idempotent: a repeated FINALIZE returns the current state; one that arrives while
    another runs answers what that one answers (in this process) or waits for its lease
    to end (in another), and never assembles a second time.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        current = now + timedelta(seconds=loop.time() - started)
        claim = await _claim(
            sessions, owner_id=owner_id, media_id=media_id, now=current, lease=policy.job_lease
        )
        if isinstance(claim, MediaView):
            return claim
        if isinstance(claim, datetime):
            running = _RUNNING.get(media_id)
            if running is None:  # another process holds the lease: look again soon
                wait = (claim - current).total_seconds()
                await asyncio.sleep(min(_LEASE_POLL_SECS, max(wait, 0.0)))
                continue
            task = asyncio.current_task()
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise
                continue  # the first was cancelled and gave the lease back
        done = await _run_claimed(sessions, store, policy, claim, owner_id=owner_id, now=now)
        if done is not None:
            return done


async def _run_claimed(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    policy: UploadPolicy,
    claim: _Claim,
    *,
    owner_id: int,
    now: datetime,
) -> MediaView | None:
    media_id = claim.upload.media_id
    result: asyncio.Future[MediaView] = asyncio.get_running_loop().create_future()
    # A waiter may not be there to read the outcome: mark it read.
    result.add_done_callback(lambda f: None if f.cancelled() else f.exception())
    _RUNNING[media_id] = result
    try:
        view = await _assemble_and_record(
            sessions, store, policy, claim, owner_id=owner_id, now=now
        )
    except asyncio.CancelledError:
        result.cancel()
        raise
    except BaseException as exc:
        result.set_exception(exc)
        raise
    else:
        if view is None:
            result.cancel()  # waiters look at the lease again
        else:
            result.set_result(view)
        return view
    finally:
        if _RUNNING.get(media_id) is result:
            del _RUNNING[media_id]


async def _assemble_and_record(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    policy: UploadPolicy,
    claim: _Claim,
    *,
    owner_id: int,
    now: datetime,
) -> MediaView | None:
    media_id = claim.upload.media_id
    try:
        found = await finalize_step.examine(store, claim.upload, order=claim.order, policy=policy)
    except BaseException:
        await _release(sessions, media_id=media_id, until=claim.until)
        raise
    recorded = await _record(sessions, policy, claim, found, owner_id=owner_id, now=now)
    if recorded is None:
        return None
    view, failure = recorded
    if failure is not None:
        await store.discard(storage_key(media_id))
        raise failure
    if view.state is UploadState.IN_PROGRESS:  # not async: processed before answering
        view = await finalize_step.process_now(sessions, store, policy, media_id=media_id, now=now)
    return view


async def get_status(
    statements: queries.Statements,
    *,
    owner_id: int,
    media_id: int,
    now: datetime,
    checksums: SegmentStore | None = None,
) -> MediaView:
    """STATUS: the upload's progress while uploading, else its processing state.

    With ``checksums`` (the store), every listed segment carries its SHA-256: one APPEND
    did not compute is computed from the stored bytes once, and kept.

    Media that needed no processing answers 404 (code 34), as Twitter does for images.
    """
    rows = await queries.status_rows(statements, media_id=media_id, owner_id=owner_id)
    media = rows[0] if rows else None
    if media is None:
        raise errors.MediaNotFound()  # someone else's media is indistinguishable from none
    if now >= media.expires_at and not media.is_used:
        raise errors.UploadExpired(media_id)
    if media.state is UploadState.UPLOADING:
        # While a FINALIZE assembles, the segments are going: nothing to hash.
        store = checksums if media.finalizing_until is None else None
        segments, computed = [], []
        for row in rows:
            if row.segment_index is None:
                continue
            sha256 = row.segment_sha256
            if sha256 is None and store is not None:
                sha256 = await store.segment_sha256(storage_key(media_id), row.segment_index)
                if sha256 is not None:
                    computed.append(
                        queries.SegmentHash(
                            row.segment_index, row.segment_size, row.segment_received_at, sha256
                        )
                    )
            segments.append(StoredSegment(row.segment_index, row.segment_size, sha256))
        await queries.store_segment_hashes(statements, media_id, computed)
        return media_view(media, now=now, segments=segments)
    if not media.is_async:
        raise errors.MediaNotFound()
    return media_view(media, now=now)


async def simple_upload(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    ids: IdGenerator,
    policy: UploadPolicy,
    *,
    owner_id: int,
    chunks: AsyncIterable[bytes],
    category: protocol.MediaCategory | None,
    additional_owners: list[int],
    shared: bool,
    now: datetime,
) -> MediaView:
    """One-request image or GIF upload, processed before the answer. The row exists
    from the start (finalizing: no APPEND or FINALIZE of it gets in), so the sweeper
    reclaims whatever a crash leaves; a refused file leaves neither row nor bytes. No
    transaction is open while the bytes stream, are assembled or decoded.

    Every file is capped at the image limit (5 MiB: Twitter refuses a bigger GIF here
    with 324 "Image file size must be <= 5242880 bytes"; 15 MiB GIFs need the chunked
    upload). With ``tweet_gif``/``dm_gif`` the file must be a GIF and becomes an
    animated GIF (an mp4 variant, key ``16_``); with an image category it is a photo
    (a GIF's first frame); without a category an animated GIF becomes an animated GIF
    and anything else a photo, as a chunked upload without a category does.
    """
    kind = _SIMPLE_UPLOAD_KINDS.get(category) if category is not None else MediaKind.IMAGE
    if kind is None:
        raise errors.MediaTypeUnrecognized(
            "Simple upload takes images and GIFs only; use the chunked upload for video."
        )
    cap = policy.limits.image
    until = now + policy.job_lease
    row = queries.upload_row(
        owner_id=owner_id,
        kind=kind,
        category=category,
        is_async=False,
        is_shared=shared,
        media_type="application/octet-stream",
        total_bytes=cap,
        created_at=now,
        expires_at=max(now + policy.upload_ttl, until),
        finalizing_until=until,
    )
    async with sessions() as session:
        await queries.insert_upload_in_session(session, ids, row, additional_owners)
        await session.commit()
    media_id: int = row["id"]
    try:
        stream = capped(chunks, cap, lambda _: errors.FileTooLarge("Image", cap))
        # No segment checksum: assembling the one segment hashes the blob anyway.
        staged = await store.stage_segment(storage_key(media_id), 0, stream, checksum=False)
        await store.commit_segment(staged)
        await store.finalize_commit(staged)
        metrics.BYTES_INGESTED.labels("simple").inc(staged.size)
        upload = finalize_step.UploadFacts(
            media_id=media_id,
            kind=kind,
            category=row["category"],
            media_type="image/*",  # the bytes say what it is
            total_bytes=staged.size,
            segments={0: staged.size},
        )
        found = await finalize_step.examine(store, upload, order=[0], policy=policy)
        if isinstance(found, errors.ApiError):
            raise found
        if kind is MediaKind.GIF and found.media_type != "image/gif":
            raise errors.MediaTypeUnrecognized(f"media_category {category} takes GIFs only.")
        async with sessions() as session:
            media = await queries.load_owned(
                session, owner_id=owner_id, media_id=media_id, for_update=True
            )
            if media.finalizing_until != until:  # only a sweep of an expired row does that
                raise errors.InvalidMediaId(media_id)
            queries.set_simple_upload_size(media, staged.size)
            finalize_step.record(session, media, found, policy=policy, now=now)
            await session.commit()
        return await finalize_step.process_now(sessions, store, policy, media_id=media_id, now=now)
    except BaseException:
        await _delete_media(sessions, store, media_id)
        raise


async def _delete_media(
    sessions: async_sessionmaker[AsyncSession], store: SegmentStore, media_id: int
) -> None:
    await store.discard(storage_key(media_id))
    async with sessions() as session:
        await queries.delete_media(session, media_id=media_id)
        await session.commit()
