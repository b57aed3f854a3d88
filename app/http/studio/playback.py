"""``POST /studio/v1/playback/events``: players report what viewers do (anonymous)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/studio/v1", tags=["studio-analytics"])
