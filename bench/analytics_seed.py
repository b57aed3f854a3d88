"""Seeding for ``bench/analytics.py``: an account with posted media (the library seed
of bench/library_seed.py, then one post per media), the hourly rollups of 90 days x 20
posts (plus other media as noise) and millions of rolled raw events, in bulk (COPY on
PostgreSQL, multi-row INSERTs on SQLite)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.pool import NullPool

from app.analytics.metrics import COUNTERS
from app.core.ids import IdGenerator
from app.infra.db import make_engine
from app.models import Media, Post, PostMedia
from app.models.analytics import MediaHourlyStats, PlaybackEvent
from bench.library_seed import _insert, seed

__all__ = ["Posted", "seed_posted", "seed_rollups"]

HOUR_S = 3600


@dataclass
class Posted:
    user_id: int
    bearer_token: str
    account_id: str
    media: list[tuple[int, str]]  # (media id, media key), each posted
    post_ids: list[int]
    seconds: float = 0.0


async def _posts(url: str, user_id: int, count: int) -> tuple[list[tuple[int, str]], list[int]]:
    engine = make_engine(url, poolclass=NullPool)
    ids = IdGenerator(1)
    try:
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(Media.id, Media.media_key)
                    .where(Media.owner_id == user_id)
                    .order_by(Media.id)
                    .limit(count)
                )
            ).all()
            media = [(int(r[0]), str(r[1])) for r in rows]
            now = datetime.now(UTC)
            posts: list[dict[str, Any]] = []
            links = []
            post_ids: list[int] = []
            for media_id, _key in media:
                post_id = ids.next_id()
                post_ids.append(post_id)
                body = f"bench post {post_id}"
                posts.append(
                    {"id": post_id, "author_id": user_id, "text": body,
                     "text_sha256": hashlib.sha256(body.encode()).hexdigest(),
                     "possibly_sensitive": False, "created_at": now, "nullcast": False}
                )  # fmt: skip
                links.append({"post_id": post_id, "position": 0, "media_id": media_id})
            await _insert(conn, cast(Table, Post.__table__), posts)
            await _insert(conn, cast(Table, PostMedia.__table__), links)
    finally:
        await engine.dispose()
    return media, post_ids


def seed_posted(url: str, count: int) -> Posted:
    """An account (migrated, seeded) whose first ``count`` media are each in a post."""
    started = time.monotonic()
    seeded = seed(url, count)
    media, posts = asyncio.run(_posts(url, seeded.user_id, count))
    return Posted(
        seeded.user_id, seeded.bearer_token, seeded.account_id, media, posts,
        round(time.monotonic() - started, 1),
    )  # fmt: skip


async def _rollups(
    url: str, media_ids: list[int], *, days: int, noise_media: int, events: int, end_hour: int
) -> None:
    rng = random.Random(15)
    engine = make_engine(url, poolclass=NullPool)
    hours = range(end_hour - days * 24 * HOUR_S, end_hour, HOUR_S)
    try:
        all_media = media_ids + [10**15 + i for i in range(noise_media)]
        rows: list[dict[str, Any]] = []
        async with engine.begin() as conn:
            for media_id in all_media:
                for hour in hours:
                    starts = rng.randint(0, 40)
                    row = dict.fromkeys(COUNTERS, 0)
                    row.update(
                        media_id=media_id, hour=hour, starts=starts, impressions=starts * 3,
                        views_25=starts * 3 // 4, views_50=starts // 2, views_75=starts // 3,
                        views_100=starts // 4, total_views=starts * 2 // 3,
                        views_3s=starts // 2, views_6s=starts // 3, views_15s=starts // 5,
                        watch_ms=starts * 9000,
                    )  # fmt: skip
                    rows.append(row)
                if len(rows) >= 50_000:
                    await _insert(conn, cast(Table, MediaHourlyStats.__table__), rows)
                    rows = []
            await _insert(conn, cast(Table, MediaHourlyStats.__table__), rows)
            start_ms = (end_hour - days * 24 * HOUR_S) * 1000
            span = days * 24 * HOUR_S * 1000
            batch: list[dict[str, Any]] = []
            for n in range(events):
                ts = start_ms + (n * 7919) % span
                batch.append(
                    {"media_id": all_media[n % len(all_media)], "session_id": f"seed-{n // 10}",
                     "seq": n % 10, "type": "progress", "position_ms": (n % 10) * 1000,
                     "quartile": None, "cta": None, "ts_ms": ts, "received_ms": ts,
                     "rolled": True}
                )  # fmt: skip
                if len(batch) >= 100_000:
                    await _insert(conn, cast(Table, PlaybackEvent.__table__), batch)
                    batch = []
            await _insert(conn, cast(Table, PlaybackEvent.__table__), batch)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execute(text("COMMIT"))
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def seed_rollups(
    url: str, media_ids: list[int], *, days: int, noise_media: int, events: int
) -> tuple[int, float]:
    """``days`` of hourly rollups for ``media_ids`` and ``noise_media`` others, and
    ``events`` rolled raw events; the end hour (epoch s) and the seconds it took."""
    started = time.monotonic()
    end_hour = int(time.time()) // HOUR_S * HOUR_S
    asyncio.run(
        _rollups(url, media_ids, days=days, noise_media=noise_media, events=events,
                 end_hour=end_hour)
    )  # fmt: skip
    return end_hour, round(time.monotonic() - started, 1)
