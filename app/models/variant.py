"""Processed outputs of a media: photo sizes, mp4 renditions, HLS master, preview."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, enum_values, utcnow

__all__ = ["MediaVariant", "VariantKind"]


class VariantKind(StrEnum):
    PHOTO = "photo"  # name: thumb, small, medium, large, orig
    MP4 = "mp4"  # name: <W>x<H>
    HLS = "hls"  # name: master
    PREVIEW = "preview"  # name: preview


class MediaVariant(Base):
    """One file under the media's variants directory; ``path`` is relative to it.

    HLS media playlists and segments are not rows: they live under ``pl/`` next to the
    master playlist and are served by path.
    """

    __tablename__ = "media_variants"
    __table_args__ = (UniqueConstraint("media_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    kind: Mapped[VariantKind] = mapped_column(
        Enum(VariantKind, native_enum=False, length=16, values_callable=enum_values)
    )
    name: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    bitrate: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
