"""Fixed-window rate limits counted in the database, so they hold across processes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import errors
from app.models import RateLimitWindow

__all__ = ["RateLimitExceeded", "RateRule", "RateState", "hit"]


@dataclass(frozen=True, slots=True)
class RateRule:
    limit: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class RateState:
    limit: int
    used: int
    reset: datetime
    # The earliest reset among all the subjects counted (``hit`` sets it): until then a
    # reservation of several requests (``cost``) stays inside every window it counted in.
    soonest_reset: datetime | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit


async def _count(
    session: AsyncSession,
    *,
    subject: str,
    endpoint: str,
    rule: RateRule,
    now: datetime,
    cost: int,
) -> RateState:
    row = await session.get(RateLimitWindow, (subject, endpoint), with_for_update=True)
    if row is None:
        row = RateLimitWindow(subject=subject, endpoint=endpoint, window_start=now, count=0)
        async with session.begin_nested():
            session.add(row)
    if row.window_start + rule.window <= now:
        row.window_start, row.count = now, 0
    row.count += cost
    return RateState(limit=rule.limit, used=row.count, reset=row.window_start + rule.window)


async def hit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    checks: list[tuple[str, RateRule]],
    endpoint: str,
    now: datetime,
    cost: int = 1,
) -> RateState:
    """Count ``cost`` requests for each (subject, rule): the user's window and the app's.

    The tightest state is returned (for the ``x-rate-limit-*`` headers), with
    ``soonest_reset``.

    Raises RateLimited, carrying that state, when any subject is over its limit; the
    refused request is not counted.
    """
    for _ in range(3):
        try:
            async with sessions() as session:
                states = [
                    await _count(
                        session, subject=subject, endpoint=endpoint, rule=rule, now=now, cost=cost
                    )
                    for subject, rule in checks
                ]
                tightest = min(states, key=lambda st: st.limit - st.used)
                if tightest.exceeded:
                    await session.rollback()
                    raise RateLimitExceeded(tightest)
                await session.commit()
                return replace(tightest, soonest_reset=min(st.reset for st in states))
        except IntegrityError:  # a first request for this window raced another process
            continue
    raise errors.RateLimited()


class RateLimitExceeded(errors.RateLimited):
    """RateLimited with the window that ran out, for the response headers."""

    def __init__(self, state: RateState) -> None:
        super().__init__()
        self.state = state
