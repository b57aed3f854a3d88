"""Ads API draft posts (§9), scheduled posts (§8), previews and posts (§10)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["studio-posts"])
