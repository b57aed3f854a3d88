"""The analytics job kinds (``stats_job``: an asynchronous Ads API stats job, §11.2)."""

from __future__ import annotations

from app.jobs.registry import JobRegistry

__all__ = ["register"]


def register(registry: JobRegistry) -> None:
    """Registers the analytics job kinds (none yet: filled in by issue 15's jobs work)."""
