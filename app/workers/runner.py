"""Claims jobs and runs their handlers, holding a lease with heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models.base import utcnow
from app.processing.errors import InternalError
from app.services import jobs, processing
from app.services.policy import UploadPolicy
from app.upload.storage import SegmentStore

__all__ = ["Runner"]

log = logging.getLogger(__name__)


class Runner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: SegmentStore,
        policy: UploadPolicy,
        *,
        lease: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
    ) -> None:
        self.sessions, self.store, self.policy = sessions, store, policy
        self.lease, self.clock = lease, clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def _handler(self, job: jobs.ClaimedJob) -> Callable[[], Awaitable[None]]:
        if job.kind == jobs.PROCESS_MEDIA and job.media_id is not None:
            media_id = job.media_id
            return lambda: processing.process_media(
                self.sessions,
                self.store,
                media_id=media_id,
                max_pixels=self.policy.max_image_pixels,
                clock=self.clock,
            )
        raise LookupError(f"no handler for job kind {job.kind!r}")

    async def run_once(self) -> bool:
        """Run one due job; False when there was none."""
        job = await jobs.claim_next(
            self.sessions, worker=self.worker_id, lease=self.lease, now=self.clock()
        )
        if job is None:
            return False
        beat = asyncio.create_task(self._heartbeat(job.id))
        try:
            await self._handler(job)()
        except Exception as exc:
            log.exception("job failed", extra={"job_id": job.id, "attempt": job.attempts})
            exhausted = await jobs.retry_or_fail(
                self.sessions, job.id, error=repr(exc), now=self.clock()
            )
            if exhausted and job.media_id is not None:
                await processing.mark_failed(
                    self.sessions, job.media_id, InternalError("processing failed repeatedly")
                )
        else:
            await jobs.finish(self.sessions, job.id, now=self.clock())
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        return True

    async def _heartbeat(self, job_id: int) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            await jobs.heartbeat(
                self.sessions, job_id, worker=self.worker_id, until=self.clock() + self.lease
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
