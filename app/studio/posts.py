"""Scheduled posts (Ads API §8): create, edit until ``scheduled_at``, delete, list.
Publishing them is the scheduler's (``app/studio/scheduler.py``), woken after
each create and edit.

The 30-per-15-minutes rule (``settings.studio``) is exact under concurrent writes: the
window's posts are counted and the new one inserted in one transaction that first locks
the account's row (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite writers are serialised by
``BEGIN IMMEDIATE``), so two creates for one account never count at the same time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import IdGenerator
from app.models import ScheduledTweet, StudioAccount
from app.studio import errors, rules, scheduler
from app.studio.access import AccountView
from app.studio.drafts import Fields, PlannedView, apply_fields, planned_view

__all__ = [
    "SCHEDULED",
    "ScheduledTweetNotEditable",
    "WindowRule",
    "create_scheduled",
    "delete_scheduled",
    "get_scheduled",
    "update_scheduled",
]

SCHEDULED = "SCHEDULED"


class ScheduledTweetNotEditable(errors.StudioError):
    """An edit of a scheduled post that went live, failed, or whose ``scheduled_at``
    has passed (UNCONFIRMED on X: this service's code)."""

    ads_code = "SCHEDULED_TWEET_NOT_EDITABLE"


@dataclass(frozen=True, slots=True)
class WindowRule:
    limit: int
    window: timedelta


async def _check_window(
    session: AsyncSession,
    rule: WindowRule,
    *,
    account_id: str,
    at: datetime,
    ignore: int | None = None,
) -> None:
    """Lock the account's row, then count its SCHEDULED posts around ``at``."""
    await session.execute(
        select(StudioAccount.id).where(StudioAccount.id == account_id).with_for_update()
    )
    query = select(ScheduledTweet.scheduled_at).where(
        ScheduledTweet.account_id == account_id,
        ScheduledTweet.status == SCHEDULED,
        ScheduledTweet.scheduled_at > at - rule.window,
        ScheduledTweet.scheduled_at < at + rule.window,
    )
    if ignore is not None:
        query = query.where(ScheduledTweet.id != ignore)
    others = list(await session.scalars(query))
    rules.check_window(others, at, limit=rule.limit, window=rule.window)


async def _scheduled(
    session: AsyncSession, account_id: str, scheduled_id: int, *, lock: bool = False
) -> ScheduledTweet:
    query = select(ScheduledTweet).where(
        ScheduledTweet.id == scheduled_id, ScheduledTweet.account_id == account_id
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise errors.NotFound(
            f"Scheduled Tweet {scheduled_id} was not found for Account {account_id}"
        )
    return row


async def get_scheduled(
    session: AsyncSession, *, account_id: str, scheduled_id: int
) -> PlannedView:
    return planned_view(await _scheduled(session, account_id, scheduled_id))


async def create_scheduled(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    account: AccountView,
    user_id: int,
    created_by: int,
    fields: Fields,
    rule: WindowRule,
    now: datetime,
) -> PlannedView:
    """``fields`` must hold ``scheduled_at`` (already planned: ``rules.plan_scheduled_at``).
    Only members who may publish create scheduled posts, organic ones included."""
    at = fields["scheduled_at"]
    row = ScheduledTweet(
        id=ids.next_id(),
        account_id=account.id,
        user_id=user_id,
        created_by=created_by,
        text="",
        name=None,
        card_uri=None,
        nullcast=True,
        media_keys="",
        scheduled_at=at,
        status=SCHEDULED,
        attempts=0,
        created_at=now,
    )
    await apply_fields(session, row, account, fields, may_publish=True, now=now)
    await _check_window(session, rule, account_id=account.id, at=at)
    session.add(row)
    await session.commit()
    scheduler.wake()
    return planned_view(row)


async def update_scheduled(
    session: AsyncSession,
    *,
    account: AccountView,
    scheduled_id: int,
    fields: Fields,
    rule: WindowRule,
    now: datetime,
) -> PlannedView:
    """Only the given fields change, while the post is SCHEDULED and ``scheduled_at``
    is ahead; the row is locked first, so the scheduler cannot publish it meanwhile."""
    row = await _scheduled(session, account.id, scheduled_id, lock=True)
    if row.status != SCHEDULED:
        raise ScheduledTweetNotEditable(
            f"Scheduled Tweet {scheduled_id} is {row.status} and can no longer be edited"
        )
    if row.scheduled_at <= now:
        raise ScheduledTweetNotEditable(
            f"Scheduled Tweet {scheduled_id} is due and can no longer be edited"
        )
    if "scheduled_at" in fields:  # the row, then the account: no writer locks the reverse
        await _check_window(
            session, rule, account_id=account.id, at=fields["scheduled_at"], ignore=scheduled_id
        )
    await apply_fields(session, row, account, fields, may_publish=True, now=now)
    if "scheduled_at" in fields:
        row.scheduled_at = fields["scheduled_at"]
    await session.commit()
    scheduler.wake()
    return planned_view(row)


async def delete_scheduled(
    session: AsyncSession, *, account_id: str, scheduled_id: int
) -> PlannedView:
    """A hard delete in any status (a published post stays); answers what was deleted."""
    view = planned_view(await _scheduled(session, account_id, scheduled_id, lock=True))
    await session.execute(delete(ScheduledTweet).where(ScheduledTweet.id == scheduled_id))
    await session.commit()
    return view
