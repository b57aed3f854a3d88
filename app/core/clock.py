"""The clock: aware UTC now. Services take ``now`` as an argument; the edge reads it here."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)
