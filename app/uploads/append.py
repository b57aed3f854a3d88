"""APPEND: stream a segment to storage unlocked, then record it under the row lock.

The hot path of every upload: one query before the bytes move (skipped for an upload this
process has seen: what INIT fixed is cached), none while they stream, one short locked
transaction after. An index-less APPEND (v2) instead reserves the next free index in a
short locked step before streaming, so concurrent ones get distinct indexes in the order
they arrived. The SQL lives in ``app.uploads.queries``.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from app.core import errors
from app.infra import metrics
from app.processing.sniff import SNIFF_BYTES, compatible, sniff
from app.storage import SegmentStore, StagedSegment
from app.storage.keys import media as storage_key
from app.uploads import protocol, queries
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import UploadSnapshot, UploadState
from app.uploads.streams import capped

__all__ = ["append_segment"]


async def _sniffed(chunks: AsyncIterable[bytes], declared: str) -> AsyncIterator[bytes]:
    """Refuse segment 0 early when its first bytes cannot be ``declared``."""
    head = b""
    checked = False
    async for chunk in chunks:
        if not checked:
            head += chunk[: SNIFF_BYTES - len(head)]
            if len(head) >= SNIFF_BYTES:
                _check_head(head, declared)
                checked = True
        yield chunk
    if not checked:
        _check_head(head, declared)


async def _not_empty(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    empty = True
    async for chunk in chunks:
        empty = empty and not chunk
        yield chunk
    if empty:
        raise errors.BadParameter("The media segment is empty.")


def _check_head(head: bytes, declared: str) -> None:
    detected = sniff(head)
    if not compatible(declared, detected):
        raise errors.ContentMismatch(
            f"File content does not match media_type {declared}: "
            f"detected {detected or 'unrecognized data'}.",
            detected_type=detected,
        )


@dataclass(frozen=True, slots=True)
class _UploadFacts:
    """What INIT fixed about an open upload; it never changes while APPENDs arrive."""

    owner_id: int
    total_bytes: int
    expires_at: datetime
    media_type: str

    def snapshot(self, media_id: int) -> UploadSnapshot:
        return UploadSnapshot(
            media_id=media_id,
            state=UploadState.UPLOADING,
            total_bytes=self.total_bytes,
            segments={},
            expires_at=self.expires_at,
        )


# Per process: saves the pre-check query on every APPEND after an upload's first.
_FACTS: OrderedDict[int, _UploadFacts] = OrderedDict()
_FACTS_MAX = 10_000


def _remember(media_id: int, owner_id: int, snapshot: UploadSnapshot, media_type: str) -> None:
    _FACTS[media_id] = _UploadFacts(owner_id, snapshot.total_bytes, snapshot.expires_at, media_type)
    if len(_FACTS) > _FACTS_MAX:
        _FACTS.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Room:
    """What streaming a segment needs to know: the upload's size, the bytes its other
    segments hold (0 when unknown: the record step counts them under the lock) and the
    declared type that segment 0 is sniffed against."""

    total: int
    others: int
    declared: str


async def append_segment(
    statements: queries.Statements,
    store: SegmentStore,
    policy: UploadPolicy,
    *,
    owner_id: int,
    media_id: int,
    index: int | None,
    chunks: AsyncIterable[bytes],
    expected_sha256: str | None,
    now: datetime,
) -> datetime:
    """APPEND: check, stream the segment to storage unlocked, then record it under lock.
    Returns when the upload expires (v2 answers it).

    Re-sending an index replaces it; a failure at any step leaves the previous segment.
    The first check only reads: the record step re-checks under the lock. ``index=None``
    means the next index, assigned under the upload's lock before the bytes stream: the
    lowest one neither stored nor reserved by another APPEND still streaming (so a
    failed APPEND's index goes to its retry).
    """
    if index is None:
        index, room, reserved = await _reserve_index(
            statements, policy, owner_id=owner_id, media_id=media_id, now=now
        )
        try:
            return await _stream_and_record(
                statements, store, policy, room, owner_id=owner_id, media_id=media_id,
                index=index, chunks=chunks, expected_sha256=expected_sha256, now=now,
                reserved=True,
            )  # fmt: skip
        except BaseException:
            await queries.release_reservation(
                statements, media_id=media_id, index=index, until=reserved
            )
            raise
    facts = _FACTS.get(media_id)
    if facts is not None and facts.owner_id == owner_id:
        # Later segments of an upload this process has seen: what INIT fixed is cached;
        # the state and the exact room are checked by the record step, under the lock.
        protocol.check_append(facts.snapshot(media_id), index=index, now=now)
        room = _Room(facts.total_bytes, 0, facts.media_type)
    else:
        check = await queries.append_check(
            statements, owner_id=owner_id, media_id=media_id, index=index
        )
        protocol.check_append(check.snapshot, index=index, now=now)
        _remember(media_id, owner_id, check.snapshot, check.media_type)
        room = _Room(check.snapshot.total_bytes, check.others, check.media_type)
    return await _stream_and_record(
        statements, store, policy, room, owner_id=owner_id, media_id=media_id, index=index,
        chunks=chunks, expected_sha256=expected_sha256, now=now, reserved=False,
    )  # fmt: skip


async def _reserve_index(
    statements: queries.Statements,
    policy: UploadPolicy,
    *,
    owner_id: int,
    media_id: int,
    now: datetime,
) -> tuple[int, _Room, datetime]:
    """The short locked step of an index-less APPEND: check the upload, take the next
    free index. The reservation lapses after the job lease, should this process die."""
    until = now + policy.job_lease
    async with queries.locked_upload(
        statements, owner_id=owner_id, media_id=media_id, index=-1
    ) as upload:
        protocol.check_open(upload.snapshot, now=now)
        index = protocol.next_free_index(await upload.taken_indexes(now=now))
        await upload.reserve(index, until=until)
    # ``others`` counted every segment (index -1): the new index holds none yet.
    room = _Room(upload.snapshot.total_bytes, upload.check.others, upload.check.media_type)
    return index, room, until


async def _stream_and_record(
    statements: queries.Statements,
    store: SegmentStore,
    policy: UploadPolicy,
    room: _Room,
    *,
    owner_id: int,
    media_id: int,
    index: int,
    chunks: AsyncIterable[bytes],
    expected_sha256: str | None,
    now: datetime,
    reserved: bool,
) -> datetime:
    total, left = room.total, room.total - room.others
    cap = policy.limits.segment
    stream = capped(_not_empty(chunks), cap, lambda _: errors.SegmentTooLarge(cap))
    stream = capped(
        stream, left, lambda seen: errors.TotalBytesExceeded(total, total - left + seen)
    )
    if index == 0:
        stream = _sniffed(stream, room.declared)
    # SHA-256 only when the client sent one to check: STATUS computes the others on
    # demand (once: it keeps them), so the common upload does not pay a hash pass.
    staged = await store.stage_segment(
        storage_key(media_id), index, stream, checksum=expected_sha256 is not None
    )
    try:
        if expected_sha256 is not None and not hmac.compare_digest(
            expected_sha256.lower(), staged.sha256 or ""
        ):
            raise errors.ChecksumMismatch(expected_sha256.lower(), staged.sha256 or "")
        return await _record_segment(
            statements, store, staged, owner_id=owner_id, media_id=media_id, now=now,
            reserved=reserved,
        )  # fmt: skip
    except BaseException:
        await store.abort_segment(staged)
        raise


async def _record_segment(
    statements: queries.Statements,
    store: SegmentStore,
    staged: StagedSegment,
    *,
    owner_id: int,
    media_id: int,
    now: datetime,
    reserved: bool = False,
) -> datetime:
    async with queries.locked_upload(
        statements, owner_id=owner_id, media_id=media_id, index=staged.index
    ) as upload:
        # FINALIZE or a concurrent APPEND may have won the race since the first check.
        protocol.check_append(upload.snapshot, index=staged.index, now=now)
        protocol.check_fits(
            upload.snapshot.total_bytes, others=upload.check.others, size=staged.size
        )
        await store.commit_segment(staged)
        await upload.record_segment(
            staged.index, size=staged.size, sha256=staged.sha256, now=now, reserved=reserved
        )
    await store.finalize_commit(staged)  # recorded: the replaced segment can go
    metrics.BYTES_INGESTED.labels("append").inc(staged.size)
    return upload.snapshot.expires_at
