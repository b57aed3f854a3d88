"""The analytics job kinds: ``stats_job``, an asynchronous Ads API stats job (§11.2,
app/analytics/stats_jobs.py)."""

from __future__ import annotations

from app.analytics import stats_jobs
from app.jobs.registry import JobRegistry

__all__ = ["register"]


def register(registry: JobRegistry) -> None:
    registry.register(stats_jobs.KIND, stats_jobs.run_job, give_up=stats_jobs.give_up)
