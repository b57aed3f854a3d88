"""``GET /studio/v1/accounts/{account_id}/analytics``: the studio's own report (JSON, CSV)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/studio/v1", tags=["studio-analytics"])
