"""The durable job queue: rows inserted with their cause, claimed under a lease.

On PostgreSQL any number of workers claim with ``FOR UPDATE SKIP LOCKED``; SQLite's
single writer makes the claim transaction exclusive anyway. A claimed job keeps its
lease alive with heartbeats (``hold_lease``); a job whose lease ran out (its worker
died) is claimed again, and after ``max_attempts`` it ends ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.infra.logcontext import current_request
from app.models import Job, JobState

__all__ = [
    "FULL_DISK_RETRY",
    "ClaimedJob",
    "JobSummary",
    "LeaseLost",
    "NotRetryable",
    "claim_next",
    "defer",
    "enqueue",
    "fail",
    "finish",
    "heartbeat",
    "hold_lease",
    "list_jobs",
    "requeue_failed",
    "retry_or_fail",
    "running_job_id",
]

PROCESS_MEDIA = "process_media"
# A job that found the storage full waits this long, its attempt not counted (``defer``).
FULL_DISK_RETRY = timedelta(seconds=60)

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """A heartbeat found the job taken over by another worker; the work was cancelled."""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    media_id: int | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def _origin() -> dict[str, Any]:
    """The id of the request that queues the job, for the runner's log lines."""
    info = current_request.get()
    return {} if info is None else {"request_id": info.request_id}


def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    media_id: int | None,
    max_attempts: int,
    now: datetime,
    claimed_by: str | None = None,
    lease: timedelta | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add a job to the caller's transaction: it exists exactly when its cause commits.
    ``payload`` is what the handler needs beyond ``media_id`` (JSON).

    With ``claimed_by`` the job starts running under that worker's lease (the caller
    does the work itself, and a worker takes over only if the lease runs out).
    """
    claimed = claimed_by is not None
    session.add(
        Job(
            kind=kind,
            media_id=media_id,
            payload={**(payload or {}), **_origin()},
            state=JobState.RUNNING if claimed else JobState.QUEUED,
            attempts=1 if claimed else 0,
            max_attempts=max_attempts,
            run_after=now,
            lease_until=now + (lease or timedelta(seconds=60)) if claimed else None,
            worker=claimed_by,
            created_at=now,
        )
    )


async def running_job_id(
    sessions: async_sessionmaker[AsyncSession], *, media_id: int, worker: str
) -> int | None:
    async with sessions() as session:
        found: int | None = await session.scalar(
            select(Job.id).where(
                Job.media_id == media_id, Job.worker == worker, Job.state == JobState.RUNNING
            )
        )
        return found


async def claim_next(
    sessions: async_sessionmaker[AsyncSession], *, worker: str, lease: timedelta, now: datetime
) -> ClaimedJob | None:
    async with sessions() as session:
        job = await session.scalar(
            select(Job)
            .where(
                or_(
                    (Job.state == JobState.QUEUED) & (Job.run_after <= now),
                    (Job.state == JobState.RUNNING) & (Job.lease_until < now),
                )
            )
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job is None:
            return None
        job.state = JobState.RUNNING
        job.attempts += 1
        job.lease_until = now + lease
        job.worker = worker
        claimed = ClaimedJob(
            id=job.id,
            kind=job.kind,
            media_id=job.media_id,
            payload=dict(job.payload),
            attempts=job.attempts,
            max_attempts=job.max_attempts,
        )
        await session.commit()
        return claimed


async def heartbeat(
    sessions: async_sessionmaker[AsyncSession], job_id: int, *, worker: str, until: datetime
) -> bool:
    """Extend the lease; False if the job was taken over by another worker."""
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.worker != worker or job.state is not JobState.RUNNING:
            return False
        job.lease_until = until
        await session.commit()
        return True


@contextlib.asynccontextmanager
async def hold_lease(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    *,
    worker: str,
    lease: timedelta,
    clock: Callable[[], datetime],
) -> AsyncIterator[None]:
    """Heartbeat every third of ``lease`` while the body runs. When another worker has
    taken the job over, the body is cancelled and ``LeaseLost`` raised instead."""
    owner = asyncio.current_task()
    assert owner is not None
    lost = False

    async def beat() -> None:
        nonlocal lost
        interval = max(lease.total_seconds() / 3, 0.2)
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await heartbeat(sessions, job_id, worker=worker, until=clock() + lease)
            except Exception:  # a database hiccup: the next beat may still be in time
                log.warning("heartbeat failed", extra={"job_id": job_id}, exc_info=True)
                continue
            if not kept:
                lost = True
                owner.cancel()
                return

    task = asyncio.create_task(beat())
    try:
        yield
    except asyncio.CancelledError:
        if lost and owner.uncancel() == 0:
            raise LeaseLost(job_id) from None
        raise
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def finish(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    *,
    now: datetime,
    worker: str | None = None,
) -> None:
    """Mark the job done, unless ``worker`` no longer holds it."""
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is not None and (worker is None or job.worker == worker):
            job.state, job.finished_at, job.lease_until = JobState.DONE, now, None
            await session.commit()


async def fail(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    *,
    error: str,
    now: datetime,
    worker: str | None = None,
) -> None:
    """Mark the job ``failed`` now, attempts left or not (unless ``worker`` lost it)."""
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or (worker is not None and job.worker != worker):
            return
        job.state, job.finished_at = JobState.FAILED, now
        job.last_error, job.lease_until = error[:2000], None
        await session.commit()


async def retry_or_fail(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    *,
    error: str,
    now: datetime,
    worker: str | None = None,
    permanent: bool = False,
) -> bool:
    """Record a failed attempt; True when no attempt is left and the job is failed.
    ``permanent``: retrying cannot help (the input is at fault), fail it now.

    A job another worker took over meanwhile is left to that worker (returns False).
    """
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None:
            return True
        if worker is not None and job.worker != worker:
            return False
        job.last_error = error[:2000]
        job.lease_until = None
        exhausted = permanent or job.attempts >= job.max_attempts
        if exhausted:
            job.state, job.finished_at = JobState.FAILED, now
        else:
            job.state = JobState.QUEUED
            job.run_after = now + timedelta(seconds=2**job.attempts)
        await session.commit()
        return exhausted


async def defer(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    *,
    error: str,
    now: datetime,
    delay: timedelta,
    worker: str | None = None,
) -> None:
    """Queue the job again after ``delay`` without counting this attempt: it failed for a
    cause outside the job (a full disk), so no number of such failures should fail it."""
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or (worker is not None and job.worker != worker):
            return
        job.last_error, job.lease_until = error[:2000], None
        job.state, job.run_after = JobState.QUEUED, now + delay
        job.attempts = max(job.attempts - 1, 0)
        await session.commit()


@dataclass(frozen=True, slots=True)
class JobSummary:
    id: int
    kind: str
    state: str
    media_id: int | None
    attempts: int
    max_attempts: int
    run_after: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None


async def list_jobs(
    session: AsyncSession, *, state: str | None = None, kind: str | None = None, limit: int = 50
) -> list[JobSummary]:
    """The newest jobs first, optionally of one state and kind."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Job.state == JobState(state))
    if kind is not None:
        query = query.where(Job.kind == kind)
    jobs = await session.scalars(query)
    return [
        JobSummary(
            job.id,
            job.kind,
            job.state.value,
            job.media_id,
            job.attempts,
            job.max_attempts,
            job.run_after,
            job.created_at,
            job.finished_at,
            job.last_error,
        )
        for job in jobs
    ]


class NotRetryable(Exception):
    """Only a failed job can be queued again; this one is another state, or gone."""


async def requeue_failed(session: AsyncSession, job_id: int, *, now: datetime) -> ClaimedJob:
    """Queue a failed job again with its attempts reset (an operator's retry); the caller
    commits. Raises ``NotRetryable``."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotRetryable(f"no job {job_id}")
    if job.state != JobState.FAILED:
        raise NotRetryable(f"job {job_id} is {job.state.value}, not failed")
    job.state, job.attempts, job.run_after = JobState.QUEUED, 0, now
    job.finished_at = job.lease_until = job.worker = None
    return ClaimedJob(job.id, job.kind, job.media_id, job.payload, 0, job.max_attempts)
