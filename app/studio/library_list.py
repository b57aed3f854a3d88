"""The media library's list (Ads API §7.2): newest first on the item id, a keyset
cursor on it, the ``media_type`` filter and the ``q`` term search, each page one indexed
query plus the page's hydration (``library_views.load_views``): no COUNT, no OFFSET."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import LibraryItem, LibraryTerm
from app.studio import errors, search
from app.studio.accounts import base36
from app.studio.library_views import LibraryItemView, load_views

__all__ = ["decode_cursor", "list_items"]

_CURSOR = re.compile(r"^c-([0-9a-z]{1,13})$")


def _encode_cursor(item_id: int) -> str:
    return "c-" + base36(item_id)


def decode_cursor(raw: str) -> int:
    """The item id a ``next_cursor`` stands for; anything else is INVALID_PARAMETER."""
    match = _CURSOR.fullmatch(raw)
    if match is None or int(match.group(1), 36) >= 2**63:
        raise errors.InvalidParameter("cursor", f"Invalid cursor {raw!r}")
    return int(match.group(1), 36)


_ITEM = cast(Table, LibraryItem.__table__).c


async def _page_rows(
    session: AsyncSession,
    *,
    account_id: str,
    limit: int,
    before: int | None,
    media_type: str | None,
    terms: Sequence[str],
) -> list[Any]:
    """One indexed query: the page's item rows (plain columns, no ORM objects), newest
    first."""
    if not terms:
        query = select(*_ITEM).where(_ITEM.account_id == account_id)
        if media_type is not None:
            query = query.where(_ITEM.media_type == media_type)
        if before is not None:
            query = query.where(_ITEM.id < before)
        return list(await session.execute(query.order_by(_ITEM.id.desc()).limit(limit)))
    # Driven by the first term's (account_id, term, item_id) index; every other term is
    # a primary-key probe (item_id, term) of the same item, and the item its own.
    first = aliased(LibraryTerm)
    query = (
        select(*_ITEM)
        .select_from(first)
        .join(LibraryItem, _ITEM.id == first.item_id)
        .where(first.account_id == account_id, first.term == terms[0])
    )
    for term in terms[1:]:
        other = aliased(LibraryTerm)
        query = query.join(other, and_(other.item_id == first.item_id, other.term == term))
    if media_type is not None:
        query = query.where(_ITEM.media_type == media_type)
    if before is not None:
        query = query.where(first.item_id < before)
    return list(await session.execute(query.order_by(first.item_id.desc()).limit(limit)))


async def list_items(
    session: AsyncSession,
    *,
    account_id: str,
    count: int,
    cursor: int | None,
    media_type: str | None,
    q: str | None,
    now: datetime,
) -> tuple[list[LibraryItemView], str | None]:
    """A page, newest first, and the cursor of the next (None: the list ended). The
    cursor is the last item's id: items added meanwhile are newer, so they never shift
    the pages still to come."""
    terms: list[str] = []
    if q is not None:
        terms = search.query_terms(q)
        if len(terms) > search.MAX_QUERY_TERMS:
            raise errors.InvalidParameter(
                "q", f"q may hold at most {search.MAX_QUERY_TERMS} terms, got {len(terms)}"
            )
        if not terms:  # only punctuation: no item has such a term
            return [], None
    rows = await _page_rows(
        session,
        account_id=account_id,
        limit=count + 1,
        before=cursor,
        media_type=media_type,
        terms=terms,
    )
    more = len(rows) > count
    rows = rows[:count]
    views = await load_views(session, rows, now=now)
    await session.commit()
    return views, _encode_cursor(rows[-1].id) if more and rows else None
