"""Numbers out: sums of the hourly rollups per media and bucket, and the lifetime totals.

Every stats surface (Ads API sync stats and jobs, v2 media metrics, the studio's report)
reads through here; nothing reads raw events. The bucketing happens in SQL (one
``GROUP BY media_id, bucket`` over the ``(media_id, hour)`` primary key), so a 90-day
query over 20 media returns at most 20 x buckets rows.

Run these on the ORM sessions (the thread-backed engine on SQLite), never on the
in-loop statements: a 90-day scan is milliseconds of SQLite work.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Integer, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.buckets import HOUR_S, Bucket
from app.analytics.metrics import COUNTERS, Counters
from app.models.analytics import MediaHourlyStats, MediaTotals

__all__ = ["series", "totals"]


def _bucket_index(buckets: Sequence[Bucket]) -> ColumnElement[int]:
    hour = MediaHourlyStats.hour
    if len(buckets) == 1:
        return literal(0, Integer)
    hourly = all(b.end_s - b.start_s == HOUR_S for b in buckets)
    if hourly:
        return ((hour - buckets[0].start_s) / HOUR_S).cast(Integer)
    return case(*[(hour < b.end_s, i) for i, b in enumerate(buckets)], else_=len(buckets))


async def series(
    session: AsyncSession, media_ids: Sequence[int], buckets: Sequence[Bucket]
) -> dict[int, list[Counters]]:
    """Per media id (only those with any rollup row in range), one ``Counters`` per
    bucket, in bucket order."""
    if not media_ids or not buckets:
        return {}
    index = _bucket_index(buckets).label("bucket")
    stmt = (
        select(
            MediaHourlyStats.media_id,
            index,
            *[func.sum(getattr(MediaHourlyStats, name)).label(name) for name in COUNTERS],
        )
        .where(
            MediaHourlyStats.media_id.in_(list(media_ids)),
            MediaHourlyStats.hour >= buckets[0].start_s,
            MediaHourlyStats.hour < buckets[-1].end_s,
        )
        .group_by(MediaHourlyStats.media_id, index)
    )
    out: dict[int, list[Counters]] = {}
    for row in (await session.execute(stmt)).mappings():
        slot = int(row["bucket"])
        if not 0 <= slot < len(buckets):
            continue
        per = out.setdefault(int(row["media_id"]), [Counters() for _ in buckets])
        per[slot] = Counters.from_mapping(dict(row))
    return out


async def totals(session: AsyncSession, media_ids: Sequence[int]) -> dict[int, Counters]:
    """Lifetime counters per media id (only those counted at least once)."""
    if not media_ids:
        return {}
    rows = await session.execute(
        select(MediaTotals).where(MediaTotals.media_id.in_(list(media_ids)))
    )
    return {
        item.media_id: Counters(**{name: getattr(item, name) for name in COUNTERS})
        for item in rows.scalars()
    }
