"""Deletes expired uploads and unused media (their rows, segments and blobs), and the
temporary files a killed process left in storage.

The temporary-file sweep runs at start-up and then every ``temp_interval`` seconds; it
skips the media an operation holds (a FINALIZE lease, an APPEND reservation) and files
touched within ``temp_max_age``. ``STATS`` counts what every sweep of this process
removed; the ``mediastudio_sweeper_*`` metrics (app/infra/metrics.py) count it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import oauth
from app.core.clock import utcnow
from app.infra import metrics
from app.jobs.backoff import LoopHealth
from app.storage import SegmentStore, SupportsTempSweep, TempSweep, keys
from app.uploads import expiry

__all__ = ["STATS", "SweepStats", "run_sweeper", "sweep_once", "sweep_temp_files"]

log = logging.getLogger(__name__)


@dataclass
class SweepStats:
    """Totals since the process started."""

    media_removed: int = 0
    temp_sweeps: int = 0
    temp_files_removed: int = 0
    temp_bytes_removed: int = 0


STATS = SweepStats()


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession], store: SegmentStore, *, now: datetime
) -> int:
    """Delete what expired by ``now``; returns how many media were removed."""
    removed = 0
    while batch := await expiry.expired_media_ids(sessions, now=now, limit=100):
        for media_id in batch:
            # Bytes first: a crash between the two leaves a row the next sweep retries.
            await store.discard(keys.media(media_id))
            await expiry.delete_media(sessions, media_id)
            removed += 1
    if removed:
        STATS.media_removed += removed
        metrics.SWEEPER_MEDIA.inc(removed)
        log.info("expired media swept", extra={"count": removed})
    await oauth.sweep_nonces(sessions, now=now)
    return removed


async def sweep_temp_files(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    *,
    now: datetime,
    older_than: timedelta,
) -> TempSweep:
    """Remove temporary files older than ``older_than`` outside the media in use."""
    if not isinstance(store, SupportsTempSweep):
        return TempSweep()
    busy = await expiry.busy_media_ids(sessions, now=now)
    found = await store.sweep_temp(older_than=older_than, busy={keys.media(i) for i in busy})
    STATS.temp_sweeps += 1
    STATS.temp_files_removed += found.files
    STATS.temp_bytes_removed += found.bytes
    metrics.SWEEPER_TEMP_FILES.inc(found.files)
    metrics.SWEEPER_BYTES.inc(found.bytes)
    log.info(
        "temporary files swept: %d files, %d bytes",
        found.files,
        found.bytes,
        extra={"files": found.files, "bytes": found.bytes, "skipped_media": len(busy)},
    )
    return found


async def run_sweeper(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    *,
    interval: float,
    temp_max_age: timedelta = timedelta(hours=1),
    temp_interval: float = 3600.0,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic: Callable[[], float] | None = None,
) -> None:
    """Sweep every ``interval`` seconds; on errors back off and log a summary, not a
    traceback per sweep (``app/jobs/backoff.py``)."""
    now = monotonic or asyncio.get_running_loop().time
    health = LoopHealth("sweeper", base=interval, cap=max(60.0, interval), logger=log, clock=now)
    temp_due = now()  # at start-up: a crash's leftovers go first
    while True:
        try:
            if now() >= temp_due:
                temp_due = now() + temp_interval
                await sweep_temp_files(sessions, store, now=clock(), older_than=temp_max_age)
            await sweep_once(sessions, store, now=clock())
        except Exception as exc:
            await sleep(health.failed(exc))
            continue
        health.succeeded()
        await sleep(min(interval, max(temp_due - now(), 0.0)))
