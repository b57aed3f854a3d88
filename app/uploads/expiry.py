"""Queries behind the sweeper: which media expired, removing one, and which media an
operation holds (their temporary files are not to be swept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, union
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import LibraryItem, Media, MediaSegmentReservation
from app.uploads import queries

__all__ = ["busy_media_ids", "delete_media", "expired_media_ids"]


async def expired_media_ids(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, limit: int
) -> list[int]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Media.id)
            .where(
                Media.expires_at <= now,
                Media.is_used.is_(False),
                # Media in a studio library (or a library item's poster) never expire.
                ~exists().where(LibraryItem.media_id == Media.id),
                ~exists().where(LibraryItem.poster_media_id == Media.id),
            )
            .order_by(Media.expires_at)
            .limit(limit)
        )
        return list(rows)


async def delete_media(sessions: async_sessionmaker[AsyncSession], media_id: int) -> None:
    async with sessions() as session:
        await queries.delete_media(session, media_id=media_id)
        await session.commit()


async def busy_media_ids(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> set[int]:
    """Media under a FINALIZE lease (or a simple upload's) or with an APPEND reservation
    still running at ``now``."""
    async with sessions() as session:
        rows = await session.scalars(
            union(
                select(Media.id).where(Media.finalizing_until > now),
                select(MediaSegmentReservation.media_id).where(
                    MediaSegmentReservation.reserved_until > now
                ),
            )
        )
        return set(rows)
