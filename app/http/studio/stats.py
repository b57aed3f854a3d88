"""``GET /11/stats/accounts/:account_id``: the Ads API's synchronous stats (§11.1)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["studio-analytics"])
