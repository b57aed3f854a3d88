"""The scheduler: publishes every due scheduled post exactly once.

Exactly once: a due row is published in ONE transaction that flips it with a conditional
``UPDATE ... SET status='SUCCESS' ... WHERE id IN (...) AND status='SCHEDULED'
RETURNING`` (a row it does not return is another scheduler's: skipped), creates the post
(``app.posts.service.store_post``: ``create_post``'s checks and inserts, without its
commit; the post's ``created_at`` is the row's ``completed_at``), sets ``tweet_id`` and
commits. A crash anywhere before the commit leaves the row SCHEDULED and no post; after
it, the row is no longer SCHEDULED, so no scheduler can publish it again. On PostgreSQL
the due rows are claimed with ``FOR UPDATE SKIP LOCKED``, so several schedulers (every
``mediastudio worker`` process and the in-process scheduler of every ``serve`` process)
share them; on SQLite the write transaction (``BEGIN IMMEDIATE``) serializes them. Up to
``batch`` rows go in one transaction.

Timing: the loop sleeps until the earliest due post, at most ``poll_interval``; ``wake()``
(called by the code that creates or edits a scheduled post, after its commit) cuts the
sleep short in this process. Idle, it only reads (a read-only session: no SQLite write
lock). ``completed_at`` is the real publish time, also for a post that fell due while
the service was down.

Failures: a go-live refusal (an ``ApiError``: media deleted from the library or gone,
the text now a duplicate, any posting rule) sets ``FAILED`` with the error's message in
``failure_reason`` and is never retried. Anything else (a database error) rolls the
batch back; its rows are tried again one by one, and a row that fails alone counts an
attempt (``attempts``), ending ``FAILED`` after ``max_attempts``; the loop backs off as
app/jobs/backoff.py says. ``STATS`` and the ``mediastudio_scheduler_*`` metrics count
what this process did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import StudioSettings
from app.core.clock import utcnow
from app.core.errors import ApiError
from app.core.ids import IdGenerator
from app.infra import metrics
from app.jobs.backoff import LoopHealth
from app.models import Media, ScheduledTweet
from app.posts.service import store_post
from app.studio.errors import InvalidMedia

__all__ = [
    "FAILED",
    "SCHEDULED",
    "STATS",
    "SUCCESS",
    "MediaUnavailable",
    "SchedulerStats",
    "next_due_at",
    "publish_due",
    "run_scheduler",
    "scheduler_from_settings",
    "wake",
]

log = logging.getLogger(__name__)

SCHEDULED, SUCCESS, FAILED = "SCHEDULED", "SUCCESS", "FAILED"
# Shortest sleep when due rows exist that this scheduler could not claim (another one on
# PostgreSQL holds them locked while it publishes): it looks again shortly, not in a spin.
CONTENDED_WAIT = 0.05

_T = ScheduledTweet


class MediaUnavailable(InvalidMedia):
    """A media of the post was deleted from the library (or is gone) before it went live."""

    def __init__(self, media_key: str) -> None:
        super().__init__(f"Media {media_key} is no longer available", parameter="media_keys")


@dataclass
class SchedulerStats:
    """Totals since the process started."""

    published: int = 0
    failed: int = 0
    errors: int = 0


STATS = SchedulerStats()

_WAKERS: set[asyncio.Event] = set()


def wake() -> None:
    """A scheduled post was created or changed in this process: the schedulers running in
    it look again now instead of at their next poll. Call it from the event loop."""
    for event in _WAKERS:
        event.set()


async def next_due_at(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    """``scheduled_at`` of the earliest SCHEDULED row (index status, scheduled_at)."""
    async with sessions() as session:
        earliest: datetime | None = await session.scalar(
            select(func.min(_T.scheduled_at)).where(_T.status == SCHEDULED)
        )
    return earliest


@dataclass(frozen=True, slots=True)
class _Due:
    """What publishing a row needs (the columns of ``_COLUMNS``, in order)."""

    id: int
    account_id: str
    user_id: int
    text: str
    media_keys: str
    nullcast: bool
    name: str | None
    card_uri: str | None
    scheduled_at: datetime


_COLUMNS = (
    _T.id, _T.account_id, _T.user_id, _T.text, _T.media_keys, _T.nullcast, _T.name,
    _T.card_uri, _T.scheduled_at,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A settled row: published as post ``tweet_id``, or FAILED for ``reason`` (``kind``:
    the error's class name, or ``internal`` once the attempts ran out)."""

    row: _Due
    completed_at: datetime
    tweet_id: int | None = None
    reason: str = ""
    kind: str = ""


async def publish_due(
    sessions: async_sessionmaker[AsyncSession],
    ids: IdGenerator,
    *,
    batch: int = 50,
    max_attempts: int = 5,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Publish (or fail) every row due by now that no other scheduler holds; returns how
    many this call settled. Raises the first unexpected error after its attempt was
    counted (the caller backs off)."""
    settled = 0
    while True:
        claimed: list[_Due] = []
        error: Exception | None = None
        try:
            async with sessions() as session:
                now = clock()
                claimed = await _claim(session, now=now, limit=batch)
                outcomes = await _publish(session, ids, claimed, now=now)
                await session.commit()
        except Exception:
            if not claimed:
                raise
            outcomes, error = await _one_by_one(
                sessions, ids, claimed, max_attempts=max_attempts, clock=clock
            )
        for outcome in outcomes:
            _report(outcome)
        settled += len(outcomes)
        if error is not None:
            STATS.errors += 1
            metrics.SCHEDULER_ERRORS.inc()
            raise error
        if len(claimed) < batch:
            return settled


async def _claim(
    session: AsyncSession, *, now: datetime, limit: int, row_id: int | None = None
) -> list[_Due]:
    """Claim the due rows, oldest first: their ids (on PostgreSQL locked ``FOR UPDATE SKIP
    LOCKED``, so schedulers share the rows; SQLite renders no FOR UPDATE: its write
    transaction is exclusive), then one conditional ``UPDATE ... SET status='SUCCESS'
    WHERE id IN (...) AND status='SCHEDULED' RETURNING``: only what it returns is this
    scheduler's. Two statements, not a subquery: PostgreSQL may rescan a ``LIMIT ... FOR
    UPDATE SKIP LOCKED`` subquery of an UPDATE and claim far more than the limit."""
    due = select(_T.id).where(_T.status == SCHEDULED, _T.scheduled_at <= now)
    if row_id is not None:
        due = due.where(_T.id == row_id)
    due = due.order_by(_T.scheduled_at, _T.id).limit(limit).with_for_update(skip_locked=True)
    due_ids = list(await session.scalars(due))
    if not due_ids:
        return []
    result = await session.execute(
        update(_T)
        .where(_T.id.in_(due_ids), _T.status == SCHEDULED)
        .values(status=SUCCESS, completed_at=now, updated_at=now)
        .returning(*_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    claimed = [_Due(*row) for row in result.all()]
    return sorted(claimed, key=lambda row: (row.scheduled_at, row.id))


async def _publish(
    session: AsyncSession, ids: IdGenerator, claimed: list[_Due], *, now: datetime
) -> list[_Outcome]:
    """In the claim's transaction: each row's post, or why it was refused (a posting rule
    raises before ``store_post`` writes anything), then ``tweet_id`` or ``FAILED`` on the
    rows (one executemany each)."""
    outcomes = []
    for row in claimed:
        try:
            tweet_id = await store_post(
                session,
                ids,
                author_id=row.user_id,
                text=row.text,
                media_ids=await _media_ids(session, row.media_keys),
                possibly_sensitive=False,
                in_reply_to_status_id=None,
                now=now,
                nullcast=row.nullcast,
                name=row.name,
                card_uri=row.card_uri,
            )
        except ApiError as refused:
            outcomes.append(_Outcome(row, now, reason=refused.detail, kind=type(refused).__name__))
        else:
            outcomes.append(_Outcome(row, now, tweet_id=tweet_id))
    published = [{"id": o.row.id, "tweet_id": o.tweet_id} for o in outcomes if o.tweet_id]
    failed = [
        {"id": o.row.id, "status": FAILED, "failure_reason": o.reason}
        for o in outcomes
        if o.tweet_id is None
    ]
    for values in (published, failed):
        if values:
            await session.execute(update(_T), values)  # by primary key
    return outcomes


async def _media_ids(session: AsyncSession, media_keys: str) -> list[int]:
    """The media ids of ``media_keys`` in order; a key whose media is gone or was deleted
    from the library (``removed_at``) refuses the post."""
    keys = [key for key in media_keys.split(",") if key]
    if not keys:
        return []
    rows = await session.execute(
        select(Media.media_key, Media.id, Media.removed_at).where(Media.media_key.in_(keys))
    )
    found = {key: (media_id, removed) for key, media_id, removed in rows}
    for key in keys:
        if key not in found or found[key][1] is not None:
            raise MediaUnavailable(key)
    return [found[key][0] for key in keys]


async def _one_by_one(
    sessions: async_sessionmaker[AsyncSession],
    ids: IdGenerator,
    rows: list[_Due],
    *,
    max_attempts: int,
    clock: Callable[[], datetime],
) -> tuple[list[_Outcome], Exception | None]:
    """After a batch failed: each row in a transaction of its own, so one bad row costs
    only its own attempt. Returns the outcomes and the first error."""
    outcomes: list[_Outcome] = []
    first: Exception | None = None
    for row in rows:
        try:
            async with sessions() as session:
                now = clock()
                claimed = await _claim(session, now=now, limit=1, row_id=row.id)
                outcomes += await _publish(session, ids, claimed, now=now)
                await session.commit()
        except Exception as error:
            first = first or error
            failed = await _count_attempt(
                sessions, row, error, max_attempts=max_attempts, now=clock()
            )
            outcomes += [failed] if failed is not None else []
    return outcomes, first


async def _count_attempt(
    sessions: async_sessionmaker[AsyncSession],
    row: _Due,
    error: Exception,
    *,
    max_attempts: int,
    now: datetime,
) -> _Outcome | None:
    """One more failed attempt of ``row``; after ``max_attempts`` it ends FAILED."""
    async with sessions() as session:
        await session.execute(
            update(_T)
            .where(_T.id == row.id, _T.status == SCHEDULED)
            .values(attempts=_T.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        attempts = await session.scalar(
            select(_T.attempts).where(_T.id == row.id, _T.status == SCHEDULED)
        )
        outcome = None
        if attempts is not None and attempts >= max_attempts:
            reason = f"Internal error after {attempts} attempts ({type(error).__name__})"
            await session.execute(
                update(_T)
                .where(_T.id == row.id)
                .values(status=FAILED, failure_reason=reason, completed_at=now)
                .execution_options(synchronize_session=False)
            )
            outcome = _Outcome(row, now, reason=reason, kind="internal")
        await session.commit()
    return outcome


def _report(outcome: _Outcome) -> None:
    """One log line (and the metrics) per settled row, once its transaction committed."""
    row = outcome.row
    lag = (outcome.completed_at - row.scheduled_at).total_seconds()
    extra = {"scheduled_tweet_id": row.id, "account_id": row.account_id, "lag_secs": lag}
    if outcome.tweet_id is not None:
        STATS.published += 1
        metrics.SCHEDULER_PUBLISHED.inc()
        metrics.SCHEDULER_LAG_SECONDS.observe(max(lag, 0.0))
        log.info(
            "scheduled post %d published as %d", row.id, outcome.tweet_id,
            extra={**extra, "tweet_id": outcome.tweet_id},
        )  # fmt: skip
        return
    STATS.failed += 1
    metrics.SCHEDULER_FAILED.labels(outcome.kind).inc()
    log.warning(
        "scheduled post %d failed: %s", row.id, outcome.reason,
        extra={**extra, "reason": outcome.reason, "error": outcome.kind},
    )  # fmt: skip


async def run_scheduler(
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    ids: IdGenerator,
    *,
    poll_interval: float,
    batch: int = 50,
    max_attempts: int = 5,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Publish due posts until cancelled: sleep until the earliest due post, at most
    ``poll_interval``, or until ``wake()``; back off on errors (app/jobs/backoff.py)."""
    health = LoopHealth("scheduler", base=poll_interval, cap=max(60.0, poll_interval), logger=log)
    waker = asyncio.Event()
    _WAKERS.add(waker)
    try:
        while True:
            waker.clear()  # a wake() from here on cuts the coming sleep short
            try:
                due = await next_due_at(read_sessions)
                wait = poll_interval
                if due is not None and due <= clock():
                    if await publish_due(
                        sessions, ids, batch=batch, max_attempts=max_attempts, clock=clock
                    ):
                        health.succeeded()
                        continue  # look again at once: more may have fallen due meanwhile
                    wait = CONTENDED_WAIT
                elif due is not None:
                    wait = min(poll_interval, (due - clock()).total_seconds())
            except Exception as exc:
                await asyncio.sleep(health.failed(exc))
                continue
            health.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waker.wait(), max(wait, 0.0))
    finally:
        _WAKERS.discard(waker)


def scheduler_from_settings(
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    ids: IdGenerator,
    settings: StudioSettings,
) -> Coroutine[Any, Any, None]:
    """``run_scheduler`` as the settings' ``studio`` group configures it."""
    return run_scheduler(
        sessions,
        read_sessions,
        ids,
        poll_interval=settings.scheduler_poll_secs,
        batch=settings.scheduler_batch,
        max_attempts=settings.scheduler_max_attempts,
    )
