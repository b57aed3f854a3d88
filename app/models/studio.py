"""The studio's tables: ads-style accounts, their members, the media library, draft and
scheduled posts (``app/studio/``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class StudioAccount(Base):
    """An ads-style account (Ads API §4): a base36 ``id``, managed by its members, owned
    by one platform user, its FULL promotable user, whose media and posts it manages."""

    __tablename__ = "studio_accounts"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # The FULL promotable user's own id (§6.2 ``id``), base36 like the account's.
    promotable_user_id: Mapped[str] = mapped_column(String(16), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone_switch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # PUT accounts/:id (§4.3): one of app.studio.accounts.INDUSTRY_TYPES, or unset.
    industry_type: Mapped[str | None] = mapped_column(String(32))


class StudioMember(Base):
    """A platform user's access to an account: a role, or an explicit permission list
    (``permissions``: the Ads API's names, comma-separated)."""

    __tablename__ = "studio_members"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("studio_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # admin | full | limited | custom
    permissions: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryItem(Base):
    """One media in one account's library (Ads API §7.1). ``id`` is time-ordered: the
    list is newest first on it, and its keyset cursor."""

    __tablename__ = "studio_library_items"
    __table_args__ = (
        UniqueConstraint("account_id", "media_id"),
        Index("ix_studio_library_items_account_id_id", "account_id", "id"),
        Index("ix_studio_library_items_account_id_media_type_id", "account_id", "media_type", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[str] = mapped_column(ForeignKey("studio_accounts.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    media_type: Mapped[str] = mapped_column(String(8))  # IMAGE | GIF | VIDEO
    name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(70))
    description: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(255))
    poster_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryTerm(Base):
    """A lower-cased word of a library item's name, title, file_name or description: the
    ``q`` search is an indexed term lookup, newest first, never a scan."""

    __tablename__ = "studio_library_terms"
    __table_args__ = (
        Index("ix_studio_library_terms_account_id_term_item_id", "account_id", "term", "item_id"),
    )

    item_id: Mapped[int] = mapped_column(
        ForeignKey("studio_library_items.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(16))


class DraftTweet(Base):
    """A draft post (Ads API §9); ``media_keys`` comma-separated, in order."""

    __tablename__ = "studio_draft_tweets"
    __table_args__ = (Index("ix_studio_draft_tweets_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[str] = mapped_column(ForeignKey("studio_accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str | None] = mapped_column(String(80))
    card_uri: Mapped[str | None] = mapped_column(String(200))
    nullcast: Mapped[bool] = mapped_column(Boolean, default=True)
    media_keys: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduledTweet(Base):
    """A scheduled post (Ads API §8). The scheduler publishes it by flipping ``status``
    from SCHEDULED and inserting the post in one transaction; ``tweet_id`` is unique, so
    a post can never be made twice from one row."""

    __tablename__ = "studio_scheduled_tweets"
    __table_args__ = (
        Index("ix_studio_scheduled_tweets_account_id_id", "account_id", "id"),
        Index("ix_studio_scheduled_tweets_status_scheduled_at", "status", "scheduled_at"),
        Index("ix_studio_scheduled_tweets_account_id_scheduled_at", "account_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[str] = mapped_column(ForeignKey("studio_accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str | None] = mapped_column(String(80))
    card_uri: Mapped[str | None] = mapped_column(String(200))
    nullcast: Mapped[bool] = mapped_column(Boolean, default=True)
    media_keys: Mapped[str] = mapped_column(Text, default="")
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="SCHEDULED")
    tweet_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
