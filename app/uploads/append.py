"""APPEND: stream a segment to storage unlocked, then record it under the row lock.

The hot path of every upload: one query before the bytes move (skipped for an upload this
process has seen: what INIT fixed is cached), none while they stream, one short locked
transaction after.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core import errors
from app.infra.statements import Prepared, Statements, Transaction
from app.models import Media, MediaSegment
from app.processing.sniff import SNIFF_BYTES, compatible, sniff
from app.storage import SegmentStore, StagedSegment
from app.storage.keys import media as storage_key
from app.uploads import protocol
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import UploadSnapshot, UploadState
from app.uploads.streams import capped

__all__ = ["append_segment"]


_MEDIA_TABLE = cast(Table, Media.__table__)
_SEGMENTS_TABLE = cast(Table, MediaSegment.__table__)
_MEDIA, _SEGMENTS = _MEDIA_TABLE.c, _SEGMENTS_TABLE.c

# What an APPEND checks, in one query of plain columns: the upload's state and size, its
# declared media type, and the bytes its other segments hold (loading every segment row
# on each APPEND would make an upload quadratic in its segment count).
_OTHERS = (
    select(func.coalesce(func.sum(_SEGMENTS.size), 0))
    .where(_SEGMENTS.media_id == _MEDIA.id, _SEGMENTS.segment_index != bindparam("index"))
    .scalar_subquery()
)
_CHECK = select(
    _MEDIA.state, _MEDIA.total_bytes, _MEDIA.expires_at, _MEDIA.media_type, _OTHERS.label("others")
).where(_MEDIA.id == bindparam("media_id"), _MEDIA.owner_id == bindparam("owner_id"))
_LOAD = Prepared(_CHECK)
_LOAD_LOCKED = Prepared(_CHECK.with_for_update(of=_MEDIA_TABLE))


def _upsert(insert: Any) -> Prepared:
    """INSERT, or replace the row of a re-sent index, in one statement."""
    statement = insert(_SEGMENTS_TABLE)
    replaced = {key: statement.excluded[key] for key in ("size", "sha256", "received_at")}
    statement = statement.on_conflict_do_update(
        index_elements=["media_id", "segment_index"], set_=replaced
    )
    return Prepared(statement, columns=["media_id", "segment_index", *replaced])


_UPSERT = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(postgresql_insert)}


async def _load_for_append(
    transaction: Transaction, prepared: Prepared, *, owner_id: int, media_id: int, index: int
) -> tuple[UploadSnapshot, str, int]:
    row = await transaction.one(
        prepared, {"media_id": media_id, "owner_id": owner_id, "index": index}
    )
    if row is None:
        raise errors.InvalidMediaId(media_id)
    snapshot = UploadSnapshot(
        media_id=media_id,
        state=row.state,
        total_bytes=row.total_bytes,
        segments={},
        expires_at=row.expires_at,
    )
    return snapshot, row.media_type, int(row.others)


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


async def append_segment(
    statements: Statements,
    store: SegmentStore,
    policy: UploadPolicy,
    *,
    owner_id: int,
    media_id: int,
    index: int,
    chunks: AsyncIterable[bytes],
    expected_sha256: str | None,
    now: datetime,
) -> datetime:
    """APPEND: check, stream the segment to storage unlocked, then record it under lock.
    Returns when the upload expires (v2 answers it).

    Re-sending an index replaces it; a failure at any step leaves the previous segment.
    The first check only reads: the record step re-checks under the lock.
    """
    facts = _FACTS.get(media_id)
    if facts is not None and facts.owner_id == owner_id:
        # Later segments of an upload this process has seen: what INIT fixed is cached;
        # the state and the exact room are checked by the record step, under the lock.
        protocol.check_append(facts.snapshot(media_id), index=index, now=now)
        total, others, declared = facts.total_bytes, 0, facts.media_type
    else:
        async with statements.transaction(write=False) as transaction:
            snapshot, declared, others = await _load_for_append(
                transaction, _LOAD, owner_id=owner_id, media_id=media_id, index=index
            )
        protocol.check_append(snapshot, index=index, now=now)
        _remember(media_id, owner_id, snapshot, declared)
        total = snapshot.total_bytes
    room = total - others

    cap = policy.limits.segment
    stream = capped(chunks, cap, lambda _: errors.SegmentTooLarge(cap))
    stream = capped(
        stream, room, lambda seen: errors.TotalBytesExceeded(total, total - room + seen)
    )
    if index == 0:
        stream = _sniffed(stream, declared)
    # SHA-256 only when the client sent one to check: STATUS computes the others on
    # demand, so the common upload does not pay a hash pass over every byte.
    staged = await store.stage_segment(
        storage_key(media_id), index, stream, checksum=expected_sha256 is not None
    )
    try:
        if expected_sha256 is not None and not hmac.compare_digest(
            expected_sha256.lower(), staged.sha256 or ""
        ):
            raise errors.ChecksumMismatch(expected_sha256.lower(), staged.sha256 or "")
        return await _record_segment(statements, store, staged, owner_id=owner_id, now=now)
    except BaseException:
        await store.abort_segment(staged)
        raise


async def _record_segment(
    statements: Statements,
    store: SegmentStore,
    staged: StagedSegment,
    *,
    owner_id: int,
    now: datetime,
) -> datetime:
    media_id = int(staged.key)
    async with statements.transaction(write=True) as transaction:
        snapshot, _, others = await _load_for_append(
            transaction, _LOAD_LOCKED, owner_id=owner_id, media_id=media_id, index=staged.index
        )
        # FINALIZE or a concurrent APPEND may have won the race since the first check.
        protocol.check_append(snapshot, index=staged.index, now=now)
        protocol.check_fits(snapshot.total_bytes, others=others, size=staged.size)
        await store.commit_segment(staged)
        await transaction.execute(
            _UPSERT[statements.dialect],
            {
                "media_id": media_id,
                "segment_index": staged.index,
                "size": staged.size,
                "sha256": staged.sha256,
                "received_at": now,
            },
        )
    await store.finalize_commit(staged)  # recorded: the replaced segment can go
    return snapshot.expires_at
