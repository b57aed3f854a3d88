"""The service's own surface (``/studio/v1/``): creating accounts, their members."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/studio/v1", tags=["studio-members"])
