"""Claims jobs and runs their handlers, holding a lease with heartbeats.

Failure handling: a handler error re-queues the job with backoff; after ``max_attempts``
the job is ``failed`` and its media ``failed`` with ``InternalError`` (code 131). A
worker that dies mid-job stops heartbeating; once its lease runs out another runner
claims the job (counting an attempt), and one that finds a job claimed more often than
``max_attempts`` gives up on it the same way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import utcnow
from app.jobs import queue as jobs
from app.processing import service as processing
from app.processing.errors import InternalError
from app.storage import SegmentStore
from app.uploads.policy import UploadPolicy

__all__ = ["Runner"]

log = logging.getLogger(__name__)


class Runner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: SegmentStore,
        policy: UploadPolicy,
        *,
        lease: timedelta | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
    ) -> None:
        self.sessions, self.store, self.policy = sessions, store, policy
        self.lease, self.clock = lease or policy.job_lease, clock
        default_id = f"{socket.gethostname()[:32]}:{os.getpid()}:{id(self):x}"
        self.worker_id = (worker_id or default_id)[:64]

    async def _handle(self, job: jobs.ClaimedJob) -> None:
        if job.kind == jobs.PROCESS_MEDIA and job.media_id is not None:
            await processing.process_media(
                self.sessions, self.store, self.policy, media_id=job.media_id
            )
            return
        raise LookupError(f"no handler for job kind {job.kind!r}")

    async def run_once(self) -> bool:
        """Run one due job; False when there was none."""
        job = await jobs.claim_next(
            self.sessions, worker=self.worker_id, lease=self.lease, now=self.clock()
        )
        if job is None:
            return False
        extra = {"job_id": job.id, "media_id": job.media_id, "attempt": job.attempts}
        if job.attempts > job.max_attempts:  # its workers kept dying: stop trying
            log.warning("job abandoned", extra=extra)
            await self._fail(job, "lease expired too often")
            return True
        try:
            async with jobs.hold_lease(
                self.sessions, job.id, worker=self.worker_id, lease=self.lease, clock=self.clock
            ):
                await self._handle(job)
        except jobs.LeaseLost:
            log.warning("job lease lost", extra=extra)  # another worker owns it now
        except Exception as exc:
            log.exception("job failed", extra=extra)
            await self._fail(job, repr(exc))
        else:
            await jobs.finish(self.sessions, job.id, now=self.clock(), worker=self.worker_id)
            log.info("job done", extra=extra)
        return True

    async def _fail(self, job: jobs.ClaimedJob, error: str) -> None:
        exhausted = await jobs.retry_or_fail(
            self.sessions, job.id, error=error, now=self.clock(), worker=self.worker_id
        )
        if exhausted and job.media_id is not None:
            await processing.mark_failed(
                self.sessions,
                self.store,
                job.media_id,
                InternalError("processing failed repeatedly"),
            )

    async def run_forever(self, *, poll_interval: float) -> None:
        while True:
            try:
                ran = await self.run_once()
            except Exception:
                log.exception("runner loop error")
                ran = False
            if not ran:
                await asyncio.sleep(poll_interval)
