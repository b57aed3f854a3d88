from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_values, utcnow
from app.uploads.protocol import MediaKind, UploadState


class Media(Base):
    """One upload from INIT on: its protocol state, its bytes' facts, its processing."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    media_key: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[UploadState] = mapped_column(
        Enum(UploadState, native_enum=False, length=16, values_callable=enum_values)
    )
    kind: Mapped[MediaKind] = mapped_column(
        Enum(MediaKind, native_enum=False, length=16, values_callable=enum_values)
    )
    category: Mapped[str | None] = mapped_column(String(32))
    is_async: Mapped[bool] = mapped_column(Boolean, default=False)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_used: Mapped[bool] = mapped_column(Boolean, default=False)
    media_type: Mapped[str] = mapped_column(String(100))
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    detected_type: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    alt_text: Mapped[str | None] = mapped_column(Text)
    progress_percent: Mapped[int | None] = mapped_column(Integer)
    # Unguessable part of the public delivery URLs; set when variants are published.
    delivery_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_name: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set by FINALIZE's first step: APPENDs are refused from then on, and the FINALIZE
    # that set it owns the assembly until then; a later FINALIZE takes a lapsed one over.
    finalizing_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the media was deleted from a studio library (the trash can): its bytes
    # and variants are gone, the row stays so posts that carried it say it is unavailable.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    segments: Mapped[list[MediaSegment]] = relationship(
        back_populates="media", lazy="raise", cascade="all, delete-orphan"
    )
    additional_owners: Mapped[list[MediaOwner]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )


class MediaSegment(Base):
    __tablename__ = "media_segments"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    segment_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))  # None: not computed yet
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    media: Mapped[Media] = relationship(back_populates="segments", lazy="raise")


class MediaOwner(Base):
    """A user listed in ``additional_owners``: may attach the media too."""

    __tablename__ = "media_owners"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class MediaSegmentReservation(Base):
    """A segment index handed to an index-less APPEND (v2) before its bytes stream, so
    concurrent ones get distinct indexes; removed when the segment is recorded or the
    APPEND fails, ignored once ``reserved_until`` has passed (its process died)."""

    __tablename__ = "media_segment_reservations"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    segment_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    reserved_until: Mapped[datetime] = mapped_column(UTCDateTime)
