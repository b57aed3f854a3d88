"""Job kinds and their handlers. Each domain registers its own kinds from its ``jobs``
module (``app.processing.jobs`` registers ``process_media``); the runner looks a claimed
job's kind up here and fails a job whose kind nobody registered.

Imports no domain package: ``app.jobs.handlers`` puts the service's registry together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs.queue import ClaimedJob
from app.storage import SegmentStore
from app.uploads.policy import UploadPolicy

__all__ = ["Handler", "JobDeps", "JobHandler", "JobRegistry"]


@dataclass(frozen=True, slots=True)
class JobDeps:
    """What a handler may use: the runner's sessions, store and policy."""

    sessions: async_sessionmaker[AsyncSession]
    store: SegmentStore
    policy: UploadPolicy


Handler = Callable[[JobDeps, ClaimedJob], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobHandler:
    """``run`` does the work (raising makes the runner retry it with backoff);
    ``give_up``, if set, runs once the last attempt failed (e.g. the media ends
    ``failed``)."""

    kind: str
    run: Handler
    give_up: Handler | None = None


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, kind: str, run: Handler, *, give_up: Handler | None = None) -> None:
        """Raises ``ValueError`` for a kind registered already: two domains claiming one
        kind is a wiring bug, not something to resolve by order."""
        if kind in self._handlers:
            raise ValueError(f"job kind {kind!r} is registered already")
        self._handlers[kind] = JobHandler(kind, run, give_up)

    def get(self, kind: str) -> JobHandler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)
