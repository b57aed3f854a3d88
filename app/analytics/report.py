"""The studio's own analytics report (``GET /studio/v1/accounts/{id}/analytics``): the
seed dashboard's numbers for one media of an account, or the whole account, per hour,
per local day of the account's timezone, or in total, as JSON rows or CSV.

- The account's media: its library's media and the media of its owner's posts (the
  account posts as its owner, its promotable user). One ``media_key`` must be one of
  them; without one every such media adds up.
- Range: ``[start, end)`` widened to whole buckets (``hour``: UTC hours; ``day``: local
  midnights; ``total``: UTC hours). At most ``MAX_HOURLY_DAYS`` days per hour, else
  ``MAX_DAYS``.
- Columns (``COLUMNS``), per bucket and in total: ``starts``, ``views_25/50/75/100``,
  ``retention_rate_q`` = views_q / starts and ``completion_rate_q`` = views_q /
  total_views (4 places, ``None`` when the denominator is 0), ``minutes_viewed`` =
  watch_ms / 60,000 (2 places), ``watch_ms``, ``cta_url_clicks``, ``cta_watch_clicks``,
  ``total_views``, ``impressions``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import query
from app.analytics.buckets import Bucket, Granularity, buckets
from app.analytics.metrics import QUARTILES, Counters, rate
from app.models import LibraryItem, Media, Post, PostMedia
from app.uploads.protocol import MediaKind

__all__ = [
    "COLUMNS",
    "MAX_DAYS",
    "MAX_HOURLY_DAYS",
    "Report",
    "ReportRequest",
    "account_media",
    "align",
    "build_report",
    "local_time",
    "metrics_row",
    "to_csv",
]

MAX_HOURLY_DAYS = 31
MAX_DAYS = 366
COLUMNS: tuple[str, ...] = (
    "starts",
    *(f"views_{q}" for q in QUARTILES),
    *(f"retention_rate_{q}" for q in QUARTILES),
    *(f"completion_rate_{q}" for q in QUARTILES),
    "minutes_viewed",
    "watch_ms",
    "cta_url_clicks",
    "cta_watch_clicks",
    "total_views",
    "impressions",
)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    start: datetime  # aligned (``align``)
    end: datetime
    granularity: Granularity
    media_key: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    request: ReportRequest
    timezone: str
    media_count: int
    spans: list[Bucket]
    rows: list[dict[str, Any]]
    total: dict[str, Any]


def metrics_row(counters: Counters) -> dict[str, Any]:
    """One bucket's (or the total's) report columns, in ``COLUMNS`` order."""
    views = {q: getattr(counters, f"views_{q}") for q in QUARTILES}
    return {
        "starts": counters.starts,
        **{f"views_{q}": views[q] for q in QUARTILES},
        **{f"retention_rate_{q}": rate(views[q], counters.starts) for q in QUARTILES},
        **{f"completion_rate_{q}": rate(views[q], counters.total_views) for q in QUARTILES},
        "minutes_viewed": round(counters.watch_ms / 60_000, 2),
        "watch_ms": counters.watch_ms,
        "cta_url_clicks": counters.cta_url_clicks,
        "cta_watch_clicks": counters.cta_watch_clicks,
        "total_views": counters.total_views,
        "impressions": counters.impressions,
    }


def align(
    start: datetime, end: datetime, granularity: Granularity, timezone: str
) -> tuple[datetime, datetime]:
    """``[start, end)`` widened to whole UTC hours, or to local midnights for ``DAY``."""
    if granularity is Granularity.DAY:
        zone = ZoneInfo(timezone)
        low = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        high = end.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        if high < end:
            day = high.date() + timedelta(days=1)
            high = datetime(day.year, day.month, day.day, tzinfo=zone)
        low = datetime(low.year, low.month, low.day, tzinfo=zone)
        return low.astimezone(UTC), high.astimezone(UTC)
    hour = timedelta(hours=1)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return (
        epoch + (start.astimezone(UTC) - epoch) // hour * hour,
        epoch + -((epoch - end.astimezone(UTC)) // hour) * hour,
    )


async def account_media(session: AsyncSession, *, account_id: str, owner_id: int) -> dict[str, int]:
    """Media key -> id of every media of the account: its library's and its owner's posts'."""
    ids = union(
        select(LibraryItem.media_id.label("media_id")).where(LibraryItem.account_id == account_id),
        select(PostMedia.media_id.label("media_id"))
        .join(Post, Post.id == PostMedia.post_id)
        .where(Post.author_id == owner_id),
    ).subquery()
    rows = await session.execute(
        select(Media.media_key, Media.id)
        .join(ids, ids.c.media_id == Media.id)
        .where(Media.kind != MediaKind.SUBTITLES)
    )
    return {row[0]: row[1] for row in rows}


async def build_report(
    session: AsyncSession, request: ReportRequest, *, media_ids: Sequence[int], timezone: str
) -> Report:
    """The report over ``media_ids`` (one media, or all of the account's)."""
    spans = buckets(request.start, request.end, request.granularity, timezone)
    per_media = await query.series(session, list(media_ids), spans)
    sums = [Counters() for _ in spans]
    for series in per_media.values():
        for slot, counters in zip(sums, series, strict=True):
            slot.add(counters)
    return Report(
        request=request,
        timezone=timezone,
        media_count=len(media_ids),
        spans=spans,
        rows=[metrics_row(c) for c in sums],
        total=metrics_row(Counters.total(sums)),
    )


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).isoformat()


def to_csv(report: Report) -> str:
    """A header row (``start``, ``end``, then ``COLUMNS``), one row per bucket; an empty
    cell where a rate is undefined."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["start", "end", *COLUMNS])
    for span, row in zip(report.spans, report.rows, strict=True):
        cells = ["" if row[c] is None else row[c] for c in COLUMNS]
        writer.writerow(
            [local_time(span.start, report.timezone), local_time(span.end, report.timezone), *cells]
        )
    return out.getvalue()
