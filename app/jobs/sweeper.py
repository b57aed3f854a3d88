"""Deletes expired uploads and unused media: their rows, segments and blobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import oauth
from app.core.clock import utcnow
from app.storage import SegmentStore, keys
from app.uploads import expiry

__all__ = ["run_sweeper", "sweep_once"]

log = logging.getLogger(__name__)


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
        log.info("expired media swept", extra={"count": removed})
    await oauth.sweep_nonces(sessions, now=now)
    return removed


async def run_sweeper(
    sessions: async_sessionmaker[AsyncSession],
    store: SegmentStore,
    *,
    interval: float,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    while True:
        try:
            await sweep_once(sessions, store, now=clock())
        except Exception:
            log.exception("sweeper error")
        await asyncio.sleep(interval)
