"""The v1.1 wire JSON: users, statuses, media entities and DM events, built from the
views the domain services return (``PostView``, ``DmView``, ``MediaView``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.dms.service import DmView
from app.http import media_wire
from app.media.views import MediaView, VariantKind, VariantView
from app.posts.service import AttachedMedia, PostView
from app.processing.variants import PHOTO_SIZES, fit_within
from app.profiles import service as profiles
from app.schemas.media_objects import (
    AdditionalMediaInfoV11,
    MediaAvailabilityV11,
    MediaEntityV11,
    MediaSizesV11,
    MediaSizeV11,
    VideoInfoEntityV11,
    VideoVariantV11,
)
from app.uploads.protocol import MediaKind

__all__ = [
    "dm_event_v11",
    "media_object_v11",
    "status_v11",
    "twitter_date",
    "user_v11",
]


def twitter_date(moment: datetime) -> str:
    """Twitter's v1.1 format: ``Sat Jul 13 02:27:54 +0000 2019``."""
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _sizes(media: MediaView, variants: Sequence[VariantView]) -> MediaSizesV11:
    if media.kind is MediaKind.IMAGE:
        photos = {v.name: v for v in variants if v.kind is VariantKind.PHOTO}
        boxes = {size.name: size for size in PHOTO_SIZES}
        sizes = {
            name: MediaSizeV11(
                w=photos[name].width or 0, h=photos[name].height or 0, resize=boxes[name].resize
            )
            for name in ("thumb", "small", "medium", "large")
        }
    else:  # the preview image's sizes, as Twitter describes video thumbnails
        preview = media_wire.find_variant(variants, VariantKind.PREVIEW, "preview")
        width, height = preview.width or 1, preview.height or 1
        sizes = {}
        for size in PHOTO_SIZES:
            if size.name == "orig" or size.width is None or size.height is None:
                continue
            if size.resize == "crop":
                w, h = size.width, size.height
            else:
                w, h = fit_within(width, height, size.width, size.height)
            sizes[size.name] = MediaSizeV11(w=w, h=h, resize=size.resize)
    return MediaSizesV11(**sizes)


_AVAILABLE = MediaAvailabilityV11(status="Available")
_DELETED = MediaAvailabilityV11(status="Unavailable", reason="Deleted")


def media_object_v11(
    media: MediaView,
    variants: Sequence[VariantView],
    *,
    base_url: str,
    title: str | None = None,
    description: str | None = None,
) -> MediaEntityV11:
    """The ``extended_entities.media[]`` object of a succeeded photo, video or GIF;
    a video's or GIF's ``title``/``description`` in ``additional_media_info``. Media
    deleted from a studio library keeps its ids and type, without URLs, sizes or
    streams, and says ``ext_media_availability`` Unavailable (reason Deleted)."""
    type_name = media_wire.type_name(media)
    if media.removed:
        return MediaEntityV11(
            id=media.media_id,
            id_str=str(media.media_id),
            media_key=media.media_key,
            type=type_name,
            ext_media_availability=_DELETED,
        )
    url = media_wire.main_url(media, variants, base_url)
    video_info = None
    if media.kind is not MediaKind.IMAGE:
        video_info = VideoInfoEntityV11(
            aspect_ratio=media_wire.aspect(media, variants),
            duration_millis=media.duration_ms if media.kind is MediaKind.VIDEO else None,
            variants=[
                VideoVariantV11(bitrate=bitrate, content_type=content_type, url=u)
                for bitrate, content_type, u in media_wire.stream_variants(
                    media, variants, base_url
                )
            ],
        )
    return MediaEntityV11(
        id=media.media_id,
        id_str=str(media.media_id),
        media_key=media.media_key,
        media_url=url,
        media_url_https=url,
        type=type_name,
        sizes=_sizes(media, variants),
        video_info=video_info,
        additional_media_info=(
            AdditionalMediaInfoV11(title=title, description=description)
            if media.kind is not MediaKind.IMAGE and (title or description)
            else None
        ),
        ext_media_availability=_AVAILABLE,
    )


def user_v11(
    user_id: int,
    screen_name: str,
    *,
    base_url: str,
    profile_image_token: str | None = None,
    profile_banner_token: str | None = None,
    statuses_count: int = 0,
) -> dict[str, Any]:
    """A v1.1 user. The tokens are the account's stored ``<token>.<ext>`` values; without
    an image token the user has the default avatar, without a banner token no
    ``profile_banner_url`` (as on Twitter). ``statuses_count``: the user's posts."""
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
        "statuses_count": statuses_count,
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
        entity = media_object_v11(
            item.media,
            item.variants,
            base_url=base_url,
            title=item.title,
            description=item.description,
        ).model_dump(exclude_none=True)
        info = entity.get("additional_media_info")
        if info is not None:  # an unset title or description is null, not absent
            info.setdefault("title", None)
            info.setdefault("description", None)
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
            statuses_count=post.author_statuses_count,
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


def dm_event_v11(dm: DmView, *, base_url: str) -> dict[str, Any]:
    """A ``message_create`` event. Its media URLs lie below the DM's private prefix
    (``/1.1/ton/data/dm/<event id>``), served to the two participants only."""
    data: dict[str, Any] = {
        "text": dm.text,
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
    }
    if dm.media is not None:
        private = f"{base_url}/1.1/ton/data/dm/{dm.id}"
        entity = media_object_v11(dm.media.media, dm.media.variants, base_url=private)
        data["attachment"] = {"type": "media", "media": entity.model_dump(exclude_none=True)}
    return {
        "type": "message_create",
        "id": str(dm.id),
        "created_timestamp": str(int(dm.created_at.timestamp() * 1000)),
        "message_create": {
            "target": {"recipient_id": str(dm.recipient_id)},
            "sender_id": str(dm.sender_id),
            "message_data": data,
        },
    }
