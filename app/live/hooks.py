"""What nginx reports about encoders, and the ends of broadcasts.

``on_publish`` checks a stream key at connect (an unknown or replaced key, or a second
publisher on a key that is live: refused, the encoder disconnected) and answers the
internal name the stream is renamed to; ``on_publish_done`` and ``on_record_done`` close
the ingest and keep its recording. ``finish`` moves a broadcast to a terminal state;
``maybe_queue`` hands a finished broadcast's recordings to the ``live_recording`` job once
every ingest of it has reported its file. Every function that takes a session commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import IdGenerator
from app.jobs import queue
from app.live.rules import ACTIVE, BroadcastState
from app.models import LiveBroadcast, LiveIngest, LiveSource
from app.storage.live import LiveFiles

__all__ = [
    "KIND",
    "Refused",
    "close_ingest",
    "finish",
    "forget_recordings",
    "maybe_queue",
    "on_publish",
    "on_publish_done",
    "on_record_done",
]

KIND = "live_recording"
RECORDING_ATTEMPTS = 3


class Refused(Exception):
    """nginx is told to refuse the publisher (the encoder is disconnected at once)."""


async def _active_broadcast(session: AsyncSession, source_id: str) -> LiveBroadcast | None:
    return await session.scalar(
        select(LiveBroadcast).where(
            LiveBroadcast.source_id == source_id, LiveBroadcast.state.in_(ACTIVE)
        )
    )


async def on_publish(
    session: AsyncSession, ids: IdGenerator, *, key: str, client_id: str, address: str,
    now: datetime,
) -> str:  # fmt: skip
    source = await session.scalar(select(LiveSource).where(LiveSource.stream_key == key))
    if source is None:
        raise Refused("unknown or revoked stream key")
    taken = await session.execute(
        update(LiveSource)
        .where(LiveSource.id == source.id, LiveSource.is_stream_active.is_(False))
        .values(is_stream_active=True, updated_at=now, probed_at=None)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise Refused("another encoder is live on this stream key")
    broadcast = await _active_broadcast(session, source.id)
    session.add(
        LiveIngest(
            id=ids.next_id(), source_id=source.id,
            broadcast_id=None if broadcast is None else broadcast.id,
            client_id=client_id[:32], address=address[:64], started_at=now, recorded=False,
        )
    )  # fmt: skip
    if broadcast is not None and broadcast.state == BroadcastState.RUNNING.value:
        broadcast.ingest_lost_at = None
    name = source.live_name
    await session.commit()
    return name


async def close_ingest(session: AsyncSession, ingest: LiveIngest, *, now: datetime) -> None:
    """The encoder went away: the source stops being active; a RUNNING broadcast's
    reconnect window starts. In the caller's transaction."""
    ingest.ended_at = now
    others = await session.scalar(
        select(LiveIngest.id).where(
            LiveIngest.source_id == ingest.source_id,
            LiveIngest.ended_at.is_(None),
            LiveIngest.id != ingest.id,
        )
    )
    if others is None:
        await session.execute(
            update(LiveSource)
            .where(LiveSource.id == ingest.source_id)
            .values(is_stream_active=False, updated_at=now)
        )
    if ingest.broadcast_id is not None:
        await session.execute(
            update(LiveBroadcast)
            .where(
                LiveBroadcast.id == ingest.broadcast_id,
                LiveBroadcast.state == BroadcastState.RUNNING.value,
            )
            .values(ingest_lost_at=now)
        )


async def _open_ingest(session: AsyncSession, client_id: str, key: str) -> LiveIngest | None:
    rows = list(
        await session.execute(
            select(LiveIngest, LiveSource.stream_key)
            .join(LiveSource, LiveSource.id == LiveIngest.source_id)
            .where(LiveIngest.client_id == client_id[:32], LiveIngest.ended_at.is_(None))
            .order_by(LiveIngest.started_at.desc())
        )
    )
    for ingest, stream_key in rows:  # the key may have been replaced meanwhile
        if stream_key == key:
            return ingest
    return rows[0][0] if rows else None


async def on_publish_done(
    session: AsyncSession, files: LiveFiles, ids: IdGenerator, *, client_id: str, key: str,
    now: datetime,
) -> None:  # fmt: skip
    ingest = await _open_ingest(session, client_id, key)
    if ingest is None:
        await session.commit()
        return
    await close_ingest(session, ingest, now=now)
    await session.flush()
    await maybe_queue(session, files, ingest.broadcast_id, now=now)
    await session.commit()


async def on_record_done(
    session: AsyncSession, files: LiveFiles, *, client_id: str, path: str, now: datetime
) -> None:
    name = files.recording_name(path)
    ingest = await session.scalar(
        select(LiveIngest)
        .where(LiveIngest.client_id == client_id[:32], LiveIngest.recorded.is_(False))
        .order_by(LiveIngest.started_at.desc())
        .limit(1)
    )
    if ingest is None or name is None:
        if name is not None:
            files.remove_recording(name)
        await session.commit()
        return
    ingest.recorded = True
    ingest.record_path = name
    keep = False
    if ingest.broadcast_id is not None:
        state = await session.scalar(
            select(LiveBroadcast.state).where(LiveBroadcast.id == ingest.broadcast_id)
        )
        keep = state in (*ACTIVE, BroadcastState.ENDED.value)
    if not keep:  # preview-only video, or a broadcast canceled or timed out
        ingest.record_path = None
        files.remove_recording(name)
    await session.flush()
    await maybe_queue(session, files, ingest.broadcast_id, now=now)
    await session.commit()


async def finish(
    session: AsyncSession, row: LiveBroadcast, state: BroadcastState, *, now: datetime
) -> str | None:
    """Move an active broadcast to ENDED, TIMED_OUT or CANCELED in the caller's
    transaction. None: its state changed meanwhile. Otherwise the internal name of a
    stream still arriving on its source (to drop), or ``""``."""
    moved = await session.execute(
        update(LiveBroadcast)
        .where(LiveBroadcast.id == row.id, LiveBroadcast.state == row.state)
        .values(
            state=state.value, ended_at=now, updated_at=now,
            recording_state="waiting" if state == BroadcastState.ENDED else "discarded",
        )
    )  # fmt: skip
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    live = ""
    if row.source_id is not None:
        source = await session.get(LiveSource, row.source_id)
        if source is not None and source.is_stream_active:
            live = source.live_name
    return live


async def maybe_queue(
    session: AsyncSession, files: LiveFiles | None, broadcast_id: str | None, *, now: datetime
) -> None:
    """An ENDED broadcast whose ingests have all reported their recordings: queue the
    job that makes them one library video (in the caller's transaction). A broadcast that
    did not end (canceled, timed out) has its recordings removed."""
    if broadcast_id is None:
        return
    row = await session.get(LiveBroadcast, broadcast_id)
    if row is None:
        return
    ingests = list(
        await session.scalars(
            select(LiveIngest)
            .where(LiveIngest.broadcast_id == broadcast_id)
            .order_by(LiveIngest.started_at, LiveIngest.id)
        )
    )
    if row.recording_state == "discarded":
        for ingest in ingests:
            if ingest.record_path is not None and files is not None:
                files.remove_recording(ingest.record_path)
                ingest.record_path = None
        return
    if row.recording_state != "waiting":
        return
    if any(i.ended_at is None or not i.recorded for i in ingests):
        return
    names = [i.record_path for i in ingests if i.record_path]
    if not names:
        row.recording_state = "empty"
        return
    claimed = await session.execute(
        update(LiveBroadcast)
        .where(LiveBroadcast.id == broadcast_id, LiveBroadcast.recording_state == "waiting")
        .values(recording_state="queued")
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    queue.enqueue(
        session, kind=KIND, media_id=None, max_attempts=RECORDING_ATTEMPTS, now=now,
        payload={"broadcast_id": broadcast_id, "user_id": row.user_id, "title": row.title,
                 "files": names},
    )  # fmt: skip


async def forget_recordings(
    session: AsyncSession, files: LiveFiles | None, broadcast_id: str
) -> None:
    """Before a broadcast row goes: its recordings go too, unless the job has them."""
    row = await session.get(LiveBroadcast, broadcast_id)
    if row is None or row.recording_state in ("queued", "ready"):
        return
    for ingest in await session.scalars(
        select(LiveIngest).where(LiveIngest.broadcast_id == broadcast_id)
    ):
        if ingest.record_path is not None and files is not None:
            files.remove_recording(ingest.record_path)
            ingest.record_path = None


async def stale_unrecorded(
    session: AsyncSession, *, now: datetime, grace: float
) -> list[LiveIngest]:
    """Ingests that ended ``grace`` seconds ago and never reported a recording (nginx
    records nothing for a stream that sent no media)."""
    return list(
        await session.scalars(
            select(LiveIngest).where(
                LiveIngest.recorded.is_(False),
                LiveIngest.ended_at.is_not(None),
                LiveIngest.ended_at < now - timedelta(seconds=grace),
            )
        )
    )
