"""The v2 media metrics of media objects (``media.fields``, §12.1): ``public_metrics``
for every caller, ``non_public_metrics`` and ``organic_metrics`` for the media's owner
while the media is fresh.

- Only videos and animated GIFs carry metrics (a view is a playback view); photos and
  media removed from a library get none of the three fields.
- ``public_metrics.view_count`` = lifetime ``total_views`` (views reaching 2 s of
  playback), summed over every post carrying the media (Twitter aggregates them too).
- ``non_public_metrics`` = ``playback_0/25/50/75/100_count`` (starts, views at each
  quartile); ``organic_metrics`` = the same plus ``view_count`` (no promoted posts here,
  so organic = public).
- Private metrics go to the media's owner (the uploader) only, and only while the
  newest of the owner's posts carrying it was created in the last ``PRIVATE_DAYS`` days
  (a media never posted counts from its upload). Anyone else gets neither field, without
  an error, as Twitter leaves fields out the caller may not see.

One query reads the lifetime totals of every media of an answer
(``app/analytics/query.totals``), one more the owners and post times when private
fields were asked for; never a query per media.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import query
from app.analytics.metrics import Counters
from app.media.views import MediaView
from app.models import Media, Post, PostMedia
from app.uploads.protocol import MediaKind

__all__ = ["PRIVATE_DAYS", "PRIVATE_FIELDS", "PUBLIC_FIELD", "MediaMetrics", "media_metrics"]

PRIVATE_DAYS = 30
PUBLIC_FIELD = "public_metrics"
PRIVATE_FIELDS = frozenset({"non_public_metrics", "organic_metrics"})
_PLAYED = (MediaKind.VIDEO, MediaKind.GIF)


@dataclass(frozen=True, slots=True)
class MediaMetrics:
    """The metric fields of one media object, each None when the caller gets none."""

    public_metrics: dict[str, int] | None = None
    non_public_metrics: dict[str, int] | None = None
    organic_metrics: dict[str, int] | None = None

    def fields(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in (
                ("public_metrics", self.public_metrics),
                ("non_public_metrics", self.non_public_metrics),
                ("organic_metrics", self.organic_metrics),
            )
            if value is not None
        }


def _playback(counters: Counters) -> dict[str, int]:
    return {
        "playback_0_count": counters.starts,
        "playback_25_count": counters.views_25,
        "playback_50_count": counters.views_50,
        "playback_75_count": counters.views_75,
        "playback_100_count": counters.views_100,
    }


async def _fresh_owned(
    session: AsyncSession, media_ids: Sequence[int], *, viewer_id: int, now: datetime
) -> set[int]:
    """The media of ``media_ids`` that ``viewer_id`` owns whose newest own post (or, never
    posted, whose upload) is younger than ``PRIVATE_DAYS``."""
    newest_post = func.max(Post.created_at)
    rows = await session.execute(
        select(Media.id, Media.created_at, newest_post)
        .outerjoin(PostMedia, PostMedia.media_id == Media.id)
        .outerjoin(Post, and_(Post.id == PostMedia.post_id, Post.author_id == Media.owner_id))
        .where(Media.id.in_(list(media_ids)), Media.owner_id == viewer_id)
        .group_by(Media.id, Media.created_at)
    )
    since = now - timedelta(days=PRIVATE_DAYS)
    return {media_id for media_id, uploaded, posted in rows if (posted or uploaded) > since}


async def media_metrics(
    session: AsyncSession,
    media: Sequence[MediaView],
    *,
    fields: set[str],
    viewer_id: int,
    now: datetime,
) -> dict[int, MediaMetrics]:
    """Per media id, the metric fields of ``fields`` the viewer gets (media without any
    are left out); no query at all when ``fields`` names no metric."""
    public = PUBLIC_FIELD in fields
    private = fields & PRIVATE_FIELDS
    ids = list(dict.fromkeys(m.media_id for m in media if m.kind in _PLAYED and not m.removed))
    if not ids or not (public or private):
        return {}
    counted = await query.totals(session, ids)
    owned = await _fresh_owned(session, ids, viewer_id=viewer_id, now=now) if private else set()
    out = {}
    for media_id in ids:
        counters = counted.get(media_id, Counters())
        views = {"view_count": counters.total_views}
        mine = media_id in owned
        out[media_id] = MediaMetrics(
            public_metrics=views if public else None,
            non_public_metrics=_playback(counters)
            if mine and "non_public_metrics" in fields
            else None,
            organic_metrics={**_playback(counters), **views}
            if mine and "organic_metrics" in fields
            else None,
        )
    return out
