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

from app.analytics.buckets import Bucket
from app.analytics.metrics import COUNTERS, Counters
from app.models.analytics import MediaHourlyStats, MediaTotals

__all__ = ["series", "totals"]


def _runs(buckets: Sequence[Bucket]) -> list[tuple[int, int, int, int]]:
    """Consecutive buckets of one length as (first index, start, end, length in s): an
    hour range is one run, 90 local days a few (a DST day is a run of its own)."""
    runs: list[tuple[int, int, int, int]] = []
    for index, bucket in enumerate(buckets):
        length = bucket.end_s - bucket.start_s
        if runs and runs[-1][3] == length and runs[-1][2] == bucket.start_s:
            first, start, _end, _ = runs[-1]
            runs[-1] = (first, start, bucket.end_s, length)
        else:
            runs.append((index, bucket.start_s, bucket.end_s, length))
    return runs


def _bucket_index(buckets: Sequence[Bucket]) -> ColumnElement[int]:
    """The bucket of a rollup hour, by arithmetic within each run of equal buckets (no
    per-bucket comparisons: 90 days are a handful of runs)."""
    hour = MediaHourlyStats.hour
    if len(buckets) == 1:
        return literal(0, Integer)
    runs = _runs(buckets)

    def within(run: tuple[int, int, int, int]) -> ColumnElement[int]:
        first, start, _end, length = run
        return ((hour - start) // length + first).cast(Integer)

    if len(runs) == 1:
        return within(runs[0])
    return case(*[(hour < run[2], within(run)) for run in runs[:-1]], else_=within(runs[-1]))


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
    for row in (await session.execute(stmt)).all():
        slot = int(row[1])
        if not 0 <= slot < len(buckets):
            continue
        media_id = int(row[0])
        per = out.get(media_id)
        if per is None:
            per = out[media_id] = [Counters() for _ in buckets]
        per[slot] = Counters(*(int(v or 0) for v in row[2:]))
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
