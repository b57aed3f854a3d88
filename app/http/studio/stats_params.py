"""The parameters of the Ads API's stats calls (§11.1, and §11.2's jobs), checked into a
``StatsRequest`` with the errors X answers (§2.3): ``MISSING_PARAMETER``,
``INVALID_PARAMETER``, ``INVALID_TIME_WINDOW``.

Times: ISO 8601 with any offset, or a bare date (midnight in the account's timezone, as
X reads ``start_time=2017-05-19``); whole hours; ``end_time`` exclusive. ``DAY`` needs
local midnights. Lists come comma-joined or as repeated keys (the SDK sends both).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.analytics import stats
from app.analytics.buckets import Granularity
from app.http.studio.params import AdsParams, one_of, timestamp
from app.studio import errors

__all__ = ["MAX_ENTITY_IDS", "REQUIRED", "StatsLimits", "parse_stats"]

MAX_ENTITY_IDS = 20
REQUIRED = (
    "entity",
    "entity_ids",
    "start_time",
    "end_time",
    "granularity",
    "metric_groups",
    "placement",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEGMENTATION_TYPES = ("AGE", "GENDER", "METROS", "PLATFORMS", "CONVERSION_TAGS")


class StatsLimits:
    """The longest range in days: 7 for synchronous stats, 90 (45 segmented) for jobs."""

    def __init__(self, days: int, segmented_days: int | None = None) -> None:
        self.days, self.segmented_days = days, segmented_days


def _time(params: AdsParams, name: str, timezone: str) -> datetime:
    raw = params.required(name).strip()
    if _DATE.match(raw):
        try:
            day = datetime.strptime(raw, "%Y-%m-%d")
        except ValueError:
            raise errors.InvalidParameter(name, f'Expected time, got "{raw}" for {name}') from None
        return day.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    moment = timestamp(raw, name)
    if "." in raw:
        raise errors.InvalidTimeWindow("Time cannot be fractional hours", parameter=name)
    return moment


def _local_midnight(moment: datetime, timezone: str) -> bool:
    local = moment.astimezone(ZoneInfo(timezone))
    return (local.hour, local.minute, local.second) == (0, 0, 0)


def _choices(params: AdsParams, name: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    values = [value.upper() for value in params.many(name)]
    if not values:
        raise errors.MissingParameter(name)
    for value in values:
        if value not in choices:
            raise errors.InvalidParameter(
                name, f"Expected one of {', '.join(choices)} for {name}, got {value!r}"
            )
    return tuple(dict.fromkeys(values))


def parse_stats(params: AdsParams, *, timezone: str, limits: StatsLimits) -> stats.StatsRequest:
    for name in REQUIRED:
        if not params.many(name):
            raise errors.MissingParameter(name)
    entity = one_of(params, "entity", stats.ENTITIES)
    assert entity is not None
    entity_ids = tuple(dict.fromkeys(params.many("entity_ids")))
    if len(entity_ids) > MAX_ENTITY_IDS:
        raise errors.InvalidParameter(
            "entity_ids", f"entity_ids takes at most {MAX_ENTITY_IDS} ids, got {len(entity_ids)}"
        )
    groups = _choices(params, "metric_groups", stats.METRIC_GROUPS)
    unavailable = [g for g in groups if g not in stats.AVAILABLE_GROUPS[entity]]
    if unavailable:
        raise errors.InvalidParameter(
            "metric_groups",
            f"Metric group {unavailable[0]} is not available for entity {entity}",
        )
    placements = _choices(params, "placement", stats.PLACEMENTS)
    if len(placements) != 1 or len(params.many("placement")) != 1:
        raise errors.InvalidParameter("placement", "placement takes exactly one value")
    granularity = Granularity(
        one_of(params, "granularity", tuple(g.value for g in Granularity)) or "TOTAL"
    )
    segmentation = one_of(params, "segmentation_type", SEGMENTATION_TYPES)
    if segmentation is not None:
        if limits.segmented_days is None:
            raise errors.InvalidParameter(
                "segmentation_type", "Segmentation is available for asynchronous jobs only"
            )
        if entity in ("ORGANIC_TWEET", "MEDIA_CREATIVE"):
            raise errors.InvalidParameter(
                "segmentation_type", f"Segmentation is not available for entity {entity}"
            )
        raise errors.InvalidParameter(
            "segmentation_type", f"Segmentation by {segmentation} is not available"
        )

    start = _time(params, "start_time", timezone)
    end = _time(params, "end_time", timezone)
    for name, moment in (("start_time", start), ("end_time", end)):
        if granularity is not Granularity.DAY and (moment.minute, moment.second) != (0, 0):
            raise errors.InvalidTimeWindow("Time cannot be fractional hours", parameter=name)
    if end <= start:
        raise errors.InvalidTimeWindow(
            "The end_time must be after the start_time", parameter="end_time"
        )
    days = limits.days
    if end - start > timedelta(days=days, hours=1):
        raise errors.InvalidTimeWindow(
            f"The end_time can be a maximum of {days}.days+1.hours after the start_time",
            parameter="end_time",
        )
    if granularity is Granularity.DAY and not (
        _local_midnight(start, timezone) and _local_midnight(end, timezone)
    ):
        raise errors.InvalidTimeWindow(
            "Expect time to be midnight in the account's local timezone for day granularity",
            parameter="",
        )
    return stats.StatsRequest(
        entity=entity,
        entity_ids=entity_ids,
        start_time=start,
        end_time=end,
        granularity=granularity,
        placement=placements[0],
        metric_groups=groups,
        segmentation_type=segmentation,
        country=params.one("country") or None,
        platform=params.one("platform") or None,
    )
