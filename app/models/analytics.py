"""The analytics tables (``app/analytics/``): raw playback events as players report them,
per-session state the rollup keeps, hourly and lifetime counters per media, the rollup's
lock row, and the Ads API's asynchronous stats jobs.

Times of events are epoch milliseconds and rollup hours epoch seconds (BigInteger): the
ingest path writes tens of thousands of rows a second and the stats queries bucket hours
arithmetically, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow

__all__ = [
    "COUNTER_COLUMNS",
    "AnalyticsLock",
    "MediaHourlyStats",
    "MediaTotals",
    "PlaybackEvent",
    "PlaybackSession",
    "StatsJob",
]

# The counters every rollup row carries, in this order (app/analytics/metrics.COUNTERS).
COUNTER_COLUMNS = (
    "impressions",
    "starts",
    "views_25",
    "views_50",
    "views_75",
    "views_100",
    "total_views",
    "views_3s",
    "views_6s",
    "views_15s",
    "watch_ms",
    "cta_url_clicks",
    "cta_watch_clicks",
)


class PlaybackEvent(Base):
    """One event as a player sent it (deduplicated on ``session_id`` + ``seq`` at ingest).
    ``rolled`` turns true in the rollup transaction that counted it; pruning deletes rows
    older than ``analytics.raw_retention_hours``."""

    __tablename__ = "playback_events"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        Index(
            "ix_playback_events_pending",
            "id",
            postgresql_where=text("NOT rolled"),
            sqlite_where=text("rolled = 0"),
        ),
        Index("ix_playback_events_received_ms", "received_ms"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    media_id: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(16))
    position_ms: Mapped[int | None] = mapped_column(BigInteger)
    quartile: Mapped[int | None] = mapped_column(SmallInteger)
    cta: Mapped[str | None] = mapped_column(String(8))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    rolled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PlaybackSession(Base):
    """What the rollup knows of one viewing session: enough to apply the next event
    incrementally (app/analytics/rules.py) without reading the session's raw events."""

    __tablename__ = "playback_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_id: Mapped[int] = mapped_column(BigInteger)
    first_ms: Mapped[int] = mapped_column(BigInteger)
    last_ms: Mapped[int] = mapped_column(BigInteger)
    top_seq: Mapped[int] = mapped_column(BigInteger)
    top_type: Mapped[str] = mapped_column(String(16))
    top_ts_ms: Mapped[int] = mapped_column(BigInteger)
    top_position_ms: Mapped[int | None] = mapped_column(BigInteger)
    watch_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    flags: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class MediaHourlyStats(Base):
    """Counters of one media in one UTC hour (``hour`` = epoch seconds of its start),
    maintained incrementally by the rollup; every stats query reads these, never raw
    events."""

    __tablename__ = "analytics_media_hourly"

    media_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    starts: Mapped[int] = mapped_column(BigInteger, default=0)
    views_25: Mapped[int] = mapped_column(BigInteger, default=0)
    views_50: Mapped[int] = mapped_column(BigInteger, default=0)
    views_75: Mapped[int] = mapped_column(BigInteger, default=0)
    views_100: Mapped[int] = mapped_column(BigInteger, default=0)
    total_views: Mapped[int] = mapped_column(BigInteger, default=0)
    views_3s: Mapped[int] = mapped_column(BigInteger, default=0)
    views_6s: Mapped[int] = mapped_column(BigInteger, default=0)
    views_15s: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    cta_url_clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    cta_watch_clicks: Mapped[int] = mapped_column(BigInteger, default=0)


class MediaTotals(Base):
    """Lifetime counters of one media (the v2 ``public_metrics.view_count`` and
    ``organic_metrics`` read one row), maintained by the rollup with the hourly rows."""

    __tablename__ = "analytics_media_totals"

    media_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    starts: Mapped[int] = mapped_column(BigInteger, default=0)
    views_25: Mapped[int] = mapped_column(BigInteger, default=0)
    views_50: Mapped[int] = mapped_column(BigInteger, default=0)
    views_75: Mapped[int] = mapped_column(BigInteger, default=0)
    views_100: Mapped[int] = mapped_column(BigInteger, default=0)
    total_views: Mapped[int] = mapped_column(BigInteger, default=0)
    views_3s: Mapped[int] = mapped_column(BigInteger, default=0)
    views_6s: Mapped[int] = mapped_column(BigInteger, default=0)
    views_15s: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    cta_url_clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    cta_watch_clicks: Mapped[int] = mapped_column(BigInteger, default=0)


class AnalyticsLock(Base):
    """One row per periodic analytics task (``rollup``, ``prune``): the task locks its row
    for its transaction, so any number of workers run it one at a time."""

    __tablename__ = "analytics_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StatsJob(Base):
    """An asynchronous stats job (Ads API §11.2): the request's parameters, its status and,
    once the worker wrote it, the gzip file's storage key and the opaque token of its URL."""

    __tablename__ = "stats_jobs"
    __table_args__ = (Index("ix_stats_jobs_account_id_status", "account_id", "status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[str] = mapped_column(ForeignKey("studio_accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # PROCESSING | SUCCESS | FAILED | ...
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    start_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime] = mapped_column(UTCDateTime)
    file_key: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
