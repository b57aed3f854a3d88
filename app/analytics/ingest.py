"""Events in: which media accept events, how much one session and one address may send,
and the group-commit writer that appends raw events in batches.

The writer coalesces the events of every request that arrives while a write is running
into the next write: PostgreSQL gets one ``COPY`` into a temporary table and one
``INSERT ... SELECT ... ON CONFLICT (session_id, seq) DO NOTHING``; SQLite one
``INSERT OR IGNORE`` executemany on the ORM (thread-backed) engine. Each request awaits
the commit of the write that holds its events, so an accepted event is stored.
Duplicates (same ``session_id`` + ``seq``) are dropped by the unique index, here.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analytics.events import PlayerEvent
from app.analytics.rules import IMPRESSION
from app.config import AnalyticsSettings
from app.models import Media, PostMedia
from app.uploads.protocol import UploadState

__all__ = [
    "Availability",
    "EventWriter",
    "Outcome",
    "PlaybackIngest",
    "Row",
    "WindowLimiter",
]

log = logging.getLogger(__name__)

# media_id, session_id, seq, type, position_ms, quartile, cta, ts_ms, received_ms
Row = tuple[int, str, int, str, int | None, int | None, str | None, int, int]
COLUMNS = (
    "media_id",
    "session_id",
    "seq",
    "type",
    "position_ms",
    "quartile",
    "cta",
    "ts_ms",
    "received_ms",
)
_PG_TEMP = (
    "CREATE TEMP TABLE IF NOT EXISTS playback_events_in (media_id bigint, session_id text, "
    "seq bigint, type text, position_ms bigint, quartile smallint, cta text, ts_ms bigint, "
    "received_ms bigint) ON COMMIT DELETE ROWS"
)
_PG_MOVE = (
    f"INSERT INTO playback_events ({', '.join(COLUMNS)}, rolled) "
    f"SELECT {', '.join(COLUMNS)}, false FROM playback_events_in "
    "ON CONFLICT (session_id, seq) DO NOTHING"
)
_SQLITE_INSERT = (
    f"INSERT OR IGNORE INTO playback_events ({', '.join(COLUMNS)}, rolled) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)}, 0)"
)
_IMPRESSION_BACKLOG = 50_000


def now_ms() -> int:
    return int(time.time() * 1000)


class Availability:
    """media_key -> the media id, when the media is publicly delivered (processed, not
    removed, attached to a post). A per-process cache of ``ttl`` seconds: a hint, so
    a media removed from a library may accept events for up to ``ttl`` more."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: float) -> None:
        self._sessions, self._ttl = sessions, ttl
        self._known: dict[str, tuple[float, int | None]] = {}

    async def resolve(self, keys: Iterable[str]) -> dict[str, int | None]:
        now = time.monotonic()
        out: dict[str, int | None] = {}
        missing: list[str] = []
        for key in set(keys):
            hit = self._known.get(key)
            if hit is not None and hit[0] > now:
                out[key] = hit[1]
            else:
                missing.append(key)
        if missing:
            found = await self._lookup(missing)
            if len(self._known) > 100_000:
                self._known.clear()
            for key in missing:
                out[key] = found.get(key)
                self._known[key] = (now + self._ttl, out[key])
        return out

    async def _lookup(self, keys: Sequence[str]) -> dict[str, int]:
        posted = exists().where(PostMedia.media_id == Media.id)
        async with self._sessions() as session:
            rows = await session.execute(
                select(Media.media_key, Media.id).where(
                    Media.media_key.in_(list(keys)),
                    Media.state == UploadState.SUCCEEDED,
                    Media.removed_at.is_(None),
                    posted,
                )
            )
            return {str(key): int(media_id) for key, media_id in rows.all()}


class WindowLimiter:
    """At most ``limit`` units per key per fixed minute window, in this process."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self._window = limit, window
        self._counts: dict[str, int] = {}
        self._started = time.monotonic()

    def _roll(self) -> None:
        now = time.monotonic()
        if now - self._started >= self._window:
            self._counts.clear()
            self._started = now

    def retry_after(self) -> int:
        return max(1, int(self._window - (time.monotonic() - self._started)) + 1)

    def take(self, key: str, amount: int = 1) -> bool:
        """Takes ``amount`` units, or none (False) when that would pass the limit."""
        self._roll()
        used = self._counts.get(key, 0)
        if used + amount > self.limit:
            return False
        self._counts[key] = used + amount
        return True


@dataclass
class _Pending:
    rows: list[Row]
    done: asyncio.Future[None] | None


class EventWriter:
    """Group commit of raw events (see the module docstring)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._backlog = 0
        self.writes = 0  # how many writes ran (tests: fewer than requests)

    async def write(self, rows: list[Row]) -> None:
        """Stores ``rows`` (duplicates dropped); returns once they are committed."""
        if not rows:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(rows, done))
        self._kick()
        await done

    def submit(self, rows: list[Row]) -> bool:
        """Queues ``rows`` without waiting (impressions); False (dropped) when the backlog
        is full."""
        if self._backlog + len(rows) > _IMPRESSION_BACKLOG:
            return False
        self._backlog += len(rows)
        self._pending.append(_Pending(rows, None))
        self._kick()
        return True

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            rows = [row for item in batch for row in item.rows]
            try:
                await self._store(rows)
            except Exception as error:
                log.exception("storing %d playback events failed", len(rows))
                for item in batch:
                    if item.done is not None and not item.done.done():
                        item.done.set_exception(error)
            else:
                for item in batch:
                    if item.done is not None and not item.done.done():
                        item.done.set_result(None)
            finally:
                self._backlog -= sum(len(i.rows) for i in batch if i.done is None)
                self.writes += 1

    async def _store(self, rows: list[Row]) -> None:
        async with self._sessions() as session, session.begin():
            conn = await session.connection()
            if conn.dialect.name == "postgresql":
                # The adapter opens its transaction lazily: open it before using the
                # driver directly (the temp table's rows live until its COMMIT).
                await conn.exec_driver_sql(_PG_TEMP)
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.copy_records_to_table(
                    "playback_events_in", records=rows, columns=COLUMNS
                )
                await driver.execute(_PG_MOVE)
            else:
                await conn.exec_driver_sql(_SQLITE_INSERT, rows)

    async def close(self) -> None:
        """Waits for what is queued to be written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


@dataclass
class Outcome:
    accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class PlaybackIngest:
    """What ``POST /studio/v1/playback/events`` does below HTTP."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
        settings: AnalyticsSettings,
    ) -> None:
        self.settings = settings
        self.availability = Availability(read_sessions, settings.availability_cache_secs)
        self.writer = EventWriter(sessions)
        self.per_session = WindowLimiter(settings.session_events_per_minute)
        self.per_address = WindowLimiter(settings.address_events_per_minute)

    def address_allows(self, address: str, count: int) -> bool:
        return self.per_address.take(address, count)

    async def accept(self, events: Sequence[PlayerEvent], *, now: int | None = None) -> Outcome:
        """Stores the acceptable events of one request; the rest with their reasons."""
        now = now_ms() if now is None else now
        earliest = now - self.settings.late_secs * 1000
        latest = now + self.settings.future_skew_secs * 1000
        media = await self.availability.resolve(e.media_key for e in events)
        outcome = Outcome()
        rows: list[Row] = []
        for index, event in enumerate(events):
            media_id = media.get(event.media_key)
            if media_id is None:
                outcome.rejected.append((index, "media_not_available"))
            elif event.ts_ms < earliest:
                outcome.rejected.append((index, "too_late"))
            elif event.ts_ms > latest:
                outcome.rejected.append((index, "in_the_future"))
            elif not self.per_session.take(event.session_id):
                outcome.rejected.append((index, "session_rate_limited"))
            else:
                rows.append(
                    (
                        media_id,
                        event.session_id,
                        event.seq,
                        event.type,
                        event.position_ms,
                        event.quartile,
                        event.cta,
                        event.ts_ms,
                        now,
                    )
                )
        await self.writer.write(rows)
        outcome.accepted = len(rows)
        return outcome

    async def impression(self, media_key: str) -> None:
        """Counts one delivery of a posted media's file (nothing for other media)."""
        media_id = (await self.availability.resolve([media_key])).get(media_key)
        if media_id is None:
            return
        now = now_ms()
        session_id = f"i:{secrets.token_hex(12)}"
        row: Row = (media_id, session_id, 0, IMPRESSION, None, None, None, now, now)
        if not self.writer.submit([row]):
            log.warning("impression backlog full: one impression of %s not counted", media_key)
