"""Dependencies as ``Annotated`` aliases; tests swap the ``get_*`` seams."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Protocol, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import service as accounts
from app.analytics.ingest import PlaybackIngest
from app.context import AppContext
from app.core import errors
from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.infra.logcontext import bind_user
from app.infra.statements import Statements
from app.storage import SegmentStore
from app.storage.live import LiveFiles
from app.uploads.policy import UploadPolicy

__all__ = [
    "Authenticator",
    "BearerAuthenticator",
    "ClockDep",
    "ContextDep",
    "CurrentUser",
    "IdsDep",
    "PolicyDep",
    "ReadSessionDep",
    "ReadSessionsDep",
    "SessionDep",
    "SessionsDep",
    "StatementsDep",
    "StoreDep",
    "context_of",
    "live_files_of",
    "solve_by_hand",
]

log = logging.getLogger(__name__)


def playback_of(context: AppContext) -> PlaybackIngest:
    """The process's playback ingest (app/analytics/ingest.py), made on first use."""
    if context.playback is None:
        context.playback = PlaybackIngest(
            context.sessions, context.read_sessions, context.settings.analytics
        )
    return context.playback


def live_files_of(request: Request) -> LiveFiles:
    """The live ingest's local files (app/storage/live.py) of this app's data folder."""
    return LiveFiles.of(context_of(request).settings.data_dir)


def context_of(request: Request) -> AppContext:
    """The app's context (built by the lifespan in ``app.main``)."""
    return cast(AppContext, request.app.state.context)


async def get_context(request: Request) -> AppContext:
    return context_of(request)


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return context_of(request).sessions


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


async def get_session(sessions: SessionsDep) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session  # no commit here: services commit before they return


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return context_of(request).read_sessions


ReadSessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_read_sessions)]


async def get_read_session(sessions: ReadSessionsDep) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
"""A session that only reads (on SQLite it neither waits for nor blocks writers)."""


async def get_statements(request: Request) -> Statements:
    return context_of(request).statements


StatementsDep = Annotated[Statements, Depends(get_statements)]
"""Prepared statements for the hot paths (INIT, STATUS, APPEND)."""


async def get_store(request: Request) -> SegmentStore:
    return context_of(request).store


StoreDep = Annotated[SegmentStore, Depends(get_store)]


async def get_policy(request: Request) -> UploadPolicy:
    return context_of(request).policy


PolicyDep = Annotated[UploadPolicy, Depends(get_policy)]


async def get_ids(request: Request) -> IdGenerator:
    return context_of(request).ids


IdsDep = Annotated[IdGenerator, Depends(get_ids)]


async def get_clock() -> Callable[[], datetime]:
    return utcnow


ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]


class Authenticator(Protocol):
    """One credential scheme. Returns the account id, None when the request does not use
    this scheme, or raises NotAuthenticated when it does but the credential is bad."""

    async def authenticate(
        self, request: Request, sessions: async_sessionmaker[AsyncSession]
    ) -> int | None: ...


class BearerAuthenticator:
    """``Authorization: Bearer <token>``. Known tokens are cached for ``ttl`` seconds, so
    most requests (every APPEND of an upload) cost no database round trip."""

    def __init__(self, *, ttl: float = 60.0, max_entries: int = 10_000) -> None:
        self._ttl, self._max = ttl, max_entries
        self._cache: dict[str, tuple[float, int, int]] = {}

    async def authenticate(
        self, request: Request, sessions: async_sessionmaker[AsyncSession]
    ) -> int | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = accounts.hash_token(token.strip())
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is None or cached[0] < now:
            async with context_of(request).read_sessions() as session:
                found = await accounts.authenticate_bearer_hash(session, key)
            if found is None:
                log.warning("bearer refused", extra={"reason": "unknown bearer token"})
                raise errors.NotAuthenticated()
            if len(self._cache) >= self._max:
                self._cache.clear()
            cached = (now + self._ttl, *found)
            self._cache[key] = cached
        request.state.client_app_id = cached[2]  # for per-app rate limits
        return cached[1]


async def get_current_user(request: Request) -> int:
    """The caller's account id. Each scheme opens and closes its own short session, so
    no transaction stays open while an upload body streams."""
    context = context_of(request)
    authenticators, sessions = context.authenticators, context.sessions
    for authenticator in authenticators:
        account_id = await authenticator.authenticate(request, sessions)
        if account_id is not None:
            bind_user(account_id)  # for the request's log lines (app/infra/logcontext.py)
            return account_id
    log.info("authentication refused", extra={"reason": "no credentials"})
    raise errors.NotAuthenticated()


CurrentUser = Annotated[int, Depends(get_current_user)]


async def solve_by_hand(request: Request) -> tuple[int, AppContext, Callable[[], datetime]]:
    """``CurrentUser``, ``ContextDep`` and ``ClockDep`` for the two hottest routes
    (v1.1 upload and STATUS), which declare no dependencies: FastAPI's solving costs
    about 80 us per request for these three (docs/perf/solve-by-hand.md). Overrides of
    ``get_clock`` in ``app.dependency_overrides`` still apply. Their rate limit is counted
    by hand too (``app.http.ratelimit.count``), once the form names the command."""
    user = await get_current_user(request)
    provider = request.app.dependency_overrides.get(get_clock, get_clock)
    return user, context_of(request), await provider()
