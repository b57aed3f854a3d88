"""Dependencies as ``Annotated`` aliases; tests swap the ``get_*`` seams."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import State

from app import errors
from app.models.base import utcnow
from app.services import accounts
from app.services.policy import UploadPolicy
from app.statements import Statements
from app.upload.ids import IdGenerator
from app.upload.storage import SegmentStore

__all__ = [
    "Authenticator",
    "BearerAuthenticator",
    "ClockDep",
    "CurrentUser",
    "IdsDep",
    "PolicyDep",
    "ReadSessionDep",
    "ReadSessionsDep",
    "Services",
    "ServicesDep",
    "SessionDep",
    "SessionsDep",
    "StatementsDep",
    "StoreDep",
    "solve_by_hand",
]


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessions  # type: ignore[no-any-return]


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


async def get_session(sessions: SessionsDep) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session  # no commit here: services commit before they return


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.read_sessions  # type: ignore[no-any-return]


ReadSessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_read_sessions)]


async def get_read_session(sessions: ReadSessionsDep) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
"""A session that only reads (on SQLite it neither waits for nor blocks writers)."""


class Services:
    """What the upload routes use, as one dependency: they run thousands of times per
    second, and each dependency FastAPI solves costs tens of microseconds. Reads the
    app's state when asked, so a replaced ``app.state.policy`` takes effect."""

    __slots__ = ("_state",)

    def __init__(self, state: State) -> None:
        self._state = state

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._state.sessions  # type: ignore[no-any-return]

    @property
    def statements(self) -> Statements:
        return self._state.statements  # type: ignore[no-any-return]

    @property
    def store(self) -> SegmentStore:
        return self._state.store  # type: ignore[no-any-return]

    @property
    def policy(self) -> UploadPolicy:
        return self._state.policy  # type: ignore[no-any-return]

    @property
    def ids(self) -> IdGenerator:
        return self._state.ids  # type: ignore[no-any-return]


async def get_services(request: Request) -> Services:
    return Services(request.app.state)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_statements(request: Request) -> Statements:
    return request.app.state.statements  # type: ignore[no-any-return]


StatementsDep = Annotated[Statements, Depends(get_statements)]
"""Prepared statements for the hot paths (INIT, STATUS, APPEND)."""


async def get_store(request: Request) -> SegmentStore:
    return request.app.state.store  # type: ignore[no-any-return]


StoreDep = Annotated[SegmentStore, Depends(get_store)]


async def get_policy(request: Request) -> UploadPolicy:
    return request.app.state.policy  # type: ignore[no-any-return]


PolicyDep = Annotated[UploadPolicy, Depends(get_policy)]


async def get_ids(request: Request) -> IdGenerator:
    return request.app.state.ids  # type: ignore[no-any-return]


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
            async with request.app.state.read_sessions() as session:
                found = await accounts.authenticate_bearer_hash(session, key)
            if found is None:
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
    authenticators: list[Authenticator] = request.app.state.authenticators
    sessions = request.app.state.sessions
    for authenticator in authenticators:
        account_id = await authenticator.authenticate(request, sessions)
        if account_id is not None:
            return account_id
    raise errors.NotAuthenticated()


CurrentUser = Annotated[int, Depends(get_current_user)]


async def solve_by_hand(request: Request) -> tuple[int, Services, Callable[[], datetime]]:
    """``CurrentUser``, ``ServicesDep`` and ``ClockDep`` for the two hottest routes
    (v1.1 upload and STATUS), which declare no dependencies: FastAPI's solving costs
    about 80 us per request for these three (issue #6). Overrides of ``get_clock`` in
    ``app.dependency_overrides`` still apply."""
    user = await get_current_user(request)
    provider = request.app.dependency_overrides.get(get_clock, get_clock)
    return user, Services(request.app.state), await provider()
