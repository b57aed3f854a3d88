"""Who watches a live broadcast: each client that fetches its live playlist is a viewer
(address and user agent, hashed); ``total_watching`` counts those seen within the viewer
window, ``total_watched`` every one. A player re-fetches the playlist every fragment, so
each process writes a viewer's sighting at most every few seconds."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import LiveBroadcast, LiveViewer

__all__ = ["ViewerCounter", "viewer_of"]

_MAX_REMEMBERED = 100_000


def viewer_of(address: str, user_agent: str) -> str:
    return hashlib.sha256(f"{address}\n{user_agent}".encode()).hexdigest()[:32]


class ViewerCounter:
    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self._written: dict[tuple[str, str], float] = {}

    async def seen(
        self, sessions: async_sessionmaker[AsyncSession], broadcast_id: str, viewer: str,
        now: datetime,
    ) -> None:  # fmt: skip
        key = (broadcast_id, viewer)
        clock = time.monotonic()
        if clock - self._written.get(key, -self.every) < self.every:
            return
        if len(self._written) > _MAX_REMEMBERED:
            self._written.clear()
        self._written[key] = clock
        async with sessions() as session:
            updated = await session.execute(
                update(LiveViewer)
                .where(LiveViewer.broadcast_id == broadcast_id, LiveViewer.viewer == viewer)
                .values(last_seen=now)
            )
            if updated.rowcount == 1:  # type: ignore[attr-defined]
                await session.commit()
                return
            session.add(
                LiveViewer(broadcast_id=broadcast_id, viewer=viewer, first_seen=now, last_seen=now)
            )
            await session.execute(
                update(LiveBroadcast)
                .where(LiveBroadcast.id == broadcast_id)
                .values(total_watched=LiveBroadcast.total_watched + 1)
            )
            try:
                await session.commit()
            except IntegrityError:  # another process counted this viewer first
                await session.rollback()
