"""The Producer's job kinds: ``live_recording`` (app/live/recording.py), queued when a
broadcast ends and every encoder connection of it has reported its recording."""

from __future__ import annotations

from app.jobs.registry import JobRegistry
from app.live import recording
from app.live.hooks import KIND

__all__ = ["register"]


def register(registry: JobRegistry) -> None:
    registry.register(KIND, recording.run_job, give_up=recording.give_up)
