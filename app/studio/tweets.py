"""Posting now for an account (Ads API §10.3), its posts of each type as post-like
views (§10.2), and previews (§10.1): signed, expiring tokens that name one draft,
scheduled or published post, rendered by the HTML preview page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors as core_errors
from app.core.ids import IdGenerator
from app.models import Account, DraftTweet, Media, Post, ScheduledTweet, StudioAccount
from app.posts import service as posts
from app.posts.service import PostView
from app.studio import errors, library, rules
from app.studio.access import AccountView
from app.studio.drafts import (
    MODELS,
    Fields,
    PlannedView,
    Selection,
    check_content,
    page_of,
    planned_view,
    selected,
)
from app.uploads.protocol import MediaKind

__all__ = [
    "TIMELINES",
    "TWEET_TYPES",
    "DuplicateTweet",
    "PreviewView",
    "existing_ids",
    "list_published",
    "load_preview",
    "post_like",
    "post_now",
    "preview_token",
    "screen_name_of",
]

TWEET_TYPES = ("DRAFT", "PUBLISHED", "SCHEDULED")
TIMELINES = ("ALL", "NULLCAST", "ORGANIC")
_KEY = re.compile(r"\d{1,20}_\d{1,20}|\d{1,20}")


async def _media_ids(session: AsyncSession, keys: list[str]) -> list[int]:
    """Media keys (or numeric ids) to ids; ``create_post`` then checks each is the
    author's to attach. Media deleted from a library is refused."""
    if len(keys) > rules.MAX_IMAGES:
        rules.check_media_mix(["IMAGE"] * len(keys))
    for key in keys:
        if not _KEY.fullmatch(key):
            raise errors.InvalidMedia(f"Invalid media key: {key}", parameter="media_keys")
    ids = [int(k) for k in keys if k.isdigit() and int(k) < 2**63]
    rows = (
        await session.execute(
            select(Media.id, Media.media_key, Media.removed_at).where(
                or_(Media.media_key.in_(keys), Media.id.in_(ids))
            )
        )
    ).all()
    found = {r.media_key: r for r in rows} | {str(r.id): r for r in rows}
    out = []
    for key in keys:
        row = found.get(key)
        if row is None or row.removed_at is not None:
            raise errors.InvalidMedia(f"Invalid media key: {key}", parameter="media_keys")
        out.append(row.id)
    return out


async def post_now(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    account: AccountView,
    fields: Fields,
    video: Mapping[str, str],
    now: datetime,
) -> PostView:
    """A post by the FULL user now, nullcast unless ``nullcast`` is false. Its media
    may be any the user can attach (library or not); the posting rules are the posts'.
    Posting puts the media in the library; ``video`` (``title``, ``description``) is set
    on the account's item of a video or GIF, in the post's transaction."""
    keys = fields.get("media_keys", [])
    text = fields.get("text", "")
    check_content(text, keys)
    try:
        post = await posts.create_post(
            session,
            ids,
            author_id=account.owner_id,
            text=text,
            media_ids=await _media_ids(session, keys),
            possibly_sensitive=False,
            in_reply_to_status_id=None,
            now=now,
            nullcast=fields.get("nullcast", True),
            name=fields.get("name"),
            card_uri=fields.get("card_uri"),
            commit=False,
        )
    except core_errors.DuplicateStatus:
        raise DuplicateTweet() from None
    except (
        core_errors.InvalidMediaIds,
        core_errors.GifNotAlone,
        core_errors.AttachmentTypesMixed,
    ) as error:  # the posting rules' v1.1 answers (403 for some), as the Ads API's 400
        raise errors.InvalidMedia(error.detail, parameter="media_keys") from None
    videos = [m.media.media_key for m in post.media if m.media.kind is not MediaKind.IMAGE]
    if video and videos:
        await library.update_item(
            session,
            account=account,
            user_id=account.owner_id,
            media_key=videos[0],
            changes=video,
            now=now,
        )  # commits the post with it
    else:
        await session.commit()
    return (await posts.get_posts(session, [post.id], now=now))[0]


async def list_published(
    session: AsyncSession, *, author_id: int, selection: Selection, now: datetime
) -> tuple[list[PostView], str | None]:
    query = select(Post.id).where(Post.author_id == author_id)
    if selection.timeline != "ALL":
        query = query.where(Post.nullcast.is_(selection.timeline == "NULLCAST"))
    if not selection.with_replies:
        query = query.where(Post.in_reply_to_status_id.is_(None))
    found = list(await session.scalars(selected(query, Post.id, Post.name, selection)))
    page, after = page_of([_Id(i) for i in found], selection.count)
    return await posts.get_posts(session, [p.id for p in page], now=now), after


class DuplicateTweet(errors.StudioError):
    """The FULL user posted this text within the duplicate window."""

    ads_code = "DUPLICATE_TWEET"

    def __init__(self) -> None:
        super().__init__("Status is a duplicate", parameter="text")


@dataclass(frozen=True, slots=True)
class _Id:
    id: int


async def post_like(
    session: AsyncSession, planned: list[PlannedView], *, now: datetime
) -> list[PostView]:
    """Drafts and scheduled posts as the post they would make (their id, their author
    the FULL user, their library media that can still be shown)."""
    authors = {
        a.id: a
        for a in await session.scalars(
            select(Account).where(Account.id.in_({p.user_id for p in planned}))
        )
    }
    keys = sorted({k for p in planned for k in p.media_keys})
    removed = set(
        await session.scalars(
            select(Media.media_key).where(Media.media_key.in_(keys), Media.removed_at.is_not(None))
        )
    )
    views = []
    for item in planned:
        author = authors[item.user_id]
        shown = [k for k in item.media_keys if k not in removed]
        media = await posts.lookup_media(session, shown, viewer_id=author.id, now=now)
        views.append(
            PostView(
                id=item.id,
                author_id=author.id,
                author_screen_name=author.screen_name,
                author_image_token=author.profile_image_token,
                author_banner_token=author.profile_banner_token,
                text=item.text,
                created_at=item.created_at,
                possibly_sensitive=False,
                in_reply_to_status_id=None,
                media=media,
                nullcast=item.nullcast,
                name=item.name,
                card_uri=item.card_uri,
            )
        )
    return views


async def existing_ids(
    session: AsyncSession, *, account: AccountView, kind: str, ids: list[int]
) -> set[int]:
    """Which ``ids`` are the account's posts of ``kind`` (PUBLISHED: the FULL user's)."""
    if kind == "PUBLISHED":
        query = select(Post.id).where(Post.id.in_(ids), Post.author_id == account.owner_id)
    else:
        model = MODELS[kind]
        query = select(model.id).where(model.id.in_(ids), model.account_id == account.id)
    return set(await session.scalars(query))


def _sign(salt: str, payload: str) -> str:
    return hmac.new(salt.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def preview_token(account: AccountView, kind: str, item_id: int, *, expires: datetime) -> str:
    """``<base64url payload>.<HMAC>``, keyed with the account's salt: the preview page
    needs no credentials (an iframe sends none), and a token shows one post only."""
    payload = f"{account.id}:{kind}:{item_id}:{int(expires.timestamp())}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_sign(account.salt, payload)}"


@dataclass(frozen=True, slots=True)
class PreviewView:
    kind: str
    post: PostView
    scheduled_at: datetime | None


def _decode(token: str) -> tuple[str, str, str, int, int] | None:
    encoded = token.partition(".")[0]
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        account_id, kind, item, expires = payload.split(":")
        if not 0 < int(item) < 2**63 or len(account_id) > 16:
            return None
        return payload, account_id, kind, int(item), int(expires)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None


async def load_preview(session: AsyncSession, token: str, *, now: datetime) -> PreviewView | None:
    """The post a valid, unexpired token names, as it is now; None otherwise."""
    decoded = _decode(token)
    if decoded is None:
        return None
    payload, account_id, kind, item_id, expires = decoded
    signature = token.partition(".")[2]
    account = await session.get(StudioAccount, account_id)
    if account is None or account.deleted or kind not in TWEET_TYPES:
        return None
    if not hmac.compare_digest(signature, _sign(account.salt, payload)):
        return None
    if datetime.fromtimestamp(expires, UTC) <= now:
        return None
    if kind == "PUBLISHED":
        found = await posts.get_posts(session, [item_id], now=now)
        if not found or found[0].author_id != account.owner_id:
            return None
        return PreviewView(kind, found[0], None)
    model = MODELS[kind]
    row = await session.scalar(
        select(model).where(model.id == item_id, model.account_id == account_id)
    )
    if not isinstance(row, DraftTweet | ScheduledTweet):
        return None
    view = planned_view(row)
    return PreviewView(kind, (await post_like(session, [view], now=now))[0], view.scheduled_at)


async def screen_name_of(session: AsyncSession, user_id: int) -> str:
    return (await session.scalar(select(Account.screen_name).where(Account.id == user_id))) or ""
