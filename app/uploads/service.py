"""The v1.1 upload use cases: INIT, APPEND, FINALIZE, STATUS and the simple upload.

Locking: the record step of APPEND and all of FINALIZE hold the media row
(``FOR UPDATE`` on PostgreSQL, the write transaction on SQLite); streaming holds nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from app.core import errors
from app.core.ids import IdGenerator
from app.infra.statements import Prepared, Statements, Transaction
from app.media.views import MediaView, media_view
from app.models import Media, MediaOwner, MediaSegment
from app.storage import SegmentStore, StoredSegment
from app.storage.keys import media as storage_key
from app.uploads import limits, protocol
from app.uploads import publish as finalize_step
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import MediaKind, UploadSnapshot, UploadState
from app.uploads.streams import capped

__all__ = [
    "finalize_upload",
    "get_status",
    "init_upload",
    "simple_upload",
]


_MEDIA_TABLE = cast(Table, Media.__table__)
_OWNERS_TABLE = cast(Table, MediaOwner.__table__)
_MEDIA = _MEDIA_TABLE.c
_SEGMENTS_TABLE = cast(Table, MediaSegment.__table__)
_SEGMENTS = _SEGMENTS_TABLE.c
# INIT and STATUS run often: prepared Core statements (app.statements), no ORM.
# One statement (so one snapshot, and no BEGIN/COMMIT): the media row, joined while it is
# still uploading with its segments, one row per segment (or one with NULLs).
_STATUS = Prepared(
    select(
        *_MEDIA,
        _SEGMENTS.segment_index.label("segment_index"),
        _SEGMENTS.size.label("segment_size"),
        _SEGMENTS.sha256.label("segment_sha256"),
    )
    .select_from(
        _MEDIA_TABLE.outerjoin(
            _SEGMENTS_TABLE,
            and_(_SEGMENTS.media_id == _MEDIA.id, _MEDIA.state == UploadState.UPLOADING),
        )
    )
    .where(_MEDIA.id == bindparam("media_id"), _MEDIA.owner_id == bindparam("owner_id"))
    .order_by(_SEGMENTS.segment_index)
)
_EMPTY_ROW: dict[str, Any] = dict.fromkeys(_MEDIA.keys())
_INSERT_MEDIA = Prepared(insert(_MEDIA_TABLE), columns=[c.key for c in _MEDIA])
_INSERT_OWNER = Prepared(insert(_OWNERS_TABLE), columns=["media_id", "account_id"])


async def _with_checksum(store: SegmentStore | None, media_id: int, row: Any) -> StoredSegment:
    """A segment's SHA-256, computed from the stored bytes when APPEND was not asked to
    check one (the common case); not saved, since only resuming clients ask."""
    sha256 = row.segment_sha256
    if sha256 is None and store is not None:
        sha256 = await store.segment_sha256(storage_key(media_id), row.segment_index)
    return StoredSegment(index=row.segment_index, size=row.segment_size, sha256=sha256)


def _snapshot(media: Media, segments: dict[int, int]) -> UploadSnapshot:
    return UploadSnapshot(
        media_id=media.id,
        state=media.state,
        total_bytes=media.total_bytes,
        segments=segments,
        expires_at=media.expires_at,
    )


async def load_owned(
    session: AsyncSession,
    *,
    owner_id: int,
    media_id: int,
    for_update: bool = False,
    missing: type[errors.ApiError] = errors.InvalidMediaId,
) -> Media:
    query = select(Media).where(Media.id == media_id, Media.owner_id == owner_id)
    if for_update:
        query = query.with_for_update()
    media = await session.scalar(query.options(selectinload(Media.segments)))
    if media is None:
        # Someone else's media is indistinguishable from none at all.
        raise errors.InvalidMediaId(media_id) if missing is errors.InvalidMediaId else missing()
    return media


def _segment_sizes(media: Media) -> dict[int, int]:
    return {s.segment_index: s.size for s in media.segments}


async def _insert_media(session: AsyncSession, ids: IdGenerator, media: Media) -> Media:
    for _ in range(5):
        media.id = ids.next_id()
        media.media_key = protocol.media_key(media.id, media.kind, _category(media))
        try:
            async with session.begin_nested():
                session.add(media)
            return media
        except IntegrityError:  # an id collision between nodes: draw again
            session.expunge(media)
    raise RuntimeError("could not allocate a media id")


def _category(media: Media) -> protocol.MediaCategory | None:
    return protocol.MediaCategory(media.category) if media.category else None


async def init_upload(
    statements: Statements,
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
    # A plain row, not an ORM object: INIT runs often and needs no unit of work.
    row = _EMPTY_ROW.copy()
    row |= {
        "owner_id": owner_id,
        "state": UploadState.UPLOADING,
        "kind": plan.kind,
        "category": category.value if category else None,
        "is_async": plan.is_async,
        "is_shared": shared,
        "is_used": False,
        "media_type": media_type.split(";")[0].strip().lower(),
        "total_bytes": total_bytes,
        "created_at": now,
        "expires_at": now + policy.upload_ttl,
    }
    owners = sorted(set(additional_owners))  # any ids, as on Twitter

    async def insert(transaction: Transaction) -> None:
        try:
            await transaction.execute(_INSERT_MEDIA, row)
        except IntegrityError:
            raise _IdTaken() from None
        for account_id in owners:
            await transaction.execute(
                _INSERT_OWNER, {"media_id": row["id"], "account_id": account_id}
            )

    for _ in range(5):
        media_id = row["id"] = ids.next_id()
        row["media_key"] = protocol.media_key(media_id, plan.kind, category)
        try:
            await statements.write(insert)  # group-committed with concurrent INITs
            return media_view(SimpleNamespace(**row), now=now)
        except _IdTaken:  # an id collision between nodes: draw again
            continue
    raise RuntimeError("could not allocate a media id")


class _IdTaken(Exception):
    pass


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

    Idempotent: a repeated FINALIZE returns the current state.
    """
    async with sessions() as session:
        media = await load_owned(session, owner_id=owner_id, media_id=media_id, for_update=True)
        if media.state is not UploadState.UPLOADING:
            return media_view(media, now=now)
        snapshot = _snapshot(media, _segment_sizes(media))
        protocol.check_open(snapshot, now=now)
        order = protocol.plan_finalize(snapshot)
        failure = await finalize_step.publish(
            session, store, media, order=order, policy=policy, now=now
        )
        await session.commit()
        view = media_view(media, now=now)
    if failure is not None:
        await store.discard(storage_key(media_id))
        raise failure
    if view.state is UploadState.IN_PROGRESS:  # not async: processed before answering
        view = await finalize_step.process_now(sessions, store, policy, media_id=media_id, now=now)
    return view


async def get_status(
    statements: Statements,
    *,
    owner_id: int,
    media_id: int,
    now: datetime,
    checksums: SegmentStore | None = None,
) -> MediaView:
    """STATUS: the upload's progress while uploading, else its processing state.

    With ``checksums`` (the store), every listed segment carries its SHA-256, computed
    from the stored bytes where APPEND did not compute one.

    Media that needed no processing answers 404 (code 34), as Twitter does for images.
    """
    rows = await statements.read(_STATUS, {"media_id": media_id, "owner_id": owner_id})
    media = rows[0] if rows else None
    if media is None:
        raise errors.MediaNotFound()  # someone else's media is indistinguishable from none
    if now >= media.expires_at and not media.is_used:
        raise errors.UploadExpired(media_id)
    if media.state is UploadState.UPLOADING:
        segments = [
            await _with_checksum(checksums, media_id, row)
            for row in rows
            if row.segment_index is not None
        ]
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
    """One-request image upload. The row exists from the start, so the sweeper reclaims
    whatever a crash leaves; a refused file leaves neither row nor bytes."""
    if category is not None and category not in (
        protocol.MediaCategory.TWEET_IMAGE,
        protocol.MediaCategory.DM_IMAGE,
    ):
        raise errors.MediaTypeUnrecognized(
            "Simple upload takes images only; use the chunked upload for video and GIF."
        )
    cap = policy.limits.image
    async with sessions() as session:
        media = Media(
            owner_id=owner_id,
            state=UploadState.UPLOADING,
            kind=MediaKind.IMAGE,
            category=category.value if category else None,
            is_async=False,
            is_shared=shared,
            is_used=False,
            media_type="application/octet-stream",
            total_bytes=cap,
            created_at=now,
            expires_at=now + policy.upload_ttl,
        )
        await _insert_media(session, ids, media)
        session.add_all(
            MediaOwner(media_id=media.id, account_id=uid) for uid in sorted(set(additional_owners))
        )
        await session.commit()
    media_id = media.id
    try:
        stream = capped(chunks, cap, lambda _: errors.FileTooLarge("Image", cap))
        # No segment checksum: assembling the one segment hashes the blob anyway.
        staged = await store.stage_segment(storage_key(media_id), 0, stream, checksum=False)
        await store.commit_segment(staged)
        await store.finalize_commit(staged)
        async with sessions() as session:
            media = await load_owned(session, owner_id=owner_id, media_id=media_id, for_update=True)
            media.total_bytes = staged.size
            media.media_type = "image/*"
            failure = await finalize_step.publish(
                session, store, media, order=[0], policy=policy, now=now
            )
            if failure is not None:
                raise failure
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
        media = await session.get(Media, media_id)
        if media is not None:
            await session.delete(media)
            await session.commit()
