"""The v2 wire JSON: tweets, media objects and the answer to a sent DM, built from the
views the domain services return (``PostView``, ``DmView``, ``MediaView``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.analytics.media_metrics import MediaMetrics
from app.dms.service import DmView
from app.http import media_wire
from app.media.views import MediaView, VariantView
from app.posts.service import AttachedMedia, PostView
from app.schemas.media_objects import MediaV2, VideoVariantV2
from app.uploads.protocol import MediaKind

__all__ = ["dm_sent_v2", "media_object_v2", "media_v2", "not_found_v2", "tweet_v2"]


def media_object_v2(media: MediaView, variants: Sequence[VariantView], *, base_url: str) -> MediaV2:
    """The v2 ``includes.media[]`` object, with every field of ``media.fields`` we know.
    Media deleted from a studio library keeps only ``media_key`` and ``type`` (the v2
    object has no availability field: no url, preview, size or variants is the sign)."""
    type_name = media_wire.type_name(media)
    if media.removed:
        return MediaV2(media_key=media.media_key, type=type_name)
    url = media_wire.main_url(media, variants, base_url)
    if media.kind is MediaKind.IMAGE:
        return MediaV2(
            media_key=media.media_key,
            type=type_name,
            url=url,
            width=media.width,
            height=media.height,
        )
    return MediaV2(
        media_key=media.media_key,
        type=type_name,
        preview_image_url=url,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms if media.kind is MediaKind.VIDEO else None,
        variants=[
            VideoVariantV2(bit_rate=bitrate, content_type=content_type, url=u)
            for bitrate, content_type, u in media_wire.stream_variants(media, variants, base_url)
        ],
    )


def tweet_v2(post: PostView, *, with_attachments: bool = False) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": str(post.id),
        "text": post.text,
        "edit_history_tweet_ids": [str(post.id)],
    }
    if post.media and with_attachments:
        tweet["attachments"] = {"media_keys": [item.media.media_key for item in post.media]}
    return tweet


def media_v2(
    item: AttachedMedia,
    *,
    base_url: str,
    fields: set[str],
    metrics: MediaMetrics | None = None,
) -> dict[str, Any]:
    """A v2 media object with the default fields plus the requested ``media.fields``;
    ``metrics``: the metric fields this caller gets (``app/analytics/media_metrics.py``)."""
    full = media_object_v2(item.media, item.variants, base_url=base_url).model_dump(
        exclude_none=True
    )
    if item.media.alt_text:
        full["alt_text"] = item.media.alt_text
    if metrics is not None:
        full.update(metrics.fields())
    keep = {"media_key", "type"} | fields
    return {k: v for k, v in full.items() if k in keep}


def dm_sent_v2(dm: DmView) -> dict[str, Any]:
    """The answer to ``POST /2/dm_conversations/with/:id/messages``."""
    return {"data": {"dm_conversation_id": dm.conversation_id, "dm_event_id": str(dm.id)}}


def not_found_v2(
    values: Sequence[str], *, resource_type: str, parameter: str
) -> list[dict[str, Any]]:
    """The partial errors of a list lookup (HTTP 200) for the values not found, or not
    visible to the caller: the two look the same, as on Twitter."""
    return [
        {
            "value": value,
            "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
            "title": "Not Found Error",
            "resource_type": resource_type,
            "parameter": parameter,
            "resource_id": value,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
        for value in values
    ]
