"""The processing domain's job kinds: ``process_media`` (queued by FINALIZE)."""

from __future__ import annotations

from app.jobs.queue import PROCESS_MEDIA, ClaimedJob
from app.jobs.registry import JobDeps, JobRegistry
from app.processing import service
from app.processing.errors import InternalError

__all__ = ["PROCESS_MEDIA", "register"]


async def _process_media(deps: JobDeps, job: ClaimedJob) -> None:
    """Raises the permanent failure (``InvalidMedia``, ``UnsupportedMedia``) the media
    was marked ``failed`` with, so the runner fails the job at once, without retries."""
    if job.media_id is None:
        raise ValueError("a process_media job needs a media id")
    failure = await service.process_media(
        deps.sessions, deps.store, deps.policy, media_id=job.media_id
    )
    if failure is not None:
        raise failure


async def _media_failed(deps: JobDeps, job: ClaimedJob) -> None:
    """Its attempts ran out: the media shows ``InternalError`` (code 131) in STATUS. A
    media failed for good already keeps its error (``mark_failed`` leaves it)."""
    if job.media_id is not None:
        error = InternalError("processing failed repeatedly")
        await service.mark_failed(deps.sessions, deps.store, job.media_id, error)


def register(registry: JobRegistry) -> None:
    registry.register(PROCESS_MEDIA, _process_media, give_up=_media_failed)
