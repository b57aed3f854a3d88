"""``GET /2/media/analytics``: the v2 media analytics (§12.2)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/2/media", tags=["media-analytics-v2"])
