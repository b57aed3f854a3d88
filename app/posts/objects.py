"""The wire shapes of a post: the v1.1 status object and the v2 tweet object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.media.objects import media_object_v2, media_object_v11
from app.posts.service import AttachedMedia, PostView
from app.profiles import service as profiles

__all__ = ["status_v11", "tweet_v2", "twitter_date", "user_v11"]


def twitter_date(moment: datetime) -> str:
    """Twitter's v1.1 format: ``Sat Jul 13 02:27:54 +0000 2019``."""
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def user_v11(
    user_id: int,
    screen_name: str,
    *,
    base_url: str,
    profile_image_token: str | None = None,
    profile_banner_token: str | None = None,
) -> dict[str, Any]:
    """A v1.1 user. The tokens are the account's stored ``<token>.<ext>`` values; without
    an image token the user has the default avatar, without a banner token no
    ``profile_banner_url`` (as on Twitter)."""
    if profile_image_token is None:
        image = f"{base_url}/profile_images/default_normal.png"
    else:
        image = profiles.image_url(base_url, user_id, profile_image_token, "_normal")
    user: dict[str, Any] = {
        "id": user_id,
        "id_str": str(user_id),
        "name": screen_name,
        "screen_name": screen_name,
        "protected": False,
        "verified": False,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
        "url": None,
        "description": "",
        "profile_image_url": image,
        "profile_image_url_https": image,
        "default_profile_image": profile_image_token is None,
    }
    if profile_banner_token is not None:
        user["profile_banner_url"] = profiles.banner_url(base_url, user_id, profile_banner_token)
    return user


def _media_entities(
    post: PostView, items: list[AttachedMedia], *, base_url: str, link: str, start: int,
    alt_text: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    entities = []
    for position, item in enumerate(items, start=1):
        entity = media_object_v11(item.media, item.variants, base_url=base_url).model_dump(
            exclude_none=True
        )
        kind = "video" if entity["type"] == "video" else "photo"
        entity.update(
            indices=[start, start + len(link)],
            url=link,
            display_url=link.split("://", 1)[-1],
            expanded_url=f"{base_url}/{post.author_screen_name}/status/{post.id}/{kind}/{position}",
        )
        if alt_text:
            entity["ext_alt_text"] = item.media.alt_text
        entities.append(entity)
    return entities


def status_v11(
    post: PostView, *, base_url: str, include_ext_alt_text: bool = False
) -> dict[str, Any]:
    """A v1.1 status: media in ``extended_entities`` (all, real types) and ``entities``
    (the first, always typed photo), its link appended to the text as Twitter does."""
    text = post.text
    entities: dict[str, Any] = {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}
    status: dict[str, Any] = {}
    if post.media:
        link = f"{base_url}/i/status/{post.id}"
        start = len(text) + 1 if text else 0
        text = f"{text} {link}" if text else link
        media = _media_entities(
            post, post.media, base_url=base_url, link=link, start=start,
            alt_text=include_ext_alt_text,
        )  # fmt: skip
        entities["media"] = [{**media[0], "type": "photo"}]
        status["extended_entities"] = {"media": media}
        status["possibly_sensitive"] = post.possibly_sensitive
    reply = post.in_reply_to_status_id
    return {
        "created_at": twitter_date(post.created_at),
        "id": post.id,
        "id_str": str(post.id),
        "text": text,
        "truncated": False,
        "entities": entities,
        **status,
        "source": "Media Studio API",
        "in_reply_to_status_id": reply,
        "in_reply_to_status_id_str": str(reply) if reply else None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": user_v11(
            post.author_id,
            post.author_screen_name,
            base_url=base_url,
            profile_image_token=post.author_image_token,
            profile_banner_token=post.author_banner_token,
        ),
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "retweet_count": 0,
        "favorite_count": 0,
        "favorited": False,
        "retweeted": False,
        "lang": "und",
    }


def tweet_v2(post: PostView, *, with_attachments: bool = False) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": str(post.id),
        "text": post.text,
        "edit_history_tweet_ids": [str(post.id)],
    }
    if post.media and with_attachments:
        tweet["attachments"] = {"media_keys": [item.media.media_key for item in post.media]}
    return tweet


def media_v2(item: AttachedMedia, *, base_url: str, fields: set[str]) -> dict[str, Any]:
    """A v2 media object with the default fields plus the requested ``media.fields``."""
    full = media_object_v2(item.media, item.variants, base_url=base_url).model_dump(
        exclude_none=True
    )
    if item.media.alt_text:
        full["alt_text"] = item.media.alt_text
    keep = {"media_key", "type"} | fields
    return {k: v for k, v in full.items() if k in keep}
