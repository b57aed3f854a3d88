"""``/metrics``'s text: the process metrics (app/infra/metrics.py; every process's in
multiprocess mode) and the database gauges, read at scrape time by two grouped queries:

- ``mediastudio_uploads{state}``: media rows by upload state (every state, 0 included);
- ``mediastudio_jobs_queued{kind}``: queued jobs (due or backing off) by kind;
- ``mediastudio_jobs_oldest_age_seconds{kind}``: how long the oldest due queued job of a
  kind has been due (0 when none is due yet).

A database error leaves those gauges out of that scrape and counts
``mediastudio_scrape_errors_total``: the scrape itself still answers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.infra.metrics import SCRAPE_ERRORS
from app.models.job import Job, JobState
from app.models.media import Media
from app.uploads.protocol import UploadState

__all__ = ["database_gauges", "scrape"]

log = logging.getLogger(__name__)


class _Families(Collector):
    """Metric families made for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


async def database_gauges(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime
) -> list[Metric]:
    """The upload and job queue gauges, as the database has them ``now``."""
    async with sessions() as session:
        by_state = (
            await session.execute(select(Media.state, func.count()).group_by(Media.state))
        ).all()
        queued = (
            await session.execute(
                select(Job.kind, func.count(), func.min(Job.run_after))
                .where(Job.state == JobState.QUEUED)
                .group_by(Job.kind)
            )
        ).all()
    uploads = GaugeMetricFamily(
        "mediastudio_uploads", "Media by upload state (from the database).", labels=["state"]
    )
    counts = dict.fromkeys((state.value for state in UploadState), 0)
    for state, count in by_state:
        counts[UploadState(state).value] = count
    for name, count in counts.items():
        uploads.add_metric([name], count)
    depth = GaugeMetricFamily(
        "mediastudio_jobs_queued",
        "Jobs waiting to run (due or backing off), by kind (from the database).",
        labels=["kind"],
    )
    oldest = GaugeMetricFamily(
        "mediastudio_jobs_oldest_age_seconds",
        "How long the oldest queued job of a kind has been due; 0 when none is due yet.",
        labels=["kind"],
    )
    for kind, count, first_due in queued:
        depth.add_metric([kind], count)
        oldest.add_metric([kind], max((now - first_due).total_seconds(), 0.0))
    return [uploads, depth, oldest]


def _process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


async def scrape(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> bytes:
    """The exposition text: process metrics, then the database gauges read ``now``."""
    try:
        families = await database_gauges(sessions, now=now)
    except Exception as exc:
        log.warning("metrics: database gauges unavailable: %r", exc)
        SCRAPE_ERRORS.inc()
        families = []
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_Families(families))
    return generate_latest(_process_registry()) + generate_latest(gauges)
