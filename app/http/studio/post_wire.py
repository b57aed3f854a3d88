"""The Ads wire of drafts (§9), scheduled posts (§8.1), post-like items of ``tweets``
(§10.2), preview iframes (§10.1) and the HTML preview page they point at."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from app.http import media_wire
from app.http.v11.presenters import status_v11
from app.posts.service import PostView
from app.studio.drafts import PlannedView
from app.studio.tweets import PreviewView
from app.uploads.protocol import MediaKind

__all__ = [
    "ads_time",
    "planned_object",
    "preview_iframe",
    "preview_page",
    "tweet_object",
]


def ads_time(moment: datetime | None) -> str | None:
    """UTC with ``Z`` (§1 "Times")."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def planned_object(item: PlannedView) -> dict[str, Any]:
    """A draft (§9) or a scheduled post (§8.1); a FAILED one adds ``failure_reason``
    (this service's extension)."""
    body: dict[str, Any] = {
        "id": str(item.id),
        "name": item.name,
        "text": item.text,
        "user_id": str(item.user_id),
        "nullcast": item.nullcast,
        "card_uri": item.card_uri,
        "media_keys": list(item.media_keys),
        "created_at": ads_time(item.created_at),
        "updated_at": ads_time(item.updated_at),
    }
    if item.kind == "SCHEDULED":
        body.update(
            scheduled_at=ads_time(item.scheduled_at),
            scheduled_status=item.status,
            completed_at=ads_time(item.completed_at),
            tweet_id=None if item.tweet_id is None else str(item.tweet_id),
        )
        if item.status == "FAILED":
            body["failure_reason"] = item.failure_reason
    return body


def tweet_object(
    post: PostView,
    *,
    base_url: str,
    tweet_type: str,
    scheduled_at: datetime | None = None,
    trim_user: bool = False,
) -> dict[str, Any]:
    """A v1.1 status plus the Ads fields ``tweet_id``, ``tweet_type``, ``nullcast``,
    ``scheduled_at``, ``name`` (and ``card_uri``)."""
    body = status_v11(post, base_url=base_url)
    if trim_user:
        body["user"] = {"id": post.author_id, "id_str": str(post.author_id)}
    body.update(
        tweet_id=str(post.id),
        tweet_type=tweet_type,
        nullcast=post.nullcast,
        scheduled_at=ads_time(scheduled_at),
        name=post.name,
        card_uri=post.card_uri,
    )
    return body


def preview_iframe(url: str) -> str:
    return f"<iframe class='tweet-preview' src='{escape(url, quote=True)}'></iframe>"


def _thumbnails(post: PostView, base_url: str) -> str:
    out = []
    for item in post.media:
        try:
            url = media_wire.main_url(item.media, item.variants, base_url)
        except (AssertionError, ValueError):  # no deliverable variants any more
            continue
        if item.media.kind is MediaKind.IMAGE:
            url += "?name=thumb"
        label = "video" if item.media.kind is not MediaKind.IMAGE else "photo"
        alt = item.media.alt_text or label
        out.append(
            f'<img class="media {label}" src="{escape(url, quote=True)}" '
            f'alt="{escape(alt, quote=True)}">'
        )
    return "".join(out)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;padding:12px;color:#0f1419}"
    ".card{border:1px solid #cfd9de;border-radius:16px;padding:12px;max-width:560px}"
    ".author{font-weight:700}.meta{color:#536471;font-size:13px}"
    ".text{white-space:pre-wrap;margin:8px 0}.media{max-width:48%;border-radius:12px;margin:2px}"
)


def preview_page(preview: PreviewView, *, base_url: str) -> str:
    """A whole HTML page; every value from users is escaped."""
    post = preview.post
    when = preview.scheduled_at if preview.kind == "SCHEDULED" else post.created_at
    label = {"DRAFT": "Draft", "SCHEDULED": "Scheduled for", "PUBLISHED": "Posted"}[preview.kind]
    stamp = "" if preview.kind == "DRAFT" else f" {ads_time(when)}"
    name = f" · {escape(post.name)}" if post.name else ""
    promoted = " · Promoted-only" if post.nullcast else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Tweet preview</title><style>{_STYLE}</style></head><body>"
        "<div class='card'>"
        f"<div class='author'>@{escape(post.author_screen_name)}</div>"
        f"<div class='meta'>{label}{stamp}{name}{promoted}</div>"
        f"<div class='text'>{escape(post.text)}</div>"
        f"<div class='media-list'>{_thumbnails(post, base_url)}</div>"
        "</div></body></html>"
    )
