"""The typed application context: what the lifespan builds once and every request and
background task uses. Replaces loose ``app.state.*`` attributes; the HTTP layer reads it
with ``app.http.deps.context_of``.

Fields may be replaced while the app runs (tests swap the store or the id generator);
readers look them up on each use rather than keeping copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.ids import IdGenerator
from app.infra.statements import Statements
from app.storage import SegmentStore
from app.uploads.policy import UploadPolicy

if TYPE_CHECKING:
    from app.analytics.ingest import PlaybackIngest
    from app.http.deps import Authenticator

__all__ = ["AppContext"]


@dataclass(slots=True)
class AppContext:
    settings: Settings
    engine: AsyncEngine  # for sessions (on SQLite thread-backed: may run long)
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]  # sessions that only read
    # The compiled hot statements (app.uploads' queries); on SQLite on the in-loop engine.
    statements: Statements
    store: SegmentStore
    policy: UploadPolicy
    ids: IdGenerator
    authenticators: list[Authenticator] = field(default_factory=list)
    # The playback ingest (app/analytics/ingest.py), made on first use.
    playback: PlaybackIngest | None = None
