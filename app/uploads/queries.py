"""The only writer of ``media``, ``media_segments`` and ``media_segment_reservations``.

Two kinds of callers, one module:

* the hot paths (INIT, APPEND, STATUS) run compiled Core statements through
  ``Statements`` (``app.infra.statements``), which nothing else in ``app.uploads`` touches;
* the use cases that hold an ORM session (FINALIZE's locked steps, the simple upload,
  processing, alt text, attaching to posts, DMs and subtitles, expiry) change a loaded
  ``Media`` through the functions here, inside the caller's transaction; the caller
  commits.

``tests/test_architecture.py`` checks that nothing outside this module builds an
INSERT/UPDATE/DELETE of these tables or assigns a column of a ``Media``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core import errors
from app.core.ids import IdGenerator
from app.infra.statements import Prepared, Statements, Transaction
from app.models import Media, MediaOwner, MediaSegment, MediaSegmentReservation
from app.uploads import protocol
from app.uploads.protocol import MediaKind, UploadSnapshot, UploadState

__all__ = [
    "AppendCheck",
    "LockedUpload",
    "MediaRowRefused",
    "SegmentHash",
    "Statements",
    "append_check",
    "constraint_of",
    "delete_media",
    "insert_upload",
    "insert_upload_in_session",
    "load_owned",
    "locked_upload",
    "mark_failed",
    "mark_finalizing",
    "mark_processed",
    "mark_processing",
    "mark_published",
    "mark_removed",
    "mark_used",
    "release_finalizing",
    "set_alt_text",
    "set_progress",
    "set_simple_upload_size",
    "status_rows",
    "store_segment_hashes",
    "upload_row",
]

_MEDIA_TABLE = cast(Table, Media.__table__)
_OWNERS_TABLE = cast(Table, MediaOwner.__table__)
_SEGMENTS_TABLE = cast(Table, MediaSegment.__table__)
_RESERVATIONS_TABLE = cast(Table, MediaSegmentReservation.__table__)
_MEDIA, _SEGMENTS, _RESERVATIONS = _MEDIA_TABLE.c, _SEGMENTS_TABLE.c, _RESERVATIONS_TABLE.c

_ATTEMPTS = 5  # id draws before INIT gives up (a collision needs two nodes with one id)


# --- IntegrityError, told apart by constraint -------------------------------------------

# The media key embeds the id (``3_<id>``), so a clash on it is an id clash too.
_ID_TAKEN = frozenset({"pk_media", "uq_media_media_key"})
_OWNER_GONE = "fk_media_owner_id_accounts"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


class MediaRowRefused(RuntimeError):
    """The database refused a new media row for a reason other than an id collision:
    a bug (a constraint the code should have satisfied), never the client's fault."""

    def __init__(self, constraint: str | None, error: IntegrityError) -> None:
        super().__init__(f"media row refused by constraint {constraint or 'unknown'}: {error.orig}")
        self.constraint = constraint


def constraint_of(error: IntegrityError) -> str | None:
    """The name of the constraint behind ``error``, or None if the driver does not say.

    PostgreSQL names it; SQLite names the columns of a unique or primary key (mapped back
    to the constraint through the metadata) and says only "FOREIGN KEY" for a foreign key
    (mapped to ``"foreign_key"``).
    """
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    text = str(error.orig)
    if "FOREIGN KEY constraint failed" in text:
        return "foreign_key"
    match = _SQLITE_UNIQUE.search(text)
    if match is None:
        return None
    columns = [part.strip() for part in match.group(1).split(",")]
    table = Media.metadata.tables.get(columns[0].split(".", 1)[0])
    names = {part.split(".", 1)[-1] for part in columns}
    for constraint in table.constraints if table is not None else ():
        if not isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
            continue
        if {c.name for c in constraint.columns} == names:
            return str(constraint.name)
    return None


class _IdTaken(Exception):
    pass


def _classify(error: IntegrityError) -> Exception:
    constraint = constraint_of(error)
    if constraint in _ID_TAKEN:
        return _IdTaken()
    if constraint in (_OWNER_GONE, "foreign_key"):
        # The only foreign key of a media row: its owner's account is gone.
        return errors.NotAuthenticated()
    return MediaRowRefused(constraint, error)


# --- INIT and the simple upload: the new row --------------------------------------------


def upload_row(
    *,
    owner_id: int,
    kind: MediaKind,
    category: protocol.MediaCategory | None,
    is_async: bool,
    is_shared: bool,
    media_type: str,
    total_bytes: int,
    created_at: datetime,
    expires_at: datetime,
    finalizing_until: datetime | None = None,
) -> dict[str, Any]:
    """Every column of a new upload's row, each given a value here (no column is left to
    a default, so a new column must be decided on); ``id``/``media_key`` are drawn by
    the insert."""
    return {
        "id": None,
        "owner_id": owner_id,
        "media_key": None,
        "state": UploadState.UPLOADING,
        "kind": kind,
        "category": category.value if category else None,
        "is_async": is_async,
        "is_shared": is_shared,
        "is_used": False,
        "media_type": media_type,
        "total_bytes": total_bytes,
        "size": None,
        "sha256": None,
        "detected_type": None,
        "width": None,
        "height": None,
        "duration_ms": None,
        "alt_text": None,
        "progress_percent": None,
        "delivery_token": None,
        "error_code": None,
        "error_name": None,
        "error_message": None,
        "created_at": created_at,
        "finalized_at": None,
        "expires_at": expires_at,
        "finalizing_until": finalizing_until,
        "removed_at": None,
    }


_INSERT_MEDIA = Prepared(insert(_MEDIA_TABLE), columns=[c.key for c in _MEDIA])
_INSERT_OWNER = Prepared(insert(_OWNERS_TABLE), columns=["media_id", "account_id"])


def _draw(ids: IdGenerator, row: dict[str, Any]) -> None:
    row["id"] = ids.next_id()
    category = protocol.MediaCategory(row["category"]) if row["category"] else None
    row["media_key"] = protocol.media_key(row["id"], row["kind"], category)


async def insert_upload(
    statements: Statements, ids: IdGenerator, row: dict[str, Any], owners: Iterable[int]
) -> dict[str, Any]:
    """Insert ``row`` (from ``upload_row``) and its additional owners, group-committed
    with concurrent INITs; an id collision draws again. Returns the row as stored."""
    owner_ids = sorted(set(owners))

    async def unit(transaction: Transaction) -> None:
        try:
            await transaction.execute(_INSERT_MEDIA, row)
        except IntegrityError as error:
            raise _classify(error) from None
        for account_id in owner_ids:
            await transaction.execute(
                _INSERT_OWNER, {"media_id": row["id"], "account_id": account_id}
            )

    for _ in range(_ATTEMPTS):
        _draw(ids, row)
        try:
            await statements.write(unit)
            return row
        except _IdTaken:
            continue
    raise RuntimeError(f"could not allocate a media id in {_ATTEMPTS} draws")


async def insert_upload_in_session(
    session: AsyncSession, ids: IdGenerator, row: dict[str, Any], owners: Iterable[int]
) -> dict[str, Any]:
    """``insert_upload`` inside the caller's session (which commits)."""
    for _ in range(_ATTEMPTS):
        _draw(ids, row)
        try:
            async with session.begin_nested():
                await session.execute(insert(_MEDIA_TABLE), row)
        except IntegrityError as error:
            classified = _classify(error)
            if isinstance(classified, _IdTaken):
                continue
            raise classified from None
        owner_ids = sorted(set(owners))
        if owner_ids:
            await session.execute(
                insert(_OWNERS_TABLE), [{"media_id": row["id"], "account_id": a} for a in owner_ids]
            )
        return row
    raise RuntimeError(f"could not allocate a media id in {_ATTEMPTS} draws")


# --- STATUS -----------------------------------------------------------------------------

# One statement (one snapshot, no BEGIN/COMMIT): the media row, joined while it is still
# uploading with its segments, one row per segment (or one with NULLs).
_STATUS = Prepared(
    select(
        *_MEDIA,
        _SEGMENTS.segment_index.label("segment_index"),
        _SEGMENTS.size.label("segment_size"),
        _SEGMENTS.sha256.label("segment_sha256"),
        _SEGMENTS.received_at.label("segment_received_at"),
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
# A hash STATUS computed, kept only if the row still describes the bytes it hashed: a
# re-APPEND of the index meanwhile changed received_at (and maybe size) and reset sha256.
_STORE_HASH = Prepared(
    update(_SEGMENTS_TABLE)
    .where(
        _SEGMENTS.media_id == bindparam("b_media_id"),
        _SEGMENTS.segment_index == bindparam("b_index"),
        _SEGMENTS.sha256.is_(None),
        _SEGMENTS.size == bindparam("b_size"),
        _SEGMENTS.received_at == bindparam("b_received_at"),
    )
    .values(sha256=bindparam("b_sha256"))
)


async def status_rows(statements: Statements, *, media_id: int, owner_id: int) -> list[Any]:
    return await statements.read(_STATUS, {"media_id": media_id, "owner_id": owner_id})


@dataclass(frozen=True, slots=True)
class SegmentHash:
    """A segment's SHA-256 and the row facts it was computed against."""

    index: int
    size: int
    received_at: datetime
    sha256: str


async def store_segment_hashes(
    statements: Statements, media_id: int, hashes: Iterable[SegmentHash]
) -> None:
    """Keep hashes STATUS computed (one short write); a hash of bytes that were replaced
    meanwhile is not kept."""
    items = list(hashes)
    if not items:
        return
    async with statements.transaction(write=True) as transaction:
        for item in items:
            await transaction.execute(
                _STORE_HASH,
                {
                    "b_media_id": media_id,
                    "b_index": item.index,
                    "b_size": item.size,
                    "b_received_at": item.received_at,
                    "b_sha256": item.sha256,
                },
            )


# --- APPEND -----------------------------------------------------------------------------

# What an APPEND checks, in one query of plain columns: the upload's state and size, its
# declared media type, and the bytes its other segments hold (loading every segment row
# on each APPEND would make an upload quadratic in its segment count).
_OTHERS = (
    select(func.coalesce(func.sum(_SEGMENTS.size), 0))
    .where(_SEGMENTS.media_id == _MEDIA.id, _SEGMENTS.segment_index != bindparam("index"))
    .scalar_subquery()
)
_CHECK = select(
    _MEDIA.state,
    _MEDIA.total_bytes,
    _MEDIA.expires_at,
    _MEDIA.media_type,
    _MEDIA.finalizing_until,
    _OTHERS.label("others"),
).where(_MEDIA.id == bindparam("media_id"), _MEDIA.owner_id == bindparam("owner_id"))
_LOAD = Prepared(_CHECK)
_LOAD_LOCKED = Prepared(_CHECK.with_for_update(of=_MEDIA_TABLE))
# Indexes an index-less APPEND may not take: stored, or reserved by one still streaming.
_TAKEN = Prepared(
    union_all(
        select(_SEGMENTS.segment_index).where(_SEGMENTS.media_id == bindparam("media_id")),
        select(_RESERVATIONS.segment_index).where(
            _RESERVATIONS.media_id == bindparam("media_id"),
            _RESERVATIONS.reserved_until > bindparam("now"),
        ),
    )
)
_UNRESERVE = Prepared(
    delete(_RESERVATIONS_TABLE).where(
        _RESERVATIONS.media_id == bindparam("media_id"),
        _RESERVATIONS.segment_index == bindparam("segment_index"),
    )
)
_RELEASE = Prepared(
    delete(_RESERVATIONS_TABLE).where(
        _RESERVATIONS.media_id == bindparam("media_id"),
        _RESERVATIONS.segment_index == bindparam("segment_index"),
        _RESERVATIONS.reserved_until == bindparam("reserved_until"),
    )
)


def _upsert(insert: Any, table: Table, replaced: tuple[str, ...], keys: list[str]) -> Prepared:
    """INSERT, or replace the row of a re-sent key, in one statement."""
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={key: statement.excluded[key] for key in replaced}
    )
    return Prepared(statement, columns=[*keys, *replaced])


_SEGMENT_KEYS = ["media_id", "segment_index"]
_UPSERT_SEGMENT = {
    name: _upsert(dialect_insert, _SEGMENTS_TABLE, ("size", "sha256", "received_at"), _SEGMENT_KEYS)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_RESERVE = {
    name: _upsert(dialect_insert, _RESERVATIONS_TABLE, ("reserved_until",), _SEGMENT_KEYS)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


@dataclass(frozen=True, slots=True)
class AppendCheck:
    """What APPEND checks before its bytes stream: the upload as a snapshot (without its
    segments), its declared type and the bytes of its other segments."""

    snapshot: UploadSnapshot
    media_type: str
    others: int


def _append_check(row: Any, media_id: int) -> AppendCheck:
    snapshot = UploadSnapshot(
        media_id=media_id,
        state=row.state,
        total_bytes=row.total_bytes,
        segments={},
        expires_at=row.expires_at,
        finalizing_until=row.finalizing_until,
    )
    return AppendCheck(snapshot, row.media_type, int(row.others))


async def append_check(
    statements: Statements, *, owner_id: int, media_id: int, index: int
) -> AppendCheck:
    """One read, no lock (the record step checks again under it)."""
    rows = await statements.read(
        _LOAD, {"media_id": media_id, "owner_id": owner_id, "index": index}
    )
    if not rows:
        raise errors.InvalidMediaId(media_id)
    return _append_check(rows[0], media_id)


class LockedUpload:
    """An upload under its lock (the write transaction on SQLite, ``FOR UPDATE`` of the
    media row on PostgreSQL), for APPEND's short steps."""

    def __init__(self, transaction: Transaction, dialect: str, check: AppendCheck) -> None:
        self._transaction, self._dialect, self.check = transaction, dialect, check
        self.media_id = check.snapshot.media_id

    @property
    def snapshot(self) -> UploadSnapshot:
        return self.check.snapshot

    async def taken_indexes(self, *, now: datetime) -> list[int]:
        rows = await self._transaction.all(_TAKEN, {"media_id": self.media_id, "now": now})
        return [row[0] for row in rows]

    async def reserve(self, index: int, *, until: datetime) -> None:
        await self._transaction.execute(
            _RESERVE[self._dialect],
            {"media_id": self.media_id, "segment_index": index, "reserved_until": until},
        )

    async def record_segment(
        self,
        index: int,
        *,
        size: int,
        sha256: str | None,
        now: datetime,
        reserved: bool = False,
    ) -> None:
        """Insert or replace segment ``index``; ``reserved``: it ends a reservation."""
        await self._transaction.execute(
            _UPSERT_SEGMENT[self._dialect],
            {
                "media_id": self.media_id,
                "segment_index": index,
                "size": size,
                "sha256": sha256,
                "received_at": now,
            },
        )
        if reserved:
            await self._transaction.execute(
                _UNRESERVE, {"media_id": self.media_id, "segment_index": index}
            )


@asynccontextmanager
async def locked_upload(
    statements: Statements, *, owner_id: int, media_id: int, index: int
) -> AsyncIterator[LockedUpload]:
    """A short write transaction holding the upload; committed when the block ends,
    rolled back if it raises. ``others`` is counted for segment ``index``."""
    async with statements.transaction(write=True) as transaction:
        row = await transaction.one(
            _LOAD_LOCKED, {"media_id": media_id, "owner_id": owner_id, "index": index}
        )
        if row is None:
            raise errors.InvalidMediaId(media_id)
        yield LockedUpload(transaction, statements.dialect, _append_check(row, media_id))


async def release_reservation(
    statements: Statements, *, media_id: int, index: int, until: datetime
) -> None:
    """Give back an index an APPEND reserved and did not record (unless it lapsed and was
    handed out again)."""
    async with statements.transaction(write=True) as transaction:
        await transaction.execute(
            _RELEASE, {"media_id": media_id, "segment_index": index, "reserved_until": until}
        )


# --- FINALIZE and the simple upload: ORM, inside the caller's transaction ---------------


async def load_owned(
    session: AsyncSession,
    *,
    owner_id: int,
    media_id: int,
    for_update: bool = False,
    missing: type[errors.ApiError] = errors.InvalidMediaId,
) -> Media:
    """The caller's media with its segments; someone else's is indistinguishable from
    none at all."""
    query = select(Media).where(Media.id == media_id, Media.owner_id == owner_id)
    if for_update:
        query = query.with_for_update()
    media = await session.scalar(query.options(selectinload(Media.segments)))
    if media is None:
        raise errors.InvalidMediaId(media_id) if missing is errors.InvalidMediaId else missing()
    return media


def mark_finalizing(media: Media, *, until: datetime) -> None:
    """Close the upload to APPEND and take FINALIZE's lease until ``until``; the expiry
    moves past the lease, so the sweeper never takes the bytes from under the assembly."""
    media.finalizing_until = until
    media.expires_at = max(media.expires_at, until)


async def release_finalizing(session: AsyncSession, *, media_id: int, until: datetime) -> None:
    """Give up FINALIZE's lease (the assembly failed before deciding anything), unless
    another FINALIZE holds it by now; the upload takes APPENDs again."""
    await session.execute(
        update(Media)
        .where(
            Media.id == media_id,
            Media.state == UploadState.UPLOADING,
            Media.finalizing_until == until,
        )
        .values(finalizing_until=None)
    )


def set_simple_upload_size(media: Media, size: int) -> None:
    media.total_bytes = size


def mark_published(
    media: Media,
    *,
    size: int,
    sha256: str,
    detected_type: str | None,
    media_type: str,
    kind: MediaKind,
    width: int | None,
    height: int | None,
    state: UploadState,
    finalized_at: datetime,
    expires_at: datetime,
) -> None:
    """Record what the assembly found; FINALIZE's lease ends."""
    media.size, media.sha256, media.detected_type = size, sha256, detected_type
    media.media_type = media_type
    if kind is not media.kind:  # an animated GIF sent without a category
        media.kind = kind
        media.media_key = protocol.media_key(media.id, kind, None)
    if width and height:
        media.width, media.height = width, height
    media.state = state
    media.progress_percent = 0 if state is UploadState.IN_PROGRESS else None
    media.finalized_at, media.expires_at = finalized_at, expires_at
    media.finalizing_until = None


def mark_failed(media: Media, *, code: int, name: str, message: str) -> None:
    """The media broke a rule (at FINALIZE or in processing): ``processing_info.error``."""
    media.state = UploadState.FAILED
    media.error_code, media.error_name, media.error_message = code, name, message
    media.finalizing_until = None


def reopen_failed(media: Media) -> None:
    """A media failed for a cause outside the file, processed again (an operator's retry)."""
    media.state, media.progress_percent = UploadState.PENDING, None
    media.error_code = media.error_name = media.error_message = None


# --- processing -------------------------------------------------------------------------


def mark_processing(media: Media) -> None:
    media.state, media.progress_percent = UploadState.IN_PROGRESS, 0


async def set_progress(session: AsyncSession, *, media_id: int, percent: int) -> None:
    """Progress of a media still in progress (a no-op once it left that state)."""
    await session.execute(
        update(Media)
        .where(Media.id == media_id, Media.state == UploadState.IN_PROGRESS)
        .values(progress_percent=percent)
    )


def mark_processed(
    media: Media,
    *,
    width: int | None,
    height: int | None,
    duration_ms: int | None,
    delivery_token: str,
) -> None:
    if width and height:
        media.width, media.height = width, height
    media.duration_ms = duration_ms
    media.delivery_token = media.delivery_token or delivery_token
    media.state, media.progress_percent = UploadState.SUCCEEDED, 100


# --- after processing: metadata, attachments, expiry ------------------------------------


def set_alt_text(media: Media, text: str | None) -> None:
    media.alt_text = text


def mark_used(media: Media) -> None:
    """Attached to a post, DM or video: it no longer expires."""
    media.is_used = True


def mark_removed(media: Media, *, now: datetime) -> None:
    """Deleted from a studio library (the trash can): its bytes go, the row stays so
    the posts that carried it say it is unavailable; no delivery URL resolves again."""
    media.removed_at = now
    media.delivery_token = None


async def delete_media(session: AsyncSession, *, media_id: int) -> None:
    """The row and, by cascade, its segments, owners, reservations and variants."""
    await session.execute(delete(Media).where(Media.id == media_id))


def segment_sizes(media: Media) -> Mapping[int, int]:
    return {s.segment_index: s.size for s in media.segments}
