"""The Ads API's stats (§11.1): which media an entity id stands for, and the metric
groups computed from the hourly rollups.

- ``ORGANIC_TWEET``: ids are posts of the account's promotable user (its owner); a post's
  numbers are the sum over its media ("video views are aggregated across every post that
  contains the video", §12.1).
- ``MEDIA_CREATIVE``: ids are media keys of the account's media library.
- ``ACCOUNT``: the id is the account's; its numbers are those of every library media and
  every media of its owner's posts.
- Campaign-type entities (``CAMPAIGN``, ``LINE_ITEM``, ``FUNDING_INSTRUMENT``,
  ``PROMOTED_TWEET``, ``PROMOTED_ACCOUNT``) are valid but this service has none: their
  ids, like ids of another account, are left out of ``data``.

A metric is an array of ``time_series_length`` integers, or ``null`` when it is zero in
every bucket or the service does not measure it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import query
from app.analytics.buckets import Granularity, buckets
from app.analytics.metrics import Counters
from app.analytics.report import account_media
from app.models import LibraryItem, Media, Post, PostMedia

__all__ = [
    "AVAILABLE_GROUPS",
    "ENTITIES",
    "GROUP_METRICS",
    "METRIC_GROUPS",
    "PLACEMENTS",
    "StatsAccount",
    "StatsRequest",
    "compute",
    "wire_time",
]

ENTITIES = (
    "ACCOUNT",
    "CAMPAIGN",
    "FUNDING_INSTRUMENT",
    "LINE_ITEM",
    "MEDIA_CREATIVE",
    "ORGANIC_TWEET",
    "PROMOTED_ACCOUNT",
    "PROMOTED_TWEET",
)
METRIC_GROUPS = (
    "BILLING",
    "ENGAGEMENT",
    "LIFE_TIME_VALUE_MOBILE_CONVERSION",
    "MEDIA",
    "MOBILE_CONVERSION",
    "VIDEO",
    "WEB_CONVERSION",
)
PLACEMENTS = (
    "ALL_ON_TWITTER",
    "PUBLISHER_NETWORK",
    "SPOTLIGHT",
    "TREND",
    "TWITTER_SEARCH",
    "TWITTER_TIMELINE",
)
_ALL = frozenset(METRIC_GROUPS)
AVAILABLE_GROUPS: dict[str, frozenset[str]] = {
    "ACCOUNT": frozenset({"ENGAGEMENT"}),
    "FUNDING_INSTRUMENT": frozenset({"ENGAGEMENT", "BILLING"}),
    "ORGANIC_TWEET": frozenset({"ENGAGEMENT", "VIDEO"}),
    "CAMPAIGN": _ALL,
    "LINE_ITEM": _ALL,
    "PROMOTED_TWEET": _ALL,
    "PROMOTED_ACCOUNT": _ALL,
    "MEDIA_CREATIVE": _ALL,
}
# Not reported at the account / funding-instrument level (§11.1).
_NOT_AT_ACCOUNT_LEVEL = frozenset(
    {"card_engagements", "clicks", "app_clicks", "url_clicks", "qualified_impressions",
     "carousel_swipes"}
)  # fmt: skip

Metric = Callable[[Counters], int] | None  # None: not measured by this service
GROUP_METRICS: dict[str, tuple[tuple[str, Metric], ...]] = {
    "VIDEO": (
        ("video_total_views", lambda c: c.total_views),
        ("video_views_25", lambda c: c.views_25),
        ("video_views_50", lambda c: c.views_50),
        ("video_views_75", lambda c: c.views_75),
        ("video_views_100", lambda c: c.views_100),
        ("video_cta_clicks", lambda c: c.cta_url_clicks + c.cta_watch_clicks),
        ("video_content_starts", lambda c: c.starts),
        ("video_3s100pct_views", lambda c: c.views_3s),
        ("video_6s_views", lambda c: c.views_6s),
        ("video_15s_views", lambda c: c.views_15s),
    ),
    "ENGAGEMENT": (
        ("impressions", lambda c: c.impressions),
        ("engagements", None),
        ("retweets", None),
        ("replies", None),
        ("likes", None),
        ("follows", None),
        ("card_engagements", None),
        ("clicks", None),
        ("app_clicks", None),
        ("url_clicks", lambda c: c.cta_url_clicks),
        ("qualified_impressions", None),
        ("carousel_swipes", None),
    ),
    "MEDIA": (("media_views", lambda c: c.total_views), ("media_engagements", None)),
    "BILLING": (("billed_engagements", None), ("billed_charge_local_micro", None)),
    "WEB_CONVERSION": (
        ("conversion_purchases", None),
        ("conversion_sign_ups", None),
        ("conversion_site_visits", None),
        ("conversion_downloads", None),
        ("conversion_custom", None),
    ),
    "MOBILE_CONVERSION": (
        ("mobile_conversion_installs", None),
        ("mobile_conversion_purchases", None),
        ("mobile_conversion_sign_ups", None),
    ),
    "LIFE_TIME_VALUE_MOBILE_CONVERSION": (
        ("mobile_conversion_lifetime_value_purchases", None),
        ("mobile_conversion_lifetime_value_sign_ups", None),
    ),
}


@dataclass(frozen=True, slots=True)
class StatsAccount:
    id: str
    timezone: str
    owner_id: int


@dataclass(frozen=True, slots=True)
class StatsRequest:
    entity: str
    entity_ids: tuple[str, ...]
    start_time: datetime
    end_time: datetime
    granularity: Granularity
    placement: str
    metric_groups: tuple[str, ...]
    segmentation_type: str | None = None
    country: str | None = None
    platform: str | None = None

    def params(self) -> dict[str, Any]:
        """The normalised parameters, as ``request.params`` echoes them."""
        return {
            "start_time": wire_time(self.start_time),
            "end_time": wire_time(self.end_time),
            "entity": self.entity,
            "entity_ids": list(self.entity_ids),
            "granularity": self.granularity.value,
            "placement": self.placement,
            "metric_groups": list(self.metric_groups),
            "segmentation_type": self.segmentation_type,
            "country": self.country,
            "platform": self.platform,
        }


def wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _entity_media(
    session: AsyncSession, account: StatsAccount, request: StatsRequest
) -> dict[str, list[int]]:
    """Entity id -> the ids of the media it stands for (only this account's ids)."""
    ids = list(dict.fromkeys(request.entity_ids))
    out: dict[str, list[int]] = {}
    if request.entity == "ORGANIC_TWEET":
        post_ids = [int(i) for i in ids if i.isdigit() and len(i) <= 19]
        if post_ids:
            rows = await session.execute(
                select(Post.id, PostMedia.media_id)
                .outerjoin(PostMedia, PostMedia.post_id == Post.id)
                .where(Post.id.in_(post_ids), Post.author_id == account.owner_id)
            )
            for post_id, media_id in rows:
                media = out.setdefault(str(post_id), [])
                if media_id is not None:
                    media.append(media_id)
    elif request.entity == "MEDIA_CREATIVE":
        library = await session.execute(
            select(Media.media_key, Media.id)
            .join(LibraryItem, LibraryItem.media_id == Media.id)
            .where(LibraryItem.account_id == account.id, Media.media_key.in_(ids))
        )
        for key, item_media_id in library:
            out[str(key)] = [int(item_media_id)]
    elif request.entity == "ACCOUNT" and account.id in ids:
        everything = await account_media(session, account_id=account.id, owner_id=account.owner_id)
        out[account.id] = list(everything.values())
    return {i: out[i] for i in ids if i in out}


def _metrics(entity: str, groups: Sequence[str], sums: list[Counters]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for group in groups:
        for name, measure in GROUP_METRICS[group]:
            if entity in ("ACCOUNT", "FUNDING_INSTRUMENT") and name in _NOT_AT_ACCOUNT_LEVEL:
                continue
            values = [measure(c) for c in sums] if measure is not None else None
            metrics[name] = values if values and any(values) else None
    return metrics


async def compute(
    session: AsyncSession, account: StatsAccount, request: StatsRequest
) -> dict[str, Any]:
    """The whole §11.1 answer (``data_type``, ``time_series_length``, ``data``,
    ``request``) for a request the HTTP layer checked."""
    spans = buckets(request.start_time, request.end_time, request.granularity, account.timezone)
    entities = await _entity_media(session, account, request)
    wanted = sorted({m for media in entities.values() for m in media})
    series = await query.series(session, wanted, spans)
    data = []
    for entity_id, media in entities.items():
        sums = [Counters() for _ in spans]
        for media_id in media:
            for slot, counters in zip(sums, series.get(media_id, ()), strict=False):
                slot.add(counters)
        data.append(
            {
                "id": entity_id,
                "id_data": [
                    {
                        "segment": None,
                        "metrics": _metrics(request.entity, request.metric_groups, sums),
                    }
                ],
            }
        )
    return {
        "data_type": "stats",
        "time_series_length": len(spans),
        "data": data,
        "request": {"params": request.params()},
    }
