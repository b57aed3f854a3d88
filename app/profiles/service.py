"""Profile images and banners (spec §7.3): update, remove, look up, deliver.

Twitter processes these asynchronously (the new URL appears seconds later); we process
synchronously, before answering, because the work is small (one still image, a
dozen small outputs) and it runs in a thread off the event loop.

Storage, at the keys ``app.storage.keys.profile`` makes::

    profile-<id>/variants/images/<token>/avatar.<ext>  avatar_normal.<ext>  ...
    profile-<id>/variants/banners/<token>/1500x500.<ext>  600x200.<ext>  ...

``Account.profile_image_token`` / ``profile_banner_token`` hold ``<token>.<ext>``:
the random token that names the directory (and appears in the URL, so a new upload gets
new, immutable URLs) plus the extension the outputs were written with.

An update builds the files in a scratch folder and publishes them under a new token's
prefix first, then commits the new token, then deletes the previous token's prefix. A
failure before the commit deletes the new prefix and leaves the previous image in
place; leftovers of a crash are deleted by the next update of the same kind once they
are an hour old.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.core.clock import utcnow
from app.media.delivery import DeliveredFile, delivered_object
from app.models import Account, Post
from app.processing import profile
from app.processing.errors import InvalidMedia, UnsupportedMedia
from app.storage import ObjectStore, keys
from app.storage.keys import ProfileKind

__all__ = [
    "MAX_BANNER_BYTES",
    "MAX_IMAGE_BYTES",
    "CropBox",
    "ProfileView",
    "banner_url",
    "decode_image",
    "default_avatar",
    "find_banner",
    "find_image",
    "get_profile",
    "image_url",
    "remove_banner",
    "update_banner",
    "update_image",
]

CropBox = profile.CropBox
MAX_IMAGE_BYTES = 700 * 1024  # spec §7.3: "< 700 KB"
MAX_BANNER_BYTES = 5 * 1024 * 1024  # undocumented by Twitter; its help pages say 5 MB
_STALE = timedelta(hours=1)
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
_Kind = ProfileKind


@dataclass(frozen=True, slots=True)
class ProfileView:
    id: int
    screen_name: str
    image_token: str | None  # "<token>.<ext>" as stored
    banner_token: str | None
    statuses_count: int = 0


async def _counted(session: AsyncSession, view: ProfileView) -> ProfileView:
    """The view with its ``statuses_count``: the account's posts, counted now."""
    count = await session.scalar(
        select(func.count()).select_from(Post).where(Post.author_id == view.id)
    )
    return replace(view, statuses_count=count or 0)


def _view(account: Account) -> ProfileView:
    return ProfileView(
        id=account.id,
        screen_name=account.screen_name,
        image_token=account.profile_image_token,
        banner_token=account.profile_banner_token,
    )


def image_url(base_url: str, account_id: int, stored: str, suffix: str = "") -> str:
    """``<base>/profile_images/<account_id>/<token>/avatar<suffix>.<ext>``; ``suffix``
    is ``_normal``, ``_bigger``, ``_mini`` or empty for the original."""
    token, _, ext = stored.partition(".")
    return f"{base_url}/profile_images/{account_id}/{token}/{profile.AVATAR_NAME}{suffix}.{ext}"


def banner_url(base_url: str, account_id: int, stored: str) -> str:
    """``<base>/profile_banners/<account_id>/<token>``; append ``/<size>`` for a size."""
    return f"{base_url}/profile_banners/{account_id}/{stored.partition('.')[0]}"


def default_avatar() -> bytes:
    """``/profile_images/default_normal.png``, a PNG of a few hundred bytes."""
    return profile.default_avatar_png()


def decode_image(value: str | bytes, *, limit: int, too_large: errors.ApiError) -> bytes:
    """The image bytes of a parameter: base64 text, or raw bytes (a multipart file part)
    when they start like a JPEG, PNG or GIF. Raises ``too_large`` past ``limit`` bytes."""
    if isinstance(value, str) and value[:8].encode("latin-1", "replace").startswith(_MAGIC):
        value = value.encode("latin-1", "replace")  # a raw multipart field, read as text
    if isinstance(value, bytes) and value.startswith(_MAGIC):
        data = value
    else:
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        # A '+' sent unescaped in a urlencoded body arrives as a space.
        text = "".join(text.replace(" ", "+").split())
        if len(text) > (limit + 2) // 3 * 4 + 4:
            raise too_large
        try:  # the URL-safe alphabet is accepted too
            data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        except (binascii.Error, ValueError):
            raise errors.ImageUnreadable() from None
    if not data:
        raise errors.ImageUnreadable()
    if len(data) > limit:
        raise too_large
    return data


async def _current_token(session: AsyncSession, account_id: int, kind: _Kind) -> str | None:
    account = await session.get(Account, account_id)
    if account is None:
        raise errors.MediaNotFound()
    return account.profile_image_token if kind == "images" else account.profile_banner_token


async def _account(session: AsyncSession, account_id: int, *, lock: bool = False) -> Account:
    query = select(Account).where(Account.id == account_id)
    account = await session.scalar(query.with_for_update() if lock else query)
    if account is None:
        raise errors.UserNotFound()
    return account


async def get_profile(
    session: AsyncSession, *, user_id: int | None = None, screen_name: str | None = None
) -> ProfileView:
    """An account by id or (case-insensitively) by screen name, its posts counted."""
    if user_id is not None:
        return await _counted(session, _view(await _account(session, user_id)))
    name = (screen_name or "").lstrip("@").lower()
    found = await session.scalar(select(Account).where(func.lower(Account.screen_name) == name))
    if found is None:
        raise errors.UserNotFound()
    return await _counted(session, _view(found))


async def update_image(
    session: AsyncSession, store: ObjectStore, *, account_id: int, data: bytes
) -> ProfileView:
    """Replace the avatar: flattened to its first frame, at most 400 px wide, plus the
    48, 73 and 24 px squares. Synchronous, unlike Twitter (see the module docstring)."""
    return await _replace(session, store, account_id=account_id, kind="images", data=data)


async def update_banner(
    session: AsyncSession,
    store: ObjectStore,
    *,
    account_id: int,
    data: bytes,
    crop: profile.CropBox,
) -> ProfileView:
    """Replace the banner with every size of ``BANNER_SIZES`` cut from ``crop``."""
    return await _replace(
        session, store, account_id=account_id, kind="banners", data=data, crop=crop
    )


async def remove_banner(
    session: AsyncSession, store: ObjectStore, *, account_id: int
) -> ProfileView:
    account = await _account(session, account_id, lock=True)
    old = account.profile_banner_token
    account.profile_banner_token = None
    await session.commit()
    if old is not None:
        await store.delete_prefix(keys.profile_prefix(account_id, "banners", _token(old)))
    return _view(account)


async def _replace(
    session: AsyncSession,
    store: ObjectStore,
    *,
    account_id: int,
    kind: _Kind,
    data: bytes,
    crop: profile.CropBox | None = None,
) -> ProfileView:
    token = secrets.token_hex(10)
    prefix = keys.profile_prefix(account_id, kind, token)
    try:
        async with store.scratch() as work:
            if kind == "images":
                ext = await profile.build_avatar(data, work.dir)
            else:
                ext = await profile.build_banner(data, work.dir, crop or profile.CropBox())
            await work.publish(prefix)
    except InvalidMedia:
        raise errors.ImageUnreadable() from None
    except UnsupportedMedia as exc:
        if kind == "banners":
            raise errors.BannerNotResizable(exc.message) from None
        raise errors.ImageUnreadable(exc.message) from None
    # The bytes are in place; only now a short transaction swaps the token.
    try:
        account = await _account(session, account_id, lock=True)
        column = "profile_image_token" if kind == "images" else "profile_banner_token"
        old: str | None = getattr(account, column)
        setattr(account, column, f"{token}.{ext}")
        await session.commit()
    except BaseException:
        await store.delete_prefix(prefix)
        raise
    if old is not None:
        await store.delete_prefix(keys.profile_prefix(account_id, kind, _token(old)))
    await _sweep_stale(store, account_id, kind, keep=token)
    return await _counted(session, _view(account))


def _token(stored: str) -> str:
    return stored.partition(".")[0]


async def _sweep_stale(store: ObjectStore, account_id: int, kind: _Kind, *, keep: str) -> None:
    """Delete the files a crashed update left behind. Only old ones: younger ones may
    belong to an update still in flight."""
    prefix = keys.profile_prefix(account_id, kind)
    cutoff = utcnow() - _STALE
    stale: set[str] = set()
    fresh: set[str] = {keep}
    for found in await store.list(prefix):
        token = found.key[len(prefix) :].partition("/")[0]
        (stale if found.modified < cutoff else fresh).add(token)
    for token in sorted(stale - fresh):
        await store.delete_prefix(keys.profile_prefix(account_id, kind, token))


async def find_image(
    session: AsyncSession, store: ObjectStore, *, account_id: int, token: str, filename: str
) -> DeliveredFile:
    """``/profile_images/<account_id>/<token>/avatar[_normal|_bigger|_mini].<ext>`` of
    the current avatar; anything else (an old token included) is ``MediaNotFound``."""
    stored = await _current_token(session, account_id, "images")
    if stored is None or stored.partition(".")[0] != token:
        raise errors.MediaNotFound()
    ext = stored.partition(".")[2]
    names = {f"{profile.AVATAR_NAME}{suffix}.{ext}" for suffix in ("", *profile.AVATAR_SIZES)}
    if filename not in names:
        raise errors.MediaNotFound()
    return await delivered_object(
        store, keys.profile(account_id, "images", token, filename), _CONTENT_TYPES[ext]
    )


async def find_banner(
    session: AsyncSession, store: ObjectStore, *, account_id: int, token: str, size: str | None
) -> DeliveredFile:
    """``/profile_banners/<account_id>/<token>[/<size>]`` of the current banner; no size
    means the largest, 1500x500."""
    stored = await _current_token(session, account_id, "banners")
    if stored is None or stored.partition(".")[0] != token:
        raise errors.MediaNotFound()
    ext = stored.partition(".")[2]
    size = size or profile.BANNER_SIZES[0].name
    if size not in {s.name for s in profile.BANNER_SIZES}:
        raise errors.MediaNotFound()
    return await delivered_object(
        store, keys.profile(account_id, "banners", token, f"{size}.{ext}"), _CONTENT_TYPES[ext]
    )
