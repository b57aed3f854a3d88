"""``GET /2/media/analytics`` (§12.2) as a use case: the caller's own media, counters per
time bucket and over the whole range, from the hourly rollups (``query.series``).

- Granularity ``hourly`` (UTC hours), ``daily`` (UTC days, the default) or ``total``.
  The range is widened to whole buckets: ``start_time`` down to its hour (``daily``: its
  UTC midnight), ``end_time`` (exclusive) up to the next one; the answer's timestamps
  are bucket starts. At most ``MAX_DAYS`` days (``hourly``: ``MAX_HOURLY_DAYS``), so an
  answer holds at most 100 media x 168 hourly buckets.
- Fields: ``playback_start`` = starts, ``playback25/50/75`` = views at the quartile,
  ``playback_complete`` = views at 100 %, ``video_views`` = total views (2 s),
  ``watch_time_ms``, ``cta_url_clicks``, ``cta_watch_clicks``; ``play_from_tap`` is
  ``null`` (players do not report how a playback began). Without
  ``media_analytics.fields`` an object is ``media_key`` and ``timestamped_metrics`` with
  every counter; with it, the named counters appear at the top level (sums over the
  range) and, when ``timestamped_metrics`` is named, per bucket (no counter named: all).
  ``media_key`` is always present, ``timestamp`` (the range's start) when named.
- Only media the caller owns (uploaded) answer; every other key, unknown or someone
  else's alike, is a "resource not found" problem beside ``data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import query
from app.analytics.buckets import Bucket, Granularity, buckets
from app.analytics.metrics import Counters
from app.models import Media
from app.uploads.protocol import MediaKind, UploadState

__all__ = [
    "COUNTER_FIELDS",
    "FIELDS",
    "GRANULARITIES",
    "MAX_DAYS",
    "MAX_HOURLY_DAYS",
    "MediaAnalyticsRequest",
    "align",
    "media_analytics",
    "wire_time",
]

MAX_DAYS = 90
MAX_HOURLY_DAYS = 7
GRANULARITIES = {"hourly": Granularity.HOUR, "daily": Granularity.DAY, "total": Granularity.TOTAL}
# Wire name -> counter (None: not measured, always null).
COUNTER_FIELDS: dict[str, str | None] = {
    "cta_url_clicks": "cta_url_clicks",
    "cta_watch_clicks": "cta_watch_clicks",
    "play_from_tap": None,
    "playback25": "views_25",
    "playback50": "views_50",
    "playback75": "views_75",
    "playback_complete": "views_100",
    "playback_start": "starts",
    "video_views": "total_views",
    "watch_time_ms": "watch_ms",
}
FIELDS = tuple(sorted({*COUNTER_FIELDS, "media_key", "timestamp", "timestamped_metrics"}))


@dataclass(frozen=True, slots=True)
class MediaAnalyticsRequest:
    media_keys: tuple[str, ...]
    start: datetime  # aligned (``align``)
    end: datetime
    granularity: Granularity
    fields: frozenset[str]  # empty: the default object


def wire_time(moment: datetime) -> str:
    """v2's time format: ``2026-12-01T00:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def align(start: datetime, end: datetime, granularity: Granularity) -> tuple[datetime, datetime]:
    """``[start, end)`` widened to whole UTC hours (``DAY``: whole UTC days)."""
    unit = timedelta(days=1) if granularity is Granularity.DAY else timedelta(hours=1)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    low = epoch + (start.astimezone(UTC) - epoch) // unit * unit
    high = epoch + -((epoch - end.astimezone(UTC)) // unit) * unit
    return low, high


async def _owned(session: AsyncSession, keys: Sequence[str], *, user_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Media.media_key, Media.id).where(
            Media.media_key.in_(list(keys)),
            Media.owner_id == user_id,
            Media.state == UploadState.SUCCEEDED,
            Media.kind != MediaKind.SUBTITLES,
        )
    )
    return {row[0]: row[1] for row in rows}


def _counters(counters: Counters, names: Sequence[str]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in names:
        attr = COUNTER_FIELDS[name]
        out[name] = None if attr is None else getattr(counters, attr)
    return out


def _object(
    key: str, per_bucket: list[Counters], spans: Sequence[Bucket], request: MediaAnalyticsRequest
) -> dict[str, Any]:
    fields = request.fields
    named = [f for f in FIELDS if f in COUNTER_FIELDS and f in fields]
    item: dict[str, Any] = {"media_key": key}
    if not fields or "timestamped_metrics" in fields:
        each = named or list(COUNTER_FIELDS)
        item["timestamped_metrics"] = [
            {"timestamp": wire_time(span.start), "metrics": _counters(counters, each)}
            for span, counters in zip(spans, per_bucket, strict=True)
        ]
    if named:
        item.update(_counters(Counters.total(per_bucket), named))
    if "timestamp" in fields:
        item["timestamp"] = wire_time(request.start)
    return item


async def media_analytics(
    session: AsyncSession, request: MediaAnalyticsRequest, *, user_id: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``MediaAnalytics`` objects of the caller's media in request order, and the
    keys that answer nothing (not found, or not the caller's)."""
    owned = await _owned(session, request.media_keys, user_id=user_id)
    spans = buckets(request.start, request.end, request.granularity, "UTC")
    counted = await query.series(session, list(owned.values()), spans)
    data, missing = [], []
    for key in dict.fromkeys(request.media_keys):
        if key not in owned:
            missing.append(key)
            continue
        per_bucket = counted.get(owned[key]) or [Counters() for _ in spans]
        data.append(_object(key, per_bucket, spans, request))
    return data, missing
