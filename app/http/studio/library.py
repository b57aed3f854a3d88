"""Ads API media library (§7)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["studio-library"])
