"""Direct messages with one media attachment, and who may see that media."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.core.ids import IdGenerator
from app.models import Account, DirectMessage, Media
from app.posts.service import AttachedMedia, load_attachable_media, lookup_media
from app.uploads import queries

__all__ = ["DM_MEDIA_MAX_AGE", "DmView", "get_dm", "send_dm"]

DM_MEDIA_MAX_AGE = timedelta(hours=24)
MAX_DM_TEXT = 10_000
DM_CATEGORIES = ("dm_image", "dm_gif", "dm_video")


@dataclass(frozen=True, slots=True)
class DmView:
    id: int
    sender_id: int
    recipient_id: int
    text: str
    created_at: datetime
    media: AttachedMedia | None

    @property
    def conversation_id(self) -> str:
        low, high = sorted((self.sender_id, self.recipient_id))
        return f"{low}-{high}"


async def _check_dm_media(
    session: AsyncSession, media: Media, *, sender_id: int, now: datetime
) -> None:
    if media.owner_id != sender_id:  # DM media is the uploader's alone; as if unknown
        raise errors.InvalidMediaIds()
    if media.category not in DM_CATEGORIES:
        raise errors.InvalidMediaIds("DM media must be uploaded with a dm_* media_category.")
    if media.created_at + DM_MEDIA_MAX_AGE <= now:
        raise errors.InvalidMediaIds("DM media must be attached within 24 hours of upload.")
    if not media.is_shared:
        used = await session.scalar(
            select(DirectMessage.id).where(DirectMessage.media_id == media.id)
        )
        if used is not None:
            raise errors.InvalidMediaIds("This media was uploaded without shared=true and is used.")


async def send_dm(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    sender_id: int,
    recipient_id: int,
    text: str,
    media_id: int | None,
    now: datetime,
) -> DmView:
    """Send a DM; its media must be the sender's, dm_*, under 24 h old, and unused unless
    it was uploaded with ``shared=true``."""
    if len(text) > MAX_DM_TEXT:
        raise errors.BadParameter(f"DM text must be at most {MAX_DM_TEXT} characters.")
    if not text and media_id is None:
        raise errors.ParameterMissing("text")
    if await session.get(Account, recipient_id) is None:
        raise errors.UserNotFound()
    attached = None
    if media_id is not None:
        (media,) = await load_attachable_media(
            session, user_id=sender_id, media_ids=[media_id], now=now
        )
        await _check_dm_media(session, media, sender_id=sender_id, now=now)
        queries.mark_used(media)
        attached = media.media_key
    message = DirectMessage(
        id=ids.next_id(),
        sender_id=sender_id,
        recipient_id=recipient_id,
        text=text,
        media_id=media_id,
        created_at=now,
    )
    session.add(message)
    await session.commit()
    media_items = (
        await lookup_media(session, [attached], viewer_id=sender_id, now=now) if attached else []
    )
    return DmView(
        id=message.id,
        sender_id=sender_id,
        recipient_id=recipient_id,
        text=text,
        created_at=now,
        media=media_items[0] if media_items else None,
    )


async def get_dm(session: AsyncSession, *, user_id: int, dm_id: int, now: datetime) -> DmView:
    """A DM the caller sent or received; to anyone else it does not exist."""
    message = await session.get(DirectMessage, dm_id)
    if message is None or user_id not in (message.sender_id, message.recipient_id):
        raise errors.MediaNotFound()
    media_items: list[AttachedMedia] = []
    if message.media_id is not None:
        key = await session.scalar(select(Media.media_key).where(Media.id == message.media_id))
        media_items = await lookup_media(session, [key], viewer_id=user_id, now=now) if key else []
    return DmView(
        id=message.id,
        sender_id=message.sender_id,
        recipient_id=message.recipient_id,
        text=message.text,
        created_at=message.created_at,
        media=media_items[0] if media_items else None,
    )
