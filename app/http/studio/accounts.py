"""Ads API accounts (§4), authenticated user access (§5), promotable users (§6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["studio-accounts"])
