"""Queries behind the sweeper: which media expired, and removing one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Media
from app.uploads import queries

__all__ = ["delete_media", "expired_media_ids"]


async def expired_media_ids(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, limit: int
) -> list[int]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Media.id)
            .where(Media.expires_at <= now, Media.is_used.is_(False))
            .order_by(Media.expires_at)
            .limit(limit)
        )
        return list(rows)


async def delete_media(sessions: async_sessionmaker[AsyncSession], media_id: int) -> None:
    async with sessions() as session:
        await queries.delete_media(session, media_id=media_id)
        await session.commit()
