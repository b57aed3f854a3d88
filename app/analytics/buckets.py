"""Time buckets of a stats request: whole UTC hours, local days of an account's timezone,
or one total. Pure: no database, no HTTP.

Hours of the rollup are epoch seconds of their start (``hour``); a bucket covers the hours
``start_s <= hour < end_s``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["HOUR_S", "Bucket", "Granularity", "buckets", "epoch_s", "hour_of_ms"]

HOUR_S = 3600


class Granularity(enum.StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    TOTAL = "TOTAL"


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    end: datetime  # exclusive

    @property
    def start_s(self) -> int:
        return epoch_s(self.start)

    @property
    def end_s(self) -> int:
        return epoch_s(self.end)


def epoch_s(moment: datetime) -> int:
    return int(moment.timestamp())


def hour_of_ms(ts_ms: int) -> int:
    """The rollup hour (epoch seconds) holding an event time in epoch milliseconds."""
    return (ts_ms // 1000) // HOUR_S * HOUR_S


def buckets(
    start: datetime, end: datetime, granularity: Granularity, timezone: str = "UTC"
) -> list[Bucket]:
    """The buckets of ``[start, end)``. ``HOUR``: one per hour; ``DAY``: one per local day
    of ``timezone`` (23 or 25 hours across a DST change), ``start``/``end`` being local
    midnights (the caller checks that); ``TOTAL``: one."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    if granularity is Granularity.TOTAL:
        return [Bucket(start, end)]
    if granularity is Granularity.HOUR:
        count = int((end - start).total_seconds()) // HOUR_S
        return [
            Bucket(start + timedelta(hours=i), start + timedelta(hours=i + 1)) for i in range(count)
        ]
    zone = ZoneInfo(timezone)
    out: list[Bucket] = []
    day = start.astimezone(zone).date()
    lower = start
    while lower < end:
        day += timedelta(days=1)
        upper = min(datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC), end)
        out.append(Bucket(lower, upper))
        lower = upper
    return out
