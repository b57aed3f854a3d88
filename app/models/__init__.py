"""SQLAlchemy ORM models; importing this package makes ``Base.metadata`` complete.

Must not import the domain services, app.http or fastapi.
"""

from app.models.account import AccessToken, Account, BearerToken, ClientApp
from app.models.analytics import (
    AnalyticsLock,
    MediaHourlyStats,
    MediaTotals,
    PlaybackEvent,
    PlaybackSession,
    StatsJob,
)
from app.models.auth import OAuthNonce, RateLimitWindow
from app.models.base import Base
from app.models.job import Job, JobState
from app.models.live import LiveBroadcast, LiveIngest, LiveSource, LiveViewer
from app.models.media import Media, MediaOwner, MediaSegment, MediaSegmentReservation
from app.models.post import DirectMessage, MediaSubtitle, Post, PostMedia
from app.models.studio import (
    DraftTweet,
    LibraryItem,
    LibraryTerm,
    ScheduledTweet,
    StudioAccount,
    StudioMember,
)
from app.models.variant import MediaVariant, VariantKind

__all__ = [
    "AccessToken",
    "Account",
    "AnalyticsLock",
    "Base",
    "BearerToken",
    "ClientApp",
    "DirectMessage",
    "DraftTweet",
    "Job",
    "JobState",
    "LibraryItem",
    "LibraryTerm",
    "LiveBroadcast",
    "LiveIngest",
    "LiveSource",
    "LiveViewer",
    "Media",
    "MediaHourlyStats",
    "MediaOwner",
    "MediaSegment",
    "MediaSegmentReservation",
    "MediaSubtitle",
    "MediaTotals",
    "MediaVariant",
    "OAuthNonce",
    "PlaybackEvent",
    "PlaybackSession",
    "Post",
    "PostMedia",
    "RateLimitWindow",
    "ScheduledTweet",
    "StatsJob",
    "StudioAccount",
    "StudioMember",
    "VariantKind",
]
