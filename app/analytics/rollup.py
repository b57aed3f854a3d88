"""The rollup: counts new raw playback events into the per-session state and the hourly
and lifetime counters, in one transaction per batch, and prunes old raw events.

Runs in every ``mediastudio worker`` and in the in-process worker. The ``analytics_locks``
row ``rollup`` is locked by each batch's transaction (PostgreSQL ``FOR UPDATE SKIP
LOCKED``: a second worker finds it taken and waits for the next round; SQLite admits one
writer anyway), so any number of workers count every event exactly once: the events a
batch counted are marked ``rolled`` in the transaction that adds their increments.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analytics.buckets import hour_of_ms
from app.analytics.metrics import COUNTERS
from app.analytics.rules import IMPRESSION, Event, SessionState, apply, new_session
from app.analytics.stats_jobs import expire_jobs
from app.config import AnalyticsSettings
from app.core.clock import utcnow
from app.models import Media
from app.models.analytics import (
    AnalyticsLock,
    MediaHourlyStats,
    MediaTotals,
    PlaybackEvent,
    PlaybackSession,
)
from app.storage import ObjectStore

__all__ = ["prune_once", "roll_up_once", "rollup_from_settings", "run_rollups"]

log = logging.getLogger(__name__)

_PRUNE_EVERY_SECS = 300.0
_PRUNE_BATCH = 10_000
_CHUNK = 500  # ids per IN (...) list


def _now_ms() -> int:
    return int(time.time() * 1000)


def _insert(session: AsyncSession, table: Any) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _take_lock(session: AsyncSession, name: str) -> bool:
    """Locks the task's row for this transaction; False when another worker holds it."""
    await session.execute(
        _insert(session, AnalyticsLock).values(name=name).on_conflict_do_nothing()
    )
    stmt = select(AnalyticsLock.name).where(AnalyticsLock.name == name)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return False
    await session.execute(
        update(AnalyticsLock).where(AnalyticsLock.name == name).values(ran_at=utcnow())
    )
    return True


async def roll_up_once(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyticsSettings,
    *,
    now_ms: int | None = None,
) -> int:
    """Counts one batch of pending raw events (at most ``settings.rollup_batch``) in one
    transaction; the number counted (0: nothing pending, or another worker holds the
    rollup lock)."""
    now_ms = _now_ms() if now_ms is None else now_ms
    async with sessions() as session, session.begin():
        if not await _take_lock(session, "rollup"):
            return 0
        rows = (
            await session.execute(
                select(
                    PlaybackEvent.id,
                    PlaybackEvent.media_id,
                    PlaybackEvent.session_id,
                    PlaybackEvent.seq,
                    PlaybackEvent.type,
                    PlaybackEvent.ts_ms,
                    PlaybackEvent.position_ms,
                    PlaybackEvent.quartile,
                    PlaybackEvent.cta,
                )
                .where(PlaybackEvent.rolled.is_(False))
                .order_by(PlaybackEvent.id)
                .limit(settings.rollup_batch)
            )
        ).all()
        if not rows:
            return 0
        await _count(session, rows, now_ms)
        ids = [row.id for row in rows]
        for chunk in _chunks(ids):
            await session.execute(
                update(PlaybackEvent)
                .where(PlaybackEvent.id.in_(chunk))
                .values(rolled=True)
                .execution_options(synchronize_session=False)
            )
    return len(rows)


async def _count(session: AsyncSession, rows: Sequence[Any], now_ms: int) -> None:
    session_ids = sorted({r.session_id for r in rows if r.type != IMPRESSION})
    media_ids = sorted({r.media_id for r in rows})
    states: dict[str, SessionState] = {}
    for chunk in _chunks(session_ids):
        for item in (
            await session.execute(
                select(PlaybackSession).where(PlaybackSession.session_id.in_(chunk))
            )
        ).scalars():
            states[item.session_id] = SessionState(
                media_id=item.media_id,
                first_ms=item.first_ms,
                last_ms=item.last_ms,
                top_seq=item.top_seq,
                top_type=item.top_type,
                top_ts_ms=item.top_ts_ms,
                top_position_ms=item.top_position_ms,
                watch_ms=item.watch_ms,
                flags=item.flags,
            )
    durations: dict[int, int | None] = {}
    for chunk in _chunks(media_ids):
        durations.update(
            (media_id, duration)
            for media_id, duration in await session.execute(
                select(Media.id, Media.duration_ms).where(Media.id.in_(chunk))
            )
        )

    hourly: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    touched: set[str] = set()
    for row in rows:
        if row.type == IMPRESSION:
            hourly[(row.media_id, hour_of_ms(row.ts_ms))]["impressions"] += 1
            continue
        event = Event(row.seq, row.type, row.ts_ms, row.position_ms, row.quartile, row.cta)
        state = states.get(row.session_id)
        if state is None:
            state = states[row.session_id] = new_session(row.media_id, event)
        elif state.media_id != row.media_id:
            continue  # a session belongs to the media of its first event
        touched.add(row.session_id)
        for inc in apply(state, event, durations.get(row.media_id)):
            hourly[(row.media_id, inc.hour)][inc.counter] += inc.amount

    await _add_counters(session, hourly)
    await _save_sessions(session, [(sid, states[sid]) for sid in sorted(touched)], now_ms)


async def _add_counters(
    session: AsyncSession, hourly: dict[tuple[int, int], dict[str, int]]
) -> None:
    if not hourly:
        return
    hour_rows = [
        {"media_id": media_id, "hour": hour, **{name: counts.get(name, 0) for name in COUNTERS}}
        for (media_id, hour), counts in sorted(hourly.items())
    ]
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in hour_rows:
        total = totals[row["media_id"]]
        for name in COUNTERS:
            total[name] += row[name]
    total_rows = [{"media_id": media_id, **counts} for media_id, counts in sorted(totals.items())]
    for table, key, values in (
        (MediaHourlyStats, ("media_id", "hour"), hour_rows),
        (MediaTotals, ("media_id",), total_rows),
    ):
        stmt = _insert(session, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            set_={name: getattr(table, name) + getattr(stmt.excluded, name) for name in COUNTERS},
        )
        for chunk in _chunks(values, 200):
            await session.execute(stmt, list(chunk))


async def _save_sessions(
    session: AsyncSession, states: list[tuple[str, SessionState]], now_ms: int
) -> None:
    if not states:
        return
    values = [
        {
            "session_id": sid,
            "media_id": s.media_id,
            "first_ms": s.first_ms,
            "last_ms": s.last_ms,
            "top_seq": s.top_seq,
            "top_type": s.top_type,
            "top_ts_ms": s.top_ts_ms,
            "top_position_ms": s.top_position_ms,
            "watch_ms": s.watch_ms,
            "flags": s.flags,
            "updated_ms": now_ms,
        }
        for sid, s in states
    ]
    stmt = _insert(session, PlaybackSession)
    columns = [name for name in values[0] if name != "session_id"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["session_id"],
        set_={name: getattr(stmt.excluded, name) for name in columns},
    )
    for chunk in _chunks(values, 200):
        await session.execute(stmt, list(chunk))


async def prune_once(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyticsSettings,
    *,
    now_ms: int | None = None,
) -> int:
    """Deletes up to a batch of rolled raw events received, and of sessions idle, longer
    than ``raw_retention_hours`` ago; the number of rows deleted."""
    now_ms = _now_ms() if now_ms is None else now_ms
    cutoff = now_ms - settings.raw_retention_hours * 3_600_000
    async with sessions() as session, session.begin():
        if not await _take_lock(session, "prune"):
            return 0
        old = (
            select(PlaybackEvent.id)
            .where(PlaybackEvent.rolled.is_(True), PlaybackEvent.received_ms < cutoff)
            .limit(_PRUNE_BATCH)
        )
        events = await session.execute(
            delete(PlaybackEvent)
            .where(PlaybackEvent.id.in_(old.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        idle = (
            select(PlaybackSession.session_id)
            .where(PlaybackSession.updated_ms < cutoff)
            .limit(_PRUNE_BATCH)
        )
        gone = await session.execute(
            delete(PlaybackSession)
            .where(PlaybackSession.session_id.in_(idle.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
    return int(getattr(events, "rowcount", 0) or 0) + int(getattr(gone, "rowcount", 0) or 0)


async def pending_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(PlaybackEvent)
                .where(PlaybackEvent.rolled.is_(False))
            )
            or 0
        )


async def run_rollups(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyticsSettings,
    store: ObjectStore | None = None,
) -> None:
    """Rolls up until nothing is pending, sleeps ``rollup_poll_secs``, and every few
    minutes prunes and (with ``store``) deletes expired stats job files; a database error
    is logged and retried on the next round."""
    pruned_at = 0.0
    while True:
        try:
            while await roll_up_once(sessions, settings) >= settings.rollup_batch:
                pass
            if time.monotonic() - pruned_at >= _PRUNE_EVERY_SECS:
                pruned_at = time.monotonic()
                while await prune_once(sessions, settings) >= _PRUNE_BATCH:
                    pass
                if store is not None:
                    await expire_jobs(sessions, store, utcnow())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("analytics rollup failed; retrying")
        await asyncio.sleep(settings.rollup_poll_secs)


def rollup_from_settings(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyticsSettings,
    store: ObjectStore | None = None,
) -> Coroutine[Any, Any, None]:
    return run_rollups(sessions, settings, store)
