"""The durable job queue: rows inserted with their cause, claimed under a lease.

On PostgreSQL any number of workers claim with ``FOR UPDATE SKIP LOCKED``; SQLite's
single writer makes the claim transaction exclusive anyway. A job whose lease ran out
(its worker died) is claimed again; after ``max_attempts`` it ends ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Job, JobState

__all__ = ["ClaimedJob", "claim_next", "enqueue", "finish", "heartbeat", "retry_or_fail"]

PROCESS_MEDIA = "process_media"


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    media_id: int | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def enqueue(
    session: AsyncSession, *, kind: str, media_id: int | None, max_attempts: int, now: datetime
) -> None:
    """Add a job to the caller's transaction: it exists exactly when its cause commits."""
    session.add(
        Job(
            kind=kind,
            media_id=media_id,
            payload={},
            state=JobState.QUEUED,
            attempts=0,
            max_attempts=max_attempts,
            run_after=now,
            created_at=now,
        )
    )


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


async def finish(sessions: async_sessionmaker[AsyncSession], job_id: int, *, now: datetime) -> None:
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is not None:
            job.state, job.finished_at, job.lease_until = JobState.DONE, now, None
            await session.commit()


async def retry_or_fail(
    sessions: async_sessionmaker[AsyncSession], job_id: int, *, error: str, now: datetime
) -> bool:
    """Record a failed attempt; True when no attempt is left and the job is failed."""
    async with sessions() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None:
            return True
        job.last_error = error[:2000]
        job.lease_until = None
        exhausted = job.attempts >= job.max_attempts
        if exhausted:
            job.state, job.finished_at = JobState.FAILED, now
        else:
            job.state = JobState.QUEUED
            job.run_after = now + timedelta(seconds=2**job.attempts)
        await session.commit()
        return exhausted
