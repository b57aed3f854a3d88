"""What ``/healthz`` (database, schema and storage answer) and ``/readyz`` (ready for
uploads: also room on the storage volume) check; ``/livez`` checks nothing (the process
answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import StorageSettings
from app.infra import schema
from app.storage import SegmentStore, SupportsSpace

__all__ = ["Readiness", "check", "readiness"]


async def check(sessions: async_sessionmaker[AsyncSession], store: SegmentStore) -> dict[str, bool]:
    """``database``: a connection and a query answer; ``schema``: the database is at the
    code's head (``app/infra/schema.py``: the same query, one round trip); ``storage``:
    a small probe object is written and deleted through the store."""
    try:
        status = await schema.status_of_sessions(sessions)
    except (SQLAlchemyError, OSError):
        status = None
    database = status is not None and status.state is not schema.SchemaState.UNREACHABLE
    return {
        "database": database,
        "schema": status is not None and status.current,
        "storage": await store.healthy(),
    }


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, bool]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, ok in self.checks.items() if not ok]


async def readiness(
    sessions: async_sessionmaker[AsyncSession], store: SegmentStore, limits: StorageSettings
) -> Readiness:
    """``check`` plus ``storage_space``: false while the storage volume has less free
    than ``limits.min_free_bytes`` or ``limits.min_free_percent`` (a backend that
    cannot fill up, without ``SupportsSpace``, always passes)."""
    checks = await check(sessions, store)
    details: dict[str, Any] = {}
    if isinstance(store, SupportsSpace):
        try:
            space = await store.space()
        except OSError:
            checks["storage_space"] = False
        else:
            checks["storage_space"] = (
                space.free >= limits.min_free_bytes
                and space.free_percent >= limits.min_free_percent
            )
            details["storage_space"] = {
                "free_bytes": space.free,
                "total_bytes": space.total,
                "free_percent": round(space.free_percent, 2),
                "min_free_bytes": limits.min_free_bytes,
                "min_free_percent": limits.min_free_percent,
            }
    return Readiness(checks, details)
