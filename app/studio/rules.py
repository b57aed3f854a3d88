"""The pure rules of draft and scheduled posts (Ads API §8-§9): the media mix, the
name's length, the ``scheduled_at`` window and the 30-per-15-minutes count. No database,
no HTTP: the services feed them what they read."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta

from app.studio import errors

__all__ = [
    "MAX_IMAGES",
    "MAX_NAME",
    "MAX_SCHEDULE_AHEAD",
    "ScheduledTweetLimitExceeded",
    "check_media_mix",
    "check_window",
    "plan_scheduled_at",
    "window_peak",
]

MAX_IMAGES = 4
MAX_NAME = 80
MAX_SCHEDULE_AHEAD = timedelta(days=365)


class ScheduledTweetLimitExceeded(errors.StudioError):
    """Too many SCHEDULED posts of the account around ``scheduled_at`` (§8.4)."""

    ads_code = "SCHEDULED_TWEET_LIMIT_EXCEEDED"

    def __init__(self, limit: int, window_secs: int) -> None:
        minutes = f"{window_secs // 60} minutes" if window_secs % 60 == 0 else f"{window_secs} s"
        super().__init__(
            f"At most {limit} scheduled Tweets are allowed in any {minutes} window",
            parameter="scheduled_at",
        )


def check_media_mix(media_types: Sequence[str]) -> None:
    """Up to 4 images, or 1 GIF, or 1 video (``IMAGE``, ``GIF``, ``VIDEO``)."""
    if len(media_types) > 1 and any(t != "IMAGE" for t in media_types):
        raise errors.InvalidMedia(
            "A GIF or a video must be the only media of a Tweet", parameter="media_keys"
        )
    if len(media_types) > MAX_IMAGES:
        raise errors.InvalidMedia(
            f"A Tweet may carry at most {MAX_IMAGES} images", parameter="media_keys"
        )


def plan_scheduled_at(value: datetime, *, now: datetime) -> datetime:
    """Minute granularity (seconds dropped, §8.4); in the future and at most 365 days
    ahead, else 400 INVALID_PARAMETER."""
    at = value.replace(second=0, microsecond=0)
    if at <= now:
        raise errors.InvalidParameter("scheduled_at", "scheduled_at must be in the future")
    if at > now + MAX_SCHEDULE_AHEAD:
        raise errors.InvalidParameter(
            "scheduled_at", "scheduled_at must be at most 365 days in the future"
        )
    return at


def window_peak(others: Sequence[datetime], at: datetime, window: timedelta) -> int:
    """The most posts of ``others`` in one half-open window ``[s, s + window)`` that
    contains ``at``. Sliding any such window right until its start meets a post (or
    ``at``) loses nothing and keeps ``at`` inside, so only those starts are tried."""
    times = sorted(t for t in others if at - window < t < at + window)
    starts = [t for t in times if t <= at] + [at]
    return max(bisect_left(times, start + window) - bisect_left(times, start) for start in starts)


def check_window(
    others: Sequence[datetime], at: datetime, *, limit: int, window: timedelta
) -> None:
    """A new (or moved) SCHEDULED post at ``at`` beside ``others`` (the account's other
    SCHEDULED posts): no window of ``window`` around ``at`` may then hold more than
    ``limit``."""
    if window_peak(others, at, window) + 1 > limit:
        raise ScheduledTweetLimitExceeded(limit, int(window.total_seconds()))
