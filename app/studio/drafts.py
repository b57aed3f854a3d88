"""Draft posts (Ads API §9), and what drafts and scheduled posts share: their view, the
content checks (text as posts have it, media from the account's library, the FULL user
as author) and keyset pages, newest first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors as core_errors
from app.core.ids import IdGenerator
from app.models import DraftTweet, LibraryItem, Media, ScheduledTweet
from app.posts import service as posts
from app.studio import errors, rules
from app.studio.access import AccountView
from app.uploads.protocol import UploadState

__all__ = [
    "MODELS",
    "Fields",
    "InvalidTweet",
    "PlannedView",
    "Selection",
    "TweetCannotBeBlank",
    "check_content",
    "check_user",
    "create_draft",
    "delete_draft",
    "get_draft",
    "library_media",
    "list_planned",
    "page_of",
    "planned_view",
    "selected",
    "update_draft",
]

_KEY = re.compile(r"\d{1,20}_\d{1,20}|\d{1,20}")
Planned = DraftTweet | ScheduledTweet


class TweetCannotBeBlank(errors.StudioError):
    """Neither text nor media: a post needs one of them."""

    ads_code = "TWEET_CANNOT_BE_BLANK"

    def __init__(self) -> None:
        super().__init__("Tweet text cannot be blank without media_keys", parameter="text")


class InvalidTweet(errors.StudioError):
    """Text over the posting limit (280 weighted characters)."""

    ads_code = "INVALID_TWEET"

    def __init__(self) -> None:
        super().__init__("Tweet text is over 280 characters", parameter="text")


class Fields(TypedDict, total=False):
    """The fields a create or update gives; an absent key leaves the stored value."""

    text: str
    name: str | None
    card_uri: str | None
    nullcast: bool
    media_keys: list[str]
    scheduled_at: datetime


@dataclass(frozen=True, slots=True)
class PlannedView:
    """A draft (``kind`` DRAFT) or a scheduled post (SCHEDULED, with its status)."""

    kind: str
    id: int
    account_id: str
    user_id: int
    text: str
    name: str | None
    card_uri: str | None
    nullcast: bool
    media_keys: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None = None
    status: str | None = None
    tweet_id: int | None = None
    completed_at: datetime | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """The ``tweets`` list's filters (§10.2)."""

    count: int
    cursor: int | None = None
    tweet_ids: tuple[int, ...] = ()
    name: str | None = None  # a case-insensitive prefix
    timeline: str = "NULLCAST"  # PUBLISHED only
    with_replies: bool = False  # PUBLISHED only


MODELS: dict[str, type[DraftTweet] | type[ScheduledTweet]] = {
    "DRAFT": DraftTweet,
    "SCHEDULED": ScheduledTweet,
}


def planned_view(row: Planned) -> PlannedView:
    keys = tuple(k for k in row.media_keys.split(",") if k)
    common: dict[str, Any] = {
        "id": row.id,
        "account_id": row.account_id,
        "user_id": row.user_id,
        "text": row.text,
        "name": row.name,
        "card_uri": row.card_uri,
        "nullcast": row.nullcast,
        "media_keys": keys,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
    if isinstance(row, DraftTweet):
        return PlannedView(kind="DRAFT", **common)
    return PlannedView(
        kind="SCHEDULED",
        **common,
        scheduled_at=row.scheduled_at,
        status=row.status,
        tweet_id=row.tweet_id,
        completed_at=row.completed_at,
        failure_reason=row.failure_reason,
    )


def check_user(account: AccountView, user_id: int | None) -> int:
    """``as_user_id`` / ``user_id``: only the account's FULL promotable user (its owner)
    posts for it; absent means that user."""
    if user_id is None:
        return account.owner_id
    if user_id != account.owner_id:
        raise errors.InvalidUser(
            f"User {user_id} is not the FULL promotable user of Account {account.id}",
            parameter="as_user_id",
        )
    return user_id


def _invalid(key: str, why: str) -> errors.InvalidMedia:
    return errors.InvalidMedia(f"Invalid media key: {key} ({why})", parameter="media_keys")


async def library_media(session: AsyncSession, *, account_id: str, keys: list[str]) -> list[str]:
    """The media keys (a numeric media id is taken too), each in the account's library
    and usable (processed, not removed), in order, the mix checked (§8.4)."""
    if len(keys) > rules.MAX_IMAGES:
        rules.check_media_mix(["IMAGE"] * len(keys))
    for key in keys:
        if not _KEY.fullmatch(key):
            raise _invalid(key, "not a media key")
    if len(set(keys)) != len(keys):
        raise errors.InvalidMedia("A media key is given twice", parameter="media_keys")
    ids = [int(k) for k in keys if k.isdigit() and int(k) < 2**63]
    rows = (
        await session.execute(
            select(Media.id, Media.media_key, Media.state, Media.removed_at, LibraryItem.media_type)
            .join(LibraryItem, LibraryItem.media_id == Media.id)
            .where(
                LibraryItem.account_id == account_id,
                or_(Media.media_key.in_(keys), Media.id.in_(ids)),
            )
        )
    ).all()
    by_key = {row.media_key: row for row in rows} | {str(row.id): row for row in rows}
    types = []
    for key in keys:
        row = by_key.get(key)
        if row is None:
            raise _invalid(key, "not in the account's media library")
        if row.state is not UploadState.SUCCEEDED or row.removed_at is not None:
            raise _invalid(key, "not usable: processing, failed or deleted")
        types.append(row.media_type)
    rules.check_media_mix(types)
    return [by_key[k].media_key for k in keys]


def check_content(text: str, media_keys: list[str] | tuple[str, ...]) -> None:
    """The text rules of posts (280 weighted characters); blank only with media."""
    if not text.strip() and not media_keys:
        raise TweetCannotBeBlank()
    try:
        posts.check_text(text)
    except core_errors.StatusTooLong:
        raise InvalidTweet() from None


def page_of(rows: list[Any], count: int) -> tuple[list[Any], str | None]:
    """``count + 1`` rows read, newest first: the page and the cursor after it."""
    if len(rows) > count:
        return rows[:count], str(rows[count - 1].id)
    return rows, None


def _check_organic(account: AccountView, nullcast: bool, may_publish: bool) -> None:
    if not nullcast and not may_publish:
        raise errors.ActionNotAllowed("create organic (nullcast=false) posts", account.id)


async def apply_fields(
    session: AsyncSession,
    row: Planned,
    account: AccountView,
    fields: Fields,
    *,
    may_publish: bool,
    now: datetime,
) -> None:
    """Check the resulting content and set the given fields on ``row``."""
    if "media_keys" in fields:
        row.media_keys = ",".join(
            await library_media(session, account_id=account.id, keys=fields["media_keys"])
        )
    for name in ("text", "name", "card_uri", "nullcast"):
        if name in fields:
            setattr(row, name, fields[name])
    check_content(row.text, [k for k in row.media_keys.split(",") if k])
    _check_organic(account, row.nullcast, may_publish)
    row.updated_at = now


def selected(
    query: Select[Any], id_column: Any, name_column: Any, selection: Selection
) -> Select[Any]:
    """``selection``'s ids, name prefix and keyset page, newest first, one row over."""
    if selection.tweet_ids:
        query = query.where(id_column.in_(selection.tweet_ids))
    if selection.name:
        query = query.where(
            func.lower(name_column).startswith(selection.name.lower(), autoescape=True)
        )
    if selection.cursor is not None:
        query = query.where(id_column < selection.cursor)
    return query.order_by(id_column.desc()).limit(selection.count + 1)


async def list_planned(
    session: AsyncSession, *, kind: str, account_id: str, user_id: int, selection: Selection
) -> tuple[list[PlannedView], str | None]:
    model = MODELS[kind]
    query = select(model).where(model.account_id == account_id, model.user_id == user_id)
    rows = list(await session.scalars(selected(query, model.id, model.name, selection)))
    page, after = page_of(rows, selection.count)
    return [planned_view(r) for r in page], after


async def _draft(session: AsyncSession, account_id: str, draft_id: int) -> DraftTweet:
    row = await session.scalar(
        select(DraftTweet).where(DraftTweet.id == draft_id, DraftTweet.account_id == account_id)
    )
    if row is None:
        raise errors.NotFound(f"Draft Tweet {draft_id} was not found for Account {account_id}")
    return row


async def get_draft(session: AsyncSession, *, account_id: str, draft_id: int) -> PlannedView:
    return planned_view(await _draft(session, account_id, draft_id))


async def create_draft(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    account: AccountView,
    user_id: int,
    fields: Fields,
    may_publish: bool,
    now: datetime,
) -> PlannedView:
    row = DraftTweet(
        id=ids.next_id(),
        account_id=account.id,
        user_id=user_id,
        text="",
        name=None,
        card_uri=None,
        nullcast=True,
        media_keys="",
        created_at=now,
    )
    await apply_fields(session, row, account, fields, may_publish=may_publish, now=now)
    session.add(row)
    await session.commit()
    return planned_view(row)


async def update_draft(
    session: AsyncSession,
    *,
    account: AccountView,
    draft_id: int,
    fields: Fields,
    may_publish: bool,
    now: datetime,
) -> PlannedView:
    """Only the given fields change; drafts can be edited indefinitely."""
    row = await _draft(session, account.id, draft_id)
    await apply_fields(session, row, account, fields, may_publish=may_publish, now=now)
    await session.commit()
    return planned_view(row)


async def delete_draft(session: AsyncSession, *, account_id: str, draft_id: int) -> PlannedView:
    """A hard delete; answers what was deleted."""
    view = planned_view(await _draft(session, account_id, draft_id))
    await session.execute(delete(DraftTweet).where(DraftTweet.id == draft_id))
    await session.commit()
    return view
