from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.storage import SegmentStore

__all__ = ["check"]


async def check(sessions: async_sessionmaker[AsyncSession], store: SegmentStore) -> dict[str, bool]:
    try:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
        database = True
    except (SQLAlchemyError, OSError):
        database = False
    return {"database": database, "storage": await store.healthy()}
