"""``GET /2/media/analytics``: the v2 media analytics (§12.2); the rules are
``app/analytics/media_analytics.py``'s."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from app.analytics import media_analytics as service
from app.analytics.buckets import Granularity
from app.core import errors
from app.http.deps import CurrentUser, ReadSessionDep
from app.http.errors import v2_error_responses
from app.http.responses import TwitterJSONResponse
from app.http.v2 import presenters

__all__ = ["router"]

router = APIRouter(prefix="/2/media", tags=["media-analytics-v2"])

_MAX_KEYS = 100
_KEY = "[0-9]+_[0-9]+"
_KEYS_PATTERN = f"^{_KEY}(?:,{_KEY}){{0,{_MAX_KEYS - 1}}}$"
_FIELDS_PATTERN = "^(?:{0})(?:,(?:{0}))*$".format("|".join(service.FIELDS))
# RFC 3339 date-time (OpenAPI ``format: date-time``): a date alone or no offset is 400.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


class TimestampedMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timestamp: str
    metrics: dict[str, int | None]


class MediaAnalyticsItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    media_key: str
    timestamp: str | None = None
    timestamped_metrics: list[TimestampedMetrics] | None = None
    cta_url_clicks: int | None = None
    cta_watch_clicks: int | None = None
    play_from_tap: int | None = None
    playback25: int | None = None
    playback50: int | None = None
    playback75: int | None = None
    playback_complete: int | None = None
    playback_start: int | None = None
    video_views: int | None = None
    watch_time_ms: int | None = None


class NotFoundProblem(BaseModel):
    value: str
    detail: str
    title: str
    resource_type: str
    parameter: str
    resource_id: str
    type: str


class MediaAnalyticsResponse(BaseModel):
    """`data` (left out when no key answered) and `errors` for the keys that did not."""

    data: list[MediaAnalyticsItem] | None = None
    errors: list[NotFoundProblem] | None = None


def _invalid(name: str, detail: str) -> errors.ApiError:
    error = errors.InvalidParameter(name)
    error.detail = detail
    return error


def _time(raw: str, name: str) -> datetime:
    if not _RFC3339.fullmatch(raw):
        raise _invalid(name, f"The `{name}` query parameter value [{raw}] is not a valid time")
    try:
        moment = datetime.fromisoformat(raw.upper())
    except ValueError:
        raise _invalid(
            name, f"The `{name}` query parameter value [{raw}] is not a valid time"
        ) from None
    return moment


def _keys(raw: str) -> tuple[str, ...]:
    items = raw.split(",")
    if len(items) > _MAX_KEYS or not all(re.fullmatch(_KEY, k) for k in items):
        raise _invalid(
            "media_keys",
            f"The `media_keys` query parameter takes 1 to {_MAX_KEYS} keys "
            "matching ^([0-9]+)_([0-9]+)$",
        )
    return tuple(dict.fromkeys(items))


def _granularity(raw: str | None) -> Granularity:
    if raw is None:
        return Granularity.DAY
    if raw not in service.GRANULARITIES:
        raise _invalid(
            "granularity",
            f"The `granularity` query parameter value [{raw}] is not one of "
            f"[{','.join(service.GRANULARITIES)}]",
        )
    return service.GRANULARITIES[raw]


def _fields(raw: str | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    fields = frozenset(raw.split(","))
    unknown = sorted(fields - set(service.FIELDS))
    if unknown:
        raise _invalid(
            "media_analytics.fields",
            f"The `media_analytics.fields` query parameter value [{','.join(unknown)}] "
            f"is not one of [{','.join(service.FIELDS)}]",
        )
    return fields


def _request(
    media_keys: str, start_time: str, end_time: str, granularity: str | None, fields: str | None
) -> service.MediaAnalyticsRequest:
    keys = _keys(media_keys)
    start, end = _time(start_time, "start_time"), _time(end_time, "end_time")
    grain = _granularity(granularity)
    if end <= start:
        raise _invalid("end_time", "The `end_time` must be after the `start_time`")
    days = service.MAX_HOURLY_DAYS if grain is Granularity.HOUR else service.MAX_DAYS
    if end - start > timedelta(days=days):
        raise _invalid(
            "end_time",
            f"The range from `start_time` to `end_time` is at most {days} days "
            f"for granularity {granularity or 'daily'}",
        )
    try:
        start, end = service.align(start, end, grain)
    except OverflowError:
        raise _invalid("end_time", "The `end_time` is out of range") from None
    return service.MediaAnalyticsRequest(keys, start, end, grain, _fields(fields))


@router.get(
    "/analytics",
    responses={
        200: {
            "model": MediaAnalyticsResponse,
            "description": "`data`: the caller's media; `errors`: keys not found or not the "
            "caller's (HTTP 200 all the same)",
        },
        **v2_error_responses(400, 401),
    },
)
async def get_media_analytics(
    user: CurrentUser,
    session: ReadSessionDep,
    media_keys: Annotated[
        str,
        Query(
            description="comma-separated media keys (1 to 100) of the caller's media",
            json_schema_extra={"pattern": _KEYS_PATTERN},
        ),
    ],
    start_time: Annotated[
        str,
        Query(
            description="RFC 3339; widened down to its hour (daily: its UTC day)",
            json_schema_extra={"format": "date-time"},
        ),
    ],
    end_time: Annotated[
        str,
        Query(
            description="RFC 3339, exclusive, after `start_time`; widened up to the next "
            "hour (daily: UTC day). At most 90 days after `start_time` (hourly: 7)",
            json_schema_extra={"format": "date-time"},
        ),
    ],
    granularity: Annotated[
        str | None,
        Query(
            description="`daily` (UTC days) when left out",
            json_schema_extra={"enum": list(service.GRANULARITIES)},
        ),
    ] = None,
    media_analytics_fields: Annotated[
        str | None,
        Query(
            alias="media_analytics.fields",
            description="comma-separated: " + ", ".join(service.FIELDS),
            json_schema_extra={"pattern": _FIELDS_PATTERN},
        ),
    ] = None,
) -> Response:
    """Playback counters of the caller's own media per hour, UTC day or in total:
    `timestamped_metrics[] = {timestamp, metrics}` and the named counters summed over
    the range. Keys of other users' media answer as unknown ones."""
    request = _request(media_keys, start_time, end_time, granularity, media_analytics_fields)
    data, missing = await service.media_analytics(session, request, user_id=user)
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if missing:
        body["errors"] = presenters.not_found_v2(
            missing, resource_type="media", parameter="media_keys"
        )
    return TwitterJSONResponse(body)
