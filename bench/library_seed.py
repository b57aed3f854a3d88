"""Seed one studio account with N processed media in its library, in bulk.

One platform user (``app.accounts.service.create_user``), one studio account
(``app.studio.accounts.create_account``), then N media rows (``upload_row`` with every
column, set to a processed state), their variants, N library items and their terms, all
as batched multi-row INSERTs, ``COPY`` on PostgreSQL (never one request or one ORM object
per row).

Names, titles, descriptions and file names are drawn from a vocabulary with Zipf-like
frequencies (a head of real words, a tail of made-up ones), so a ``q`` term can be common
(the first word is in about half the items) or rare (a tail word in a handful).
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from itertools import accumulate
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from app.accounts import service as users
from app.core.ids import IdGenerator
from app.infra.db import make_engine, make_sessionmaker
from app.models import LibraryItem, LibraryTerm, Media, MediaVariant, VariantKind
from app.studio import accounts, search
from app.uploads import protocol
from app.uploads.protocol import MediaCategory, MediaKind, UploadState
from app.uploads.queries import upload_row

__all__ = ["Seeded", "seed", "terms_of"]

BATCH = 2000

# The frequent head of the vocabulary: what people call their media.
HEAD = """
summer sale new launch video photo promo campaign spring winter autumn holiday brand
product team event live demo teaser trailer banner hero logo story behind scenes city
beach sunset night coffee food travel sport music fashion style office studio morning
black friday cyber week offer discount free shipping gift card review unboxing tutorial
how to guide tips interview podcast episode series season finale premiere recap highlight
best moments customer testimonial case study webinar conference keynote booth stage crowd
mountain river forest ocean snow rain street market kitchen recipe dinner breakfast lunch
dessert cake pizza burger salad drink wine beer tea smoothie fitness yoga run bike
""".split()  # noqa: SIM905 (prose reads better than a list)

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
_MIX = ((MediaKind.IMAGE, 0.60), (MediaKind.GIF, 0.15), (MediaKind.VIDEO, 0.25))
_EXTS = {MediaKind.IMAGE: "jpg", MediaKind.GIF: "gif", MediaKind.VIDEO: "mp4"}
_TYPES = {MediaKind.IMAGE: "IMAGE", MediaKind.GIF: "GIF", MediaKind.VIDEO: "VIDEO"}


def terms_of(*texts: str | None) -> list[str]:
    """The item's ``q`` terms, as the library writes them (``app.studio.search.terms``)."""
    return sorted(search.terms(texts))


class Vocabulary:
    """``size`` words, drawn with weight 1/rank (Zipf, s=1)."""

    def __init__(self, rng: random.Random, size: int = 4000) -> None:
        words = list(dict.fromkeys(HEAD))
        made: set[str] = set(words)
        while len(words) < size:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in made:
                made.add(word)
                words.append(word)
        self.words = words
        self._cum = list(accumulate(1.0 / rank for rank in range(1, size + 1)))
        self._rng = rng

    def draw(self, k: int) -> list[str]:
        return self._rng.choices(self.words, cum_weights=self._cum, k=k)

    def phrase(self, low: int, high: int, limit: int) -> str:
        return " ".join(self.draw(self._rng.randint(low, high)))[:limit].strip()


@dataclass
class Seeded:
    """What the measurements need to know about the seeded account."""

    user_id: int
    bearer_token: str
    account_id: str
    items: int
    by_type: dict[str, int]
    term_counts: Counter[str] = field(repr=False)
    gif_term_counts: Counter[str] = field(repr=False)  # among the GIF items only
    seconds: float = 0.0

    def common_term(self) -> tuple[str, int]:
        """The most frequent word (file extensions and numbers aside)."""
        return next(
            (t, c)
            for t, c in self.term_counts.most_common()
            if t.isalpha() and t not in _EXTS.values()
        )

    def rare_term(self, target: int = 10) -> tuple[str, int]:
        """A term in about ``target`` items (the closest count; ties: the first word)."""
        words = ((t, c) for t, c in self.term_counts.items() if t.isalpha())
        return min(words, key=lambda kv: (abs(kv[1] - target), kv[0]))


def _batches(rows: Sequence[dict[str, Any]], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _insert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Multi-row INSERTs of ``BATCH`` rows; on PostgreSQL, ``COPY`` (4x faster here)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        columns = list(rows[0])
        for batch in _batches(rows, BATCH * 10):
            records = [tuple(_plain(row[c]) for c in columns) for row in batch]
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=records, columns=columns
            )
        return
    statement = insert(table)
    for batch in _batches(rows):
        await conn.execute(statement, list(batch))


def _plain(value: Any) -> Any:
    """What a column stores: the value of an enum (the enums are VARCHAR columns)."""
    return value.value if isinstance(value, Enum) else value


def _variants(media: dict[str, Any]) -> list[dict[str, Any]]:
    media_id, kind, width, height = media["id"], media["kind"], media["width"], media["height"]

    def row(kind_: VariantKind, name: str, path: str, ctype: str, **extra: Any) -> dict[str, Any]:
        base = {"width": None, "height": None, "bitrate": None, "size": 50_000,
                "created_at": media["created_at"]}  # fmt: skip
        return {"media_id": media_id, "kind": kind_, "name": name, "path": path,
                "content_type": ctype, **base, **extra}  # fmt: skip

    if kind is MediaKind.IMAGE:
        sizes = (("thumb", 150), ("small", 680), ("medium", 1200), ("large", 2048), ("orig", 0))
        return [
            row(VariantKind.PHOTO, name, f"{name}.jpg", "image/jpeg",
                width=min(width, edge or width), height=min(height, edge or height))
            for name, edge in sizes
        ]  # fmt: skip
    size = f"{width}x{height}"
    rows = [row(VariantKind.MP4, size, f"{size}.mp4", "video/mp4", width=width, height=height,
                bitrate=0 if kind is MediaKind.GIF else 2_176_000)]  # fmt: skip
    if kind is MediaKind.VIDEO:
        rows.insert(0, row(VariantKind.MP4, "480x270", "480x270.mp4", "video/mp4",
                           width=480, height=270, bitrate=632_000))  # fmt: skip
        rows.append(row(VariantKind.HLS, "master", "master.m3u8", "application/x-mpegURL"))
    rows.append(row(VariantKind.PREVIEW, "preview", "preview.jpg", "image/jpeg",
                    width=width, height=height))  # fmt: skip
    return rows


def _media_row(owner_id: int, media_id: int, kind: MediaKind, rng: random.Random,
               when: datetime) -> dict[str, Any]:  # fmt: skip
    category = {MediaKind.IMAGE: MediaCategory.TWEET_IMAGE, MediaKind.GIF: MediaCategory.TWEET_GIF,
                MediaKind.VIDEO: rng.choice((MediaCategory.TWEET_VIDEO,
                                             MediaCategory.AMPLIFY_VIDEO))}[kind]  # fmt: skip
    mime = {MediaKind.IMAGE: "image/jpeg", MediaKind.GIF: "image/gif",
            MediaKind.VIDEO: "video/mp4"}[kind]  # fmt: skip
    size = rng.randint(40_000, 5_000_000)
    row = upload_row(
        owner_id=owner_id,
        kind=kind,
        category=category,
        is_async=kind is not MediaKind.IMAGE,
        is_shared=False,
        media_type=mime,
        total_bytes=size,
        created_at=when,
        expires_at=when + timedelta(days=1),
    )
    width, height = rng.choice(((1280, 720), (1920, 1080), (1080, 1080), (720, 1280)))
    row.update(
        id=media_id,
        media_key=protocol.media_key(media_id, kind, category),
        state=UploadState.SUCCEEDED,
        is_used=rng.random() < 0.3,
        size=size,
        sha256=secrets.token_hex(32),
        detected_type=mime,
        width=width,
        height=height,
        duration_ms=rng.randint(2_000, 140_000) if kind is MediaKind.VIDEO else None,
        progress_percent=100 if kind is not MediaKind.IMAGE else None,
        delivery_token=secrets.token_hex(16),
        finalized_at=when,
    )
    return row


def _item_row(account_id: str, item_id: int, media: dict[str, Any], words: Vocabulary,
              rng: random.Random, poster: int | None) -> dict[str, Any]:  # fmt: skip
    kind: MediaKind = media["kind"]
    ext = _EXTS[kind]
    moving = kind is not MediaKind.IMAGE
    file_name = f"{'_'.join(words.draw(2))}_{rng.randint(1, 9999):04d}.{ext}"
    when: datetime = media["created_at"]
    return {
        "id": item_id,
        "account_id": account_id,
        "media_id": media["id"],
        "media_type": _TYPES[kind],
        "name": words.phrase(1, 4, 100) if rng.random() < 0.8 else None,
        "title": words.phrase(2, 5, 70) if moving and rng.random() < 0.7 else None,
        "description": words.phrase(6, 20, 200) if moving and rng.random() < 0.5 else None,
        "file_name": file_name if rng.random() < 0.9 else None,
        "poster_media_id": poster if kind is MediaKind.VIDEO else None,
        "created_at": when,
        "updated_at": when,
    }


async def _account(engine: AsyncEngine, ids: IdGenerator, now: datetime) -> tuple[Any, str]:
    async with make_sessionmaker(engine)() as session:
        issued = await users.create_user(session, ids, screen_name="librarybench", app_name=None)
    async with make_sessionmaker(engine)() as session:
        view = await accounts.create_account(
            session, ids, owner_id=issued.user_id, name="Library bench", timezone="UTC", now=now
        )
    return issued, view.id


async def _seed(database_url: str, n: int, rng_seed: int) -> Seeded:
    loop = asyncio.get_running_loop()
    started = loop.time()
    rng = random.Random(rng_seed)
    words = Vocabulary(rng)
    ids = IdGenerator(0)
    now = datetime.now(UTC).replace(microsecond=0)
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        issued, account_id = await _account(engine, ids, now)
        kinds = rng.choices([k for k, _ in _MIX], weights=[w for _, w in _MIX], k=n)
        media_ids = [ids.next_id() for _ in range(n)]
        item_ids = [ids.next_id() for _ in range(n)]  # ascending: the last is the newest
        span = timedelta(days=365) / max(n, 1)
        media = [
            _media_row(issued.user_id, mid, kind, rng, now - (n - i) * span)
            for i, (mid, kind) in enumerate(zip(media_ids, kinds, strict=True))
        ]
        images = [m["id"] for m in media if m["kind"] is MediaKind.IMAGE]
        items = [
            _item_row(account_id, iid, m, words, rng,
                      rng.choice(images) if images and rng.random() < 0.3 else None)
            for iid, m in zip(item_ids, media, strict=True)
        ]  # fmt: skip
        terms: list[dict[str, Any]] = []
        counts: Counter[str] = Counter()
        gif_counts: Counter[str] = Counter()
        for item in items:
            found = terms_of(item["name"], item["title"], item["file_name"], item["description"])
            counts.update(found)
            if item["media_type"] == "GIF":
                gif_counts.update(found)
            terms += [{"item_id": item["id"], "term": t, "account_id": account_id} for t in found]
        variants = [v for m in media for v in _variants(m)]
        async with engine.begin() as conn:
            await _insert(conn, cast(Table, Media.__table__), media)
            await _insert(conn, cast(Table, MediaVariant.__table__), variants)
            await _insert(conn, cast(Table, LibraryItem.__table__), items)
            await _insert(conn, cast(Table, LibraryTerm.__table__), terms)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:  # what autovacuum does soon after a bulk load
                await conn.execute(text("COMMIT"))
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    by_type = Counter(_TYPES[k] for k in kinds)
    return Seeded(
        user_id=issued.user_id,
        bearer_token=issued.bearer_token,
        account_id=account_id,
        items=n,
        by_type=dict(by_type),
        term_counts=counts,
        gif_term_counts=gif_counts,
        seconds=round(loop.time() - started, 1),
    )


def seed(database_url: str, n: int, *, rng_seed: int = 14) -> Seeded:
    """Migrate ``database_url`` (empty) to head, then seed it (see the module)."""
    from app.migrate import upgrade_to_head

    upgrade_to_head(database_url)
    return asyncio.run(_seed(database_url, n, rng_seed))
