"""Claims jobs and runs their handlers (looked up by kind in a ``JobRegistry``),
holding a lease with heartbeats.

Failure handling: a handler error re-queues the job with backoff, unless the exception
says it is ``permanent`` (an attribute, e.g. ``app.processing.errors.InvalidMedia``: the
same input fails the same way), which fails the job at once, after one attempt, and
runs ``give_up``. After ``max_attempts`` the job is ``failed`` and ``give_up`` runs
(``process_media``'s marks the media ``failed`` with ``InternalError``, code 131,
unless it failed for good already). A worker that dies mid-job stops
heartbeating; once its lease runs out another runner claims the job (counting an
attempt), and one that finds a job claimed more often than ``max_attempts`` gives up on
it the same way. A handler that finds the storage full (``StorageFull``) is deferred
(``FULL_DISK_RETRY`` later) without counting the attempt: the media is not at fault and
stays pending until space is freed. A job of a kind nobody registered is logged and
failed at once: no attempt of this runner could succeed, so it is not retried.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import utcnow
from app.jobs import queue as jobs
from app.jobs.backoff import LoopHealth
from app.jobs.handlers import default_registry
from app.jobs.registry import JobDeps, JobRegistry
from app.storage import SegmentStore, StorageFull
from app.uploads.policy import UploadPolicy

__all__ = ["Runner"]

log = logging.getLogger(__name__)

FULL_DISK_RETRY = jobs.FULL_DISK_RETRY


class Runner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: SegmentStore,
        policy: UploadPolicy,
        *,
        registry: JobRegistry | None = None,
        lease: timedelta | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
    ) -> None:
        self.sessions, self.store, self.policy = sessions, store, policy
        self.registry = registry if registry is not None else default_registry()
        self.lease, self.clock = lease or policy.job_lease, clock
        default_id = f"{socket.gethostname()[:32]}:{os.getpid()}:{id(self):x}"
        self.worker_id = (worker_id or default_id)[:64]

    @property
    def _deps(self) -> JobDeps:
        return JobDeps(self.sessions, self.store, self.policy)

    async def run_once(self) -> bool:
        """Run one due job; False when there was none."""
        job = await jobs.claim_next(
            self.sessions, worker=self.worker_id, lease=self.lease, now=self.clock()
        )
        if job is None:
            return False
        extra = {
            "job_id": job.id,
            "kind": job.kind,
            "media_id": job.media_id,
            "attempt": job.attempts,
        }
        if "request_id" in job.payload:  # the request that queued it (app/jobs/queue.py)
            extra["request_id"] = job.payload["request_id"]
        handler = self.registry.get(job.kind)
        if handler is None:
            log.error("job kind unknown", extra=extra)
            await jobs.fail(
                self.sessions,
                job.id,
                error=f"no handler for job kind {job.kind!r}",
                now=self.clock(),
                worker=self.worker_id,
            )
            return True
        if job.attempts > job.max_attempts:  # its workers kept dying: stop trying
            log.warning("job abandoned", extra=extra)
            await self._fail(job, "lease expired too often")
            return True
        try:
            async with jobs.hold_lease(
                self.sessions, job.id, worker=self.worker_id, lease=self.lease, clock=self.clock
            ):
                await handler.run(self._deps, job)
        except jobs.LeaseLost:
            log.warning("job lease lost", extra=extra)  # another worker owns it now
        except StorageFull as exc:
            log.warning("job deferred: storage full", extra=extra)
            await jobs.defer(
                self.sessions, job.id, error=repr(exc), now=self.clock(),
                delay=FULL_DISK_RETRY, worker=self.worker_id,
            )  # fmt: skip
        except Exception as exc:
            if getattr(exc, "permanent", False) is True:
                log.info("job failed for good", extra={**extra, "error": repr(exc)})
                await self._fail(job, repr(exc), permanent=True)
                return True
            log.exception("job failed", extra=extra)
            await self._fail(job, repr(exc))
        else:
            await jobs.finish(self.sessions, job.id, now=self.clock(), worker=self.worker_id)
            log.info("job done", extra=extra)
        return True

    async def _fail(self, job: jobs.ClaimedJob, error: str, *, permanent: bool = False) -> None:
        exhausted = await jobs.retry_or_fail(
            self.sessions,
            job.id,
            error=error,
            now=self.clock(),
            worker=self.worker_id,
            permanent=permanent,
        )
        handler = self.registry.get(job.kind)
        if exhausted and handler is not None and handler.give_up is not None:
            await handler.give_up(self._deps, job)

    async def run_forever(
        self,
        *,
        poll_interval: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Poll every ``poll_interval`` seconds while idle; on errors of the loop itself
        (the database is down or unmigrated) back off and log a summary, not a traceback
        per poll (``app/jobs/backoff.py``)."""
        health = LoopHealth("job runner", base=poll_interval, logger=log, clock=monotonic)
        while True:
            try:
                ran = await self.run_once()
            except Exception as exc:
                await sleep(health.failed(exc))
                continue
            health.succeeded()
            if not ran:
                await sleep(poll_interval)
