"""Media metadata: alt text (v1.1 metadata/create and v2 /2/media/metadata)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.models import Media
from app.uploads import queries

__all__ = ["MAX_ALT_TEXT", "set_alt_text"]

MAX_ALT_TEXT = 1000


async def set_alt_text(
    session: AsyncSession, *, user_id: int, media_id: int, text: str, now: datetime
) -> str:
    """Set (or, with an empty text, clear) the alt text of the caller's media."""
    if len(text) > MAX_ALT_TEXT:
        raise errors.BadParameter(f"alt_text.text must be at most {MAX_ALT_TEXT} characters.")
    media = await session.get(Media, media_id, with_for_update=True)
    if media is None or media.owner_id != user_id:
        raise errors.MediaIdNotFound()
    if not media.is_used and media.expires_at <= now:
        raise errors.UploadExpired(media_id)
    queries.set_alt_text(media, text or None)
    await session.commit()
    return text
