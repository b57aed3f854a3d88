"""The job kinds this service runs: each domain's ``jobs`` module registers its own."""

from __future__ import annotations

from app.analytics import jobs as analytics_jobs
from app.jobs.registry import JobRegistry
from app.live import jobs as live_jobs
from app.processing import jobs as processing_jobs

__all__ = ["default_registry"]


def default_registry() -> JobRegistry:
    registry = JobRegistry()
    processing_jobs.register(registry)
    analytics_jobs.register(registry)
    live_jobs.register(registry)
    return registry
