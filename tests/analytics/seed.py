"""Counters written straight into the rollup tables, for unit cases of the read surfaces
(what the rollup would have written for some events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.buckets import epoch_s
from app.infra.db import make_sessionmaker
from app.models import MediaHourlyStats, MediaTotals, Post

__all__ = ["age_post", "seed_hour", "seed_totals"]


async def seed_hour(engine: AsyncEngine, media_id: int, hour: datetime, **counters: int) -> None:
    """One ``analytics_media_hourly`` row (``hour``: the start of a UTC hour)."""
    assert epoch_s(hour) % 3600 == 0, hour
    async with make_sessionmaker(engine).begin() as session:
        session.add(MediaHourlyStats(media_id=media_id, hour=epoch_s(hour), **counters))


async def seed_totals(engine: AsyncEngine, media_id: int, **counters: int) -> None:
    async with make_sessionmaker(engine).begin() as session:
        session.add(MediaTotals(media_id=media_id, **counters))


async def age_post(engine: AsyncEngine, post_id: int, created_at: datetime) -> None:
    async with make_sessionmaker(engine).begin() as session:
        await session.execute(update(Post).where(Post.id == post_id).values(created_at=created_at))
