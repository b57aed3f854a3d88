from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class OAuthNonce(Base):
    """A seen OAuth 1.0a nonce; a replay within the timestamp window is refused.

    ``id`` is sha256(consumer key, token, nonce, timestamp); the primary key makes the
    check hold across processes.
    """

    __tablename__ = "oauth_nonces"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RateLimitWindow(Base):
    """Requests counted in the current window of one (subject, endpoint) pair."""

    __tablename__ = "rate_limit_windows"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)  # "user:1" / "app:2"
    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
