"""The visibility rule (``app/media/visibility.py``) in SQL: a filter for lookups that
list media, and the facts (``Audience``) for checks on media already in hand."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.media.visibility import ATTACHABLE_BY, VISIBLE_BY, Audience, Ground
from app.models import DirectMessage, Media, MediaOwner, PostMedia

__all__ = ["attachable_by", "load_audiences", "visible_to"]


def _ground(ground: Ground, viewer_id: int | None) -> ColumnElement[bool]:
    if ground is Ground.IN_POST:
        return exists().where(PostMedia.media_id == Media.id)
    if viewer_id is None:  # every other ground needs a user
        return false()
    if ground is Ground.OWNER:
        return Media.owner_id == viewer_id
    if ground is Ground.ADDITIONAL_OWNER:
        return exists().where(MediaOwner.media_id == Media.id, MediaOwner.account_id == viewer_id)
    return exists().where(
        DirectMessage.media_id == Media.id,
        or_(DirectMessage.sender_id == viewer_id, DirectMessage.recipient_id == viewer_id),
    )


def visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause on ``Media``: the rows ``viewer_id`` may see."""
    return or_(*(_ground(g, viewer_id) for g in VISIBLE_BY))


def attachable_by(viewer_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause on ``Media``: the rows ``viewer_id`` may attach."""
    return or_(*(_ground(g, viewer_id) for g in ATTACHABLE_BY))


async def load_audiences(session: AsyncSession, media_ids: Sequence[int]) -> dict[int, Audience]:
    """The rule's facts for each existing media of ``media_ids`` (four small queries)."""
    ids = list(media_ids)
    if not ids:
        return {}
    rows = await session.execute(select(Media.id, Media.owner_id).where(Media.id.in_(ids)))
    owners: dict[int, int] = dict(rows.all())
    co_owners: dict[int, set[int]] = {i: set() for i in owners}
    co_rows = await session.execute(
        select(MediaOwner.media_id, MediaOwner.account_id).where(MediaOwner.media_id.in_(ids))
    )
    for media_id, account_id in co_rows:
        co_owners[media_id].add(account_id)
    posted = set(
        await session.scalars(select(PostMedia.media_id).where(PostMedia.media_id.in_(ids)))
    )
    participants: dict[int, set[int]] = {i: set() for i in owners}
    dms = await session.execute(
        select(DirectMessage.media_id, DirectMessage.sender_id, DirectMessage.recipient_id).where(
            DirectMessage.media_id.in_(ids)
        )
    )
    for dm_media_id, sender_id, recipient_id in dms:
        if dm_media_id is not None:
            participants[dm_media_id] |= {sender_id, recipient_id}
    return {
        media_id: Audience(
            owner_id=owner_id,
            additional_owner_ids=frozenset(co_owners[media_id]),
            in_post=media_id in posted,
            dm_participant_ids=frozenset(participants[media_id]),
        )
        for media_id, owner_id in owners.items()
    }
