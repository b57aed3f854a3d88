"""``POST/GET /11/stats/jobs/accounts/:account_id``: asynchronous stats jobs (§11.2), and
the download of their gzip files (``files``, outside the versioned paths)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["files", "router"]

router = APIRouter(tags=["studio-analytics"])
files = APIRouter(tags=["studio-analytics"])
