"""The Producer's tables (``app/live/``): sources (ingest points with a stream key),
broadcasts (one go-live each, bound to a source), ingests (one encoder connection each,
as nginx reports them, with the recording it left) and live viewers."""

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
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow

__all__ = ["LiveBroadcast", "LiveIngest", "LiveSource", "LiveViewer"]


class LiveSource(Base):
    """A persistent ingest point: an RTMP push (stream key) or an HLS pull (a URL)."""

    __tablename__ = "live_sources"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # numeric string
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(8))  # rtmp | hls
    region: Mapped[str] = mapped_column(String(32))
    stream_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The internal stream name nginx renames an accepted stream to (files and URLs).
    live_name: Mapped[str] = mapped_column(String(32), unique=True)
    external_hls_url: Mapped[str | None] = mapped_column(Text)
    # The source's SRT listener port (settings.live.srt_ports), when SRT is on.
    srt_port: Mapped[int | None] = mapped_column(Integer, unique=True)
    is_stream_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stream_attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    compatibility_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    probed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LiveBroadcast(Base):
    """One go-live: NOT_STARTED -> RUNNING -> ENDED (or TIMED_OUT, CANCELED)."""

    __tablename__ = "live_broadcasts"
    __table_args__ = (
        Index("ix_live_broadcasts_user_id_created_at", "user_id", "created_at"),
        # One active broadcast per source, even for two creates racing.
        Index(
            "uq_live_broadcasts_active_source", "source_id", unique=True,
            postgresql_where=text("state IN ('NOT_STARTED', 'RUNNING')"),
            sqlite_where=text("state IN ('NOT_STARTED', 'RUNNING')"),
        ),
    )  # fmt: skip

    id: Mapped[str] = mapped_column(String(13), primary_key=True)
    media_number: Mapped[int] = mapped_column(BigInteger, unique=True)  # media_key 28_<n>
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("live_sources.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(280), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str] = mapped_column(String(32))
    chat_option: Mapped[int] = mapped_column(SmallInteger, default=2)
    no_hearts: Mapped[bool] = mapped_column(Boolean, default=False)
    is_low_latency: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    preview_token: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last encoder of a RUNNING broadcast went away (the reconnect window's start).
    ingest_lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    total_watched: Mapped[int] = mapped_column(Integer, default=0)
    # none -> waiting (ended, ingests still recording) -> queued -> ready | failed | discarded
    recording_state: Mapped[str] = mapped_column(String(12), default="none")
    recording_error: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), index=True
    )


class LiveIngest(Base):
    """One encoder connection as nginx reported it (on_publish .. on_publish_done), and
    the file it recorded (on_record_done)."""

    __tablename__ = "live_ingests"
    __table_args__ = (Index("ix_live_ingests_source_id_ended_at", "source_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source_id: Mapped[str] = mapped_column(ForeignKey("live_sources.id", ondelete="CASCADE"))
    broadcast_id: Mapped[str | None] = mapped_column(
        ForeignKey("live_broadcasts.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(32))  # nginx's clientid
    address: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    record_path: Mapped[str | None] = mapped_column(Text)  # relative to the recordings folder
    recorded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LiveViewer(Base):
    """A client that fetched a broadcast's live playlist: ``total_watching`` counts the
    ones seen within the viewer window, ``total_watched`` all of them."""

    __tablename__ = "live_viewers"

    broadcast_id: Mapped[str] = mapped_column(
        ForeignKey("live_broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    viewer: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
