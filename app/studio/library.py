"""The media library (Ads API §7): one account's media, newest first, with names, titles
and descriptions, a keyset cursor and an indexed term search; posting adds to it, and
its trash can removes the bytes.

Who may add what: media the account's owner (its FULL promotable user) may attach to a
post (``app/media/visibility.py`` ``may_attach``: the owner uploaded it, or is among its
``additional_owners``), so a member uploading for the account lists the owner in
``additional_owners``. Media in a library never expire (it is marked used, and the
expiry sweep skips library media, ``app/uploads/expiry.py``).

Every function commits before it returns (those named ``..._in_transaction`` leave the
caller's transaction open).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import cast

from sqlalchemy import Executable, Table, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import IdGenerator
from app.media.lookup import load_audiences
from app.media.visibility import may_attach
from app.models import LibraryItem, LibraryTerm, Media, MediaVariant, StudioAccount
from app.storage import SegmentStore, keys
from app.studio import errors, search
from app.studio.access import AccountView
from app.studio.library_list import decode_cursor, list_items
from app.studio.library_views import (
    LibraryItemView,
    library_category,
    library_type,
    load_views,
)
from app.uploads import queries
from app.uploads.protocol import MediaKind, UploadState

__all__ = [
    "FIELDS",
    "LIMITS",
    "add_item",
    "add_posted_media_in_transaction",
    "decode_cursor",
    "delete_item",
    "get_item",
    "list_items",
    "media_titles",
    "update_item",
]

# The writable text fields and their limits (§7.4).
LIMITS = {"name": 100, "title": 70, "description": 200, "file_name": 255}
FIELDS = (*LIMITS, "poster_media_key")
_KEY = re.compile(r"^([0-9]{1,3})_([0-9]{1,19})$")


def _invalid(key: str, parameter: str = "media_key") -> errors.InvalidMedia:
    return errors.InvalidMedia(f"Invalid media key: {key}", parameter=parameter)


async def _item_by_key(session: AsyncSession, account_id: str, media_key: str) -> LibraryItem:
    item = None
    if _KEY.fullmatch(media_key):  # anything else is in no library (and never reaches SQL)
        item = await session.scalar(
            select(LibraryItem)
            .join(Media, Media.id == LibraryItem.media_id)
            .where(LibraryItem.account_id == account_id, Media.media_key == media_key)
        )
    if item is None:
        raise errors.NotFound(
            f"Media {media_key} was not found in the media library of Account {account_id}"
        )
    return item


async def get_item(
    session: AsyncSession, *, account_id: str, media_key: str, now: datetime
) -> LibraryItemView:
    item = await _item_by_key(session, account_id, media_key)
    view = (await load_views(session, [item], now=now))[0]
    await session.commit()
    return view


# --- adding ------------------------------------------------------------------------------


async def _usable(
    session: AsyncSession, media: Media | None, key: str, *, users: Sequence[int], now: datetime,
    parameter: str = "media_key",
) -> Media:  # fmt: skip
    """``media`` if one of ``users`` may attach it and a library may hold it."""
    if media is None or media.removed_at is not None:
        raise _invalid(key, parameter)
    audience = (await load_audiences(session, [media.id]))[media.id]
    if not any(may_attach(user, audience) for user in users):
        raise _invalid(key, parameter)
    if library_category(media.kind, media.category) is None or library_type(media.kind) is None:
        raise _invalid(key, parameter)
    if media.state in (UploadState.UPLOADING, UploadState.FAILED):
        raise _invalid(key, parameter)
    if not media.is_used and media.expires_at <= now:
        raise _invalid(key, parameter)
    return media


async def _find_media(
    session: AsyncSession, *, media_key: str | None, media_id: str | None, category: str | None
) -> tuple[Media | None, str]:
    if media_key is not None:
        if _KEY.fullmatch(media_key) is None:
            if media_key.isascii() and media_key.isdigit():  # a media id (§7.4, older form)
                return await _find_media(
                    session, media_key=None, media_id=media_key, category=category
                )
            raise _invalid(media_key)
        return await session.scalar(select(Media).where(Media.media_key == media_key)), media_key
    assert media_id is not None
    if category is None:
        raise errors.MissingParameter("media_category")
    digits = media_id.isascii() and media_id.isdigit() and len(media_id) <= 19
    if not digits or not 0 < int(media_id) < 2**63:
        raise _invalid(media_id)
    media = await session.get(Media, int(media_id))
    if media is not None and library_category(media.kind, media.category) != category:
        raise _invalid(media_id)
    return media, media_id


_ITEMS = cast(Table, LibraryItem.__table__)
_TERMS = cast(Table, LibraryTerm.__table__)


def _insert_ignore(session: AsyncSession, table: Table) -> Executable:
    """INSERT that skips rows whose key exists (a concurrent add got there first)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


async def _set_terms(session: AsyncSession, item: LibraryItem) -> None:
    await session.execute(delete(LibraryTerm).where(LibraryTerm.item_id == item.id))
    found = search.terms((item.name, item.title, item.file_name, item.description))
    if found:
        await session.execute(
            insert(_TERMS),
            [{"item_id": item.id, "term": t, "account_id": item.account_id} for t in sorted(found)],
        )


async def _insert_items(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(_insert_ignore(session, _ITEMS), rows)


def _new_row(ids: IdGenerator, account_id: str, media: Media, now: datetime) -> dict[str, object]:
    return {
        "id": ids.next_id(),
        "account_id": account_id,
        "media_id": media.id,
        "media_type": library_type(media.kind),
        "name": None,
        "title": None,
        "description": None,
        "file_name": None,
        "poster_media_id": None,
        "created_at": now,
        "updated_at": now,
    }


async def _apply(
    session: AsyncSession,
    item: LibraryItem,
    changes: Mapping[str, str],
    *,
    account: AccountView,
    user_id: int,
    now: datetime,
) -> None:
    """Set the given fields (an empty value unsets one) and the item's terms."""
    for name, limit in LIMITS.items():
        if len(changes.get(name, "")) > limit:
            raise errors.InvalidParameter(
                name, f"{name} must be at most {limit} characters, got {len(changes[name])}"
            )
    if "name" in changes:
        item.name = changes["name"] or None
    if "title" in changes:
        item.title = changes["title"] or None
    if "file_name" in changes:
        item.file_name = changes["file_name"] or None
    if "description" in changes:
        item.description = changes["description"] or None
    if "poster_media_key" in changes:
        key = changes["poster_media_key"]
        if not key:
            item.poster_media_id = None
        else:
            if item.media_type == "IMAGE":
                raise errors.InvalidParameter(
                    "poster_media_key", "poster_media_key is for videos and GIFs only"
                )
            found = await session.scalar(select(Media).where(Media.media_key == key))
            poster = await _usable(
                session, found, key, users=(account.owner_id, user_id), now=now,
                parameter="poster_media_key",
            )  # fmt: skip
            if poster.kind is not MediaKind.IMAGE or poster.state is not UploadState.SUCCEEDED:
                raise _invalid(key, "poster_media_key")
            queries.mark_used(poster)  # a poster never expires either
            item.poster_media_id = poster.id
    item.updated_at = now
    await session.flush()
    await _set_terms(session, item)


async def add_item(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    account: AccountView,
    user_id: int,
    media_key: str | None,
    media_id: str | None,
    media_category: str | None,
    changes: Mapping[str, str],
    now: datetime,
) -> tuple[LibraryItemView, bool]:
    """Add a media (by key, or by numeric id with its category); returns the item and
    whether it is new. A media already in the library is answered as it is (the fields
    of the repeated add are not applied: PUT changes them)."""
    found, key = await _find_media(
        session, media_key=media_key, media_id=media_id, category=media_category
    )
    media = await _usable(session, found, key, users=(account.owner_id,), now=now)
    existing = await session.scalar(
        select(LibraryItem).where(
            LibraryItem.account_id == account.id, LibraryItem.media_id == media.id
        )
    )
    created = existing is None
    if existing is None:
        row = _new_row(ids, account.id, media, now)
        await _insert_items(session, [row])
        item = await session.scalar(
            select(LibraryItem).where(
                LibraryItem.account_id == account.id, LibraryItem.media_id == media.id
            )
        )
        assert item is not None
        created = item.id == row["id"]  # else a concurrent add won
        if created:
            queries.mark_used(media)
            await _apply(session, item, changes, account=account, user_id=user_id, now=now)
    else:
        item = existing
    view = (await load_views(session, [item], now=now))[0]
    await session.commit()
    return view, created


async def add_posted_media_in_transaction(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    author_id: int,
    media: Sequence[Media],
    now: datetime,
) -> None:
    """Posting adds to the library: the media of a post by ``author_id`` enter the
    library of every studio account that user owns (those already there are skipped).
    Inside the caller's transaction."""
    media = [m for m in media if library_type(m.kind) is not None]
    if not media:
        return
    accounts = list(
        await session.scalars(
            select(StudioAccount.id).where(
                StudioAccount.owner_id == author_id, StudioAccount.deleted.is_(False)
            )
        )
    )
    if not accounts:
        return
    rows = await session.execute(
        select(LibraryItem.account_id, LibraryItem.media_id).where(
            LibraryItem.account_id.in_(accounts),
            LibraryItem.media_id.in_([m.id for m in media]),
        )
    )
    present = {(account_id, media_id) for account_id, media_id in rows}
    new = [
        _new_row(ids, account_id, item, now)
        for account_id in accounts
        for item in media
        if (account_id, item.id) not in present
    ]
    await _insert_items(session, new)


async def add_recording_in_transaction(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    owner_id: int,
    media: Media,
    title: str,
    now: datetime,
) -> None:
    """A broadcast's recording enters the library of every studio account its user owns,
    titled after the broadcast (the Producer, app/live/recording.py). In the caller's
    transaction."""
    await add_posted_media_in_transaction(session, ids, author_id=owner_id, media=[media], now=now)
    queries.mark_used(media)  # library media never expire
    if not title:
        return
    items = await session.scalars(
        select(LibraryItem).where(LibraryItem.media_id == media.id, LibraryItem.title.is_(None))
    )
    for item in items:
        item.title, item.name = title[:70], title[:100]
        await _set_terms(session, item)


# --- changing and deleting ---------------------------------------------------------------


async def update_item(
    session: AsyncSession,
    *,
    account: AccountView,
    user_id: int,
    media_key: str,
    changes: Mapping[str, str],
    now: datetime,
) -> LibraryItemView:
    item = await _item_by_key(session, account.id, media_key)
    await _apply(session, item, changes, account=account, user_id=user_id, now=now)
    view = (await load_views(session, [item], now=now))[0]
    await session.commit()
    return view


async def delete_item(
    session: AsyncSession,
    store: SegmentStore,
    *,
    account: AccountView,
    media_key: str,
    now: datetime,
) -> LibraryItemView:
    """The trash can. Media the account's owner owns is deleted for good: its bytes and
    every variant go (the space is freed), ``removed_at`` is set, it leaves every
    library, and posts that carried it show it as unavailable. Anyone else's media only
    leaves this library. Returns the item as it was, ``deleted`` true."""
    item = await _item_by_key(session, account.id, media_key)
    view = (await load_views(session, [item], now=now))[0]
    media = await session.get(Media, item.media_id, with_for_update=True)
    assert media is not None
    remove = media.owner_id == account.owner_id
    if remove:
        queries.mark_removed(media, now=now)
        await session.execute(delete(MediaVariant).where(MediaVariant.media_id == media.id))
        await session.execute(
            update(LibraryItem)
            .where(LibraryItem.poster_media_id == media.id)
            .values(poster_media_id=None)
        )
        gone = select(LibraryItem.id).where(LibraryItem.media_id == media.id)
        await session.execute(delete(LibraryTerm).where(LibraryTerm.item_id.in_(gone)))
        await session.execute(delete(LibraryItem).where(LibraryItem.media_id == media.id))
    else:
        await session.execute(delete(LibraryTerm).where(LibraryTerm.item_id == item.id))
        await session.execute(delete(LibraryItem).where(LibraryItem.id == item.id))
    await session.commit()
    if remove:  # after the commit: the media is unreachable before its bytes go
        await store.discard(keys.media(media.id))
    return _deleted(view)


def _deleted(view: LibraryItemView) -> LibraryItemView:
    return replace(view, deleted=True)


async def media_titles(
    session: AsyncSession, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str | None, str | None]]:
    """The title and description of each (author, media) the author's own libraries
    give (the most recently updated item with either set), for the media of posts."""
    media_ids = {media_id for _, media_id in pairs}
    if not media_ids:
        return {}
    authors = {author for author, _ in pairs}
    rows = await session.execute(
        select(
            StudioAccount.owner_id, LibraryItem.media_id, LibraryItem.title, LibraryItem.description
        )
        .join(StudioAccount, StudioAccount.id == LibraryItem.account_id)
        .where(
            LibraryItem.media_id.in_(media_ids),
            StudioAccount.owner_id.in_(authors),
            (LibraryItem.title.is_not(None)) | (LibraryItem.description.is_not(None)),
        )
        .order_by(LibraryItem.updated_at)
    )
    found: dict[tuple[int, int], tuple[str | None, str | None]] = {}
    for owner_id, media_id, title, description in rows:
        found[(owner_id, media_id)] = (title, description)  # the latest wins
    return found
