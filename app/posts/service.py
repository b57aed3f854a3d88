"""Posts (statuses/tweets) and Twitter's attachment rules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NotRequired, TypedDict, Unpack

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from twitter_text import parse_tweet

from app.core import errors
from app.core.ids import IdGenerator
from app.media.lookup import load_audiences, visible_to
from app.media.views import MediaView, VariantView, media_view, variant_view
from app.media.visibility import may_attach
from app.models import Account, Media, MediaVariant, Post, PostMedia
from app.studio import library as studio_library
from app.uploads import queries
from app.uploads.protocol import MediaKind, UploadState

__all__ = [
    "AttachedMedia",
    "NewPost",
    "PostView",
    "check_text",
    "count_posts",
    "create_post",
    "delete_post",
    "get_posts",
    "load_attachable_media",
    "lookup_media",
    "store_post",
    "user_timeline",
]

MAX_PHOTOS = 4
DUPLICATE_WINDOW = timedelta(hours=24)
_POSTABLE_CATEGORIES = (
    None, "tweet_image", "tweet_gif", "tweet_video", "amplify_video", "live_video",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AttachedMedia:
    media: MediaView
    variants: list[VariantView]
    # From the author's studio library (app/studio/library.py ``media_titles``).
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PostView:
    id: int
    author_id: int
    author_screen_name: str
    text: str
    created_at: datetime
    possibly_sensitive: bool
    in_reply_to_status_id: int | None
    media: list[AttachedMedia]
    author_image_token: str | None = None
    author_banner_token: str | None = None
    author_statuses_count: int = 0
    nullcast: bool = False
    name: str | None = None
    card_uri: str | None = None


def check_text(text: str) -> None:
    """280 weighted characters, counted by twitter-text (URLs 23, CJK 2)."""
    if text and not parse_tweet(text).valid:
        raise errors.StatusTooLong()


async def load_attachable_media(
    session: AsyncSession, *, user_id: int, media_ids: list[int], now: datetime
) -> list[Media]:
    """The media in request order, each attachable by ``user_id`` (``may_attach``), or
    the rule it breaks. Someone else's media is refused exactly as an unknown id is."""
    if not media_ids:
        return []
    if len(set(media_ids)) != len(media_ids):
        raise errors.InvalidMediaIds()
    rows = await session.scalars(select(Media).where(Media.id.in_(media_ids)))
    found = {m.id: m for m in rows}
    audiences = await load_audiences(session, list(found))
    ordered = []
    for media_id in media_ids:
        media = found.get(media_id)
        if media is None or not may_attach(user_id, audiences[media_id]):
            raise errors.InvalidMediaIds()
        if media.removed_at is not None:  # deleted from a studio library
            raise errors.InvalidMediaIds(f"Invalid media id {media_id}: deleted.")
        if media.state is not UploadState.SUCCEEDED:
            raise errors.InvalidMediaIds(f"Invalid media id {media_id}: not ready.")
        if not media.is_used and media.expires_at <= now:
            raise errors.InvalidMediaIds(f"Invalid media id {media_id}: expired.")
        ordered.append(media)
    return ordered


def _check_mix(media: list[Media]) -> None:
    kinds = [m.kind for m in media]
    if any(m.kind is MediaKind.SUBTITLES or m.category not in _POSTABLE_CATEGORIES for m in media):
        raise errors.InvalidMediaIds("Media of this category cannot be attached to a post.")
    if len(media) > 1 and MediaKind.GIF in kinds:
        raise errors.GifNotAlone()
    if len(media) > 1 and MediaKind.VIDEO in kinds:
        raise errors.AttachmentTypesMixed()
    if len(media) > MAX_PHOTOS:
        raise errors.InvalidMediaIds("A post may carry at most 4 photos.")


async def _check_duplicate(
    session: AsyncSession, *, author_id: int, digest: str, now: datetime
) -> None:
    existing = await session.scalar(
        select(Post.id).where(
            Post.author_id == author_id,
            Post.text_sha256 == digest,
            Post.created_at > now - DUPLICATE_WINDOW,
        )
    )
    if existing is not None:
        raise errors.DuplicateStatus()


class NewPost(TypedDict):
    """What a post is made of (``create_post``'s and ``store_post``'s keywords)."""

    author_id: int
    text: str
    media_ids: list[int]
    possibly_sensitive: bool
    in_reply_to_status_id: int | None
    now: datetime
    nullcast: NotRequired[bool]
    name: NotRequired[str | None]
    card_uri: NotRequired[str | None]


async def create_post(
    session: AsyncSession, ids: IdGenerator, *, commit: bool = True, **post: Unpack[NewPost]
) -> PostView:
    """Check text and media, store the post, mark its media used (it no longer expires).
    ``nullcast`` posts ("Promoted-only", studio) stay off the author's timeline.
    ``commit=False`` leaves the transaction open."""
    post_id = await store_post(session, ids, **post)
    if commit:
        await session.commit()
    return (await get_posts(session, [post_id], now=post["now"]))[0]


async def store_post(session: AsyncSession, ids: IdGenerator, **post: Unpack[NewPost]) -> int:
    """``create_post`` without the commit and without reading the post back: its id,
    flushed in the caller's open transaction (the scheduler commits it with its claim;
    reading the view back was two thirds of a scheduled publish). A posting rule it
    breaks raises before anything is written."""
    author_id, text, media_ids, now = (
        post["author_id"], post["text"], post["media_ids"], post["now"]
    )  # fmt: skip
    if not text and not media_ids:
        raise errors.ParameterMissing("status")
    check_text(text)
    media = await load_attachable_media(session, user_id=author_id, media_ids=media_ids, now=now)
    _check_mix(media)
    digest = hashlib.sha256(f"{text}\0{sorted(media_ids)}".encode()).hexdigest()
    if text:
        await _check_duplicate(session, author_id=author_id, digest=digest, now=now)
    row = Post(
        id=ids.next_id(),
        author_id=author_id,
        text=text,
        text_sha256=digest,
        possibly_sensitive=post["possibly_sensitive"],
        in_reply_to_status_id=post["in_reply_to_status_id"],
        created_at=now,
        nullcast=post.get("nullcast", False),
        name=post.get("name"),
        card_uri=post.get("card_uri"),
    )
    session.add(row)
    await session.flush()
    for position, item in enumerate(media):
        session.add(PostMedia(post_id=row.id, position=position, media_id=item.id))
        queries.mark_used(item)
    # Posting adds to the library of each studio account the author owns.
    await studio_library.add_posted_media_in_transaction(
        session, ids, author_id=author_id, media=media, now=now
    )
    await session.flush()
    return row.id


async def count_posts(session: AsyncSession, author_ids: list[int]) -> dict[int, int]:
    """Each author's number of posts (``statuses_count``), 0 for one without any:
    counted from the posts table (indexed by author), so a destroyed post is uncounted
    at once."""
    counts = dict.fromkeys(author_ids, 0)
    if author_ids:
        rows = await session.execute(
            select(Post.author_id, func.count())
            .where(Post.author_id.in_(set(author_ids)))
            .group_by(Post.author_id)
        )
        counts.update((author, count) for author, count in rows.all())
    return counts


async def get_posts(session: AsyncSession, post_ids: list[int], *, now: datetime) -> list[PostView]:
    """Posts in request order; unknown ids are left out."""
    rows = await session.execute(
        select(Post, Account)
        .join(Account, Account.id == Post.author_id)
        .where(Post.id.in_(post_ids))
        .options(selectinload(Post.media))
    )
    found = {post.id: (post, author) for post, author in rows}
    media_ids = [pm.media_id for post, _ in found.values() for pm in post.media]
    media = {m.id: m for m in await session.scalars(select(Media).where(Media.id.in_(media_ids)))}
    variants = await _variants(session, media_ids)
    counts = await count_posts(session, [post.author_id for post, _ in found.values()])
    titles = await studio_library.media_titles(
        session, [(post.author_id, pm.media_id) for post, _ in found.values() for pm in post.media]
    )
    return [
        PostView(
            id=post.id,
            author_id=post.author_id,
            author_screen_name=author.screen_name,
            author_image_token=author.profile_image_token,
            author_banner_token=author.profile_banner_token,
            author_statuses_count=counts[post.author_id],
            text=post.text,
            created_at=post.created_at,
            possibly_sensitive=post.possibly_sensitive,
            in_reply_to_status_id=post.in_reply_to_status_id,
            nullcast=post.nullcast,
            name=post.name,
            card_uri=post.card_uri,
            media=[
                AttachedMedia(
                    media_view(media[pm.media_id], now=now),
                    variants[pm.media_id],
                    *titles.get((post.author_id, pm.media_id), (None, None)),
                )
                for pm in post.media
            ],
        )
        for post, author in (found[i] for i in post_ids if i in found)
    ]


async def delete_post(
    session: AsyncSession, *, user_id: int, post_id: int, now: datetime
) -> PostView:
    post = await session.get(Post, post_id)
    if post is None:
        raise errors.StatusNotFound()
    if post.author_id != user_id:
        raise errors.Forbidden("You may not delete another user's status.")
    view = (await get_posts(session, [post_id], now=now))[0]
    await session.execute(delete(Post).where(Post.id == post_id))  # the DB cascades
    await session.commit()
    return view


async def user_timeline(
    session: AsyncSession, *, user_id: int, count: int, max_id: int | None, now: datetime
) -> list[PostView]:
    query = select(Post.id).where(Post.author_id == user_id, Post.nullcast.is_(False))
    if max_id is not None:
        query = query.where(Post.id <= max_id)
    post_ids = list(await session.scalars(query.order_by(Post.id.desc()).limit(count)))
    return await get_posts(session, post_ids, now=now)


async def lookup_media(
    session: AsyncSession, media_keys: list[str], *, viewer_id: int | None, now: datetime
) -> list[AttachedMedia]:
    """Media by key that ``viewer_id`` may see (``app/media/visibility.py``, filtered in
    SQL), in request order. Unknown, unprocessed, subtitle and invisible keys are left
    out alike."""
    rows = await session.scalars(
        select(Media).where(
            Media.media_key.in_(media_keys),
            Media.state == UploadState.SUCCEEDED,
            Media.kind != MediaKind.SUBTITLES,  # a track is no media object of its own
            Media.delivery_token.is_not(None),
            visible_to(viewer_id),
        )
    )
    found = {m.media_key: m for m in rows}
    ids = [m.id for m in found.values()]
    variants = await _variants(session, ids)
    return [
        AttachedMedia(media_view(found[k], now=now), variants[found[k].id])
        for k in media_keys
        if k in found
    ]


async def _variants(session: AsyncSession, media_ids: list[int]) -> dict[int, list[VariantView]]:
    found: dict[int, list[VariantView]] = {i: [] for i in media_ids}
    rows = await session.scalars(
        select(MediaVariant).where(MediaVariant.media_id.in_(media_ids)).order_by(MediaVariant.id)
    )
    for row in rows:
        found[row.media_id].append(variant_view(row))
    return found
