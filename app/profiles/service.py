"""Profile images and banners (spec §7.3): update, remove, look up, deliver.

Twitter processes these asynchronously (the new URL appears seconds later); we process
synchronously, before answering, because the work is small (one still image, a
dozen small outputs) and it runs in a thread off the event loop.

Storage, under the store's variants directory for the key ``profile-<account_id>``::

    images/<token>/avatar.<ext>  avatar_normal.<ext>  avatar_bigger.<ext>  avatar_mini.<ext>
    banners/<token>/1500x500.<ext>  600x200.<ext>  ...  mobile_retina.<ext>

``Account.profile_image_token`` / ``profile_banner_token`` hold ``<token>.<ext>``:
the random token that names the directory (and appears in the URL, so a new upload gets
new, immutable URLs) plus the extension the outputs were written with.

An update writes the new directory first, then commits the new token, then removes
the previous directory. A failure before the commit removes the new directory and
leaves the previous image in place; leftovers of a crash are removed by the next
update of the same kind once they are an hour old.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.media.delivery import DeliveredFile, delivered_file
from app.models import Account
from app.processing import profile
from app.processing.errors import InvalidMedia, UnsupportedMedia
from app.storage import SegmentStore
from app.storage.base import SupportsLocalPath

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
_STALE_SECS = 3600
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
_Kind = Literal["images", "banners"]


@dataclass(frozen=True, slots=True)
class ProfileView:
    id: int
    screen_name: str
    image_token: str | None  # "<token>.<ext>" as stored
    banner_token: str | None


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


def _root(store: SegmentStore, account_id: int, kind: _Kind) -> Path:
    if not isinstance(store, SupportsLocalPath):
        raise RuntimeError("profile images need a store with local paths")
    return store.variants_dir(f"profile-{account_id}") / kind


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
    """An account by id or (case-insensitively) by screen name."""
    if user_id is not None:
        return _view(await _account(session, user_id))
    name = (screen_name or "").lstrip("@").lower()
    found = await session.scalar(select(Account).where(func.lower(Account.screen_name) == name))
    if found is None:
        raise errors.UserNotFound()
    return _view(found)


async def update_image(
    session: AsyncSession, store: SegmentStore, *, account_id: int, data: bytes
) -> ProfileView:
    """Replace the avatar: flattened to its first frame, at most 400 px wide, plus the
    48, 73 and 24 px squares. Synchronous, unlike Twitter (see the module docstring)."""
    return await _replace(session, store, account_id=account_id, kind="images", data=data)


async def update_banner(
    session: AsyncSession,
    store: SegmentStore,
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
    session: AsyncSession, store: SegmentStore, *, account_id: int
) -> ProfileView:
    account = await _account(session, account_id, lock=True)
    old = account.profile_banner_token
    account.profile_banner_token = None
    await session.commit()
    if old is not None:
        await _remove(_root(store, account_id, "banners") / old.partition(".")[0])
    return _view(account)


async def _replace(
    session: AsyncSession,
    store: SegmentStore,
    *,
    account_id: int,
    kind: _Kind,
    data: bytes,
    crop: profile.CropBox | None = None,
) -> ProfileView:
    root = _root(store, account_id, kind)
    token = secrets.token_hex(10)
    target = root / token
    try:
        if kind == "images":
            ext = await profile.build_avatar(data, target)
        else:
            ext = await profile.build_banner(data, target, crop or profile.CropBox())
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
        await _remove(target)
        raise
    if old is not None:
        await _remove(root / old.partition(".")[0])
    await asyncio.to_thread(_sweep_stale, root, keep=token)
    return _view(account)


async def _remove(path: Path) -> None:
    await asyncio.to_thread(shutil.rmtree, path, True)


def _sweep_stale(root: Path, *, keep: str) -> None:
    """Remove directories a crashed update left behind. Only old ones: a younger one
    may belong to an update still in flight."""
    cutoff = time.time() - _STALE_SECS
    for entry in root.iterdir():
        if entry.name != keep and entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


async def find_image(
    session: AsyncSession, store: SegmentStore, *, account_id: int, token: str, filename: str
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
    return await delivered_file(
        _root(store, account_id, "images") / token / filename, _CONTENT_TYPES[ext]
    )


async def find_banner(
    session: AsyncSession, store: SegmentStore, *, account_id: int, token: str, size: str | None
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
    return await delivered_file(
        _root(store, account_id, "banners") / token / f"{size}.{ext}", _CONTENT_TYPES[ext]
    )
