"""The rollup: counts new raw playback events into the per-session state and the hourly
and lifetime counters, in one transaction per batch, and prunes old raw events. Runs in
every ``mediastudio worker`` and in the in-process worker; the ``analytics_locks`` row
makes any number of them take turns.

(Skeleton: the loop below is filled in by the rollup work of issue 15.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import AnalyticsSettings

__all__ = ["roll_up_once", "rollup_from_settings", "run_rollups"]


async def roll_up_once(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyticsSettings,
    *,
    now_ms: int | None = None,
) -> int:
    """Counts one batch of pending raw events (at most ``settings.rollup_batch``) in one
    transaction; the number counted (0: nothing pending, or another worker holds the
    rollup lock)."""
    raise NotImplementedError


async def run_rollups(
    sessions: async_sessionmaker[AsyncSession], settings: AnalyticsSettings
) -> None:
    await asyncio.Event().wait()


def rollup_from_settings(
    sessions: async_sessionmaker[AsyncSession], settings: AnalyticsSettings
) -> Coroutine[Any, Any, None]:
    return run_rollups(sessions, settings)
