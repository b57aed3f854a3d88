"""``GET /studio/v1/accounts/{account_id}/analytics``: the studio's own report (JSON, CSV);
the numbers are ``app/analytics/report.py``'s."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.analytics import report as service
from app.analytics.buckets import Granularity
from app.http.deps import ReadSessionDep
from app.http.studio.deps import AccountIdPath, ParamsDep, studio_access
from app.http.studio.envelope import CURRENT_API_VERSION, data_response
from app.http.studio.params import AdsParams
from app.schemas import openapi as oa
from app.studio import errors
from app.studio.access import Access
from app.studio.permissions import Action

__all__ = ["router"]

router = APIRouter(prefix="/studio/v1", tags=["studio-analytics"])

_GRANULARITIES = {"hour": Granularity.HOUR, "day": Granularity.DAY, "total": Granularity.TOTAL}
_FORMATS = ("json", "csv")
_MEDIA_KEY = "^[0-9]{1,2}_[0-9]{1,19}$"
# A date (midnight in the account's timezone) or a time; a time without offset is the
# account's local time too.
_WHEN = (
    "^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    "(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
)
_WHEN_WORDS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]"
_WHEN_SCHEMA = {"type": "string", "pattern": _WHEN}

_ROW: dict[str, Any] = {
    "type": "object",
    "required": list(service.COLUMNS),
    "properties": {
        **{
            name: {"type": ["number", "null"]} if "rate" in name else {"type": "number"}
            for name in service.COLUMNS
        },
        "start": {"type": "string"},
        "end": {"type": "string"},
    },
}
_REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["request", "data"],
    "properties": {
        "request": {"type": "object"},
        "data": {
            "type": "object",
            "required": [
                "account_id", "media_key", "timezone", "granularity", "start", "end",
                "media_count", "buckets", "total",
            ],
            "properties": {
                "account_id": {"type": "string"},
                "media_key": {"type": ["string", "null"]},
                "timezone": {"type": "string"},
                "granularity": {"type": "string", "enum": list(_GRANULARITIES)},
                "start": {"type": "string"},
                "end": {"type": "string"},
                "media_count": {"type": "integer"},
                "buckets": {"type": "array", "items": _ROW},
                "total": _ROW,
            },
        },
    },
}  # fmt: skip


def _when(params: AdsParams, name: str, zone: ZoneInfo) -> datetime:
    raw = params.required(name)
    match = re.fullmatch(_WHEN, raw)
    invalid = errors.InvalidParameter(
        name,
        f'Expected a date or a time ({_WHEN_WORDS}), got "{raw}" for {name}',
    )
    if match is None:
        raise invalid
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
        if offset is None:
            return moment.replace(tzinfo=zone)
        if offset == "Z":
            return moment.replace(tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        return moment.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
    except ValueError:
        raise invalid from None


def _choice(params: AdsParams, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = params.one(name)
    if raw is None:
        return default
    if raw not in choices:
        raise errors.InvalidParameter(
            name, f"Expected one of {', '.join(choices)} for {name}, got {raw!r}"
        )
    return raw


def _report_request(params: AdsParams, zone_name: str) -> service.ReportRequest:
    zone = ZoneInfo(zone_name)
    start, end = _when(params, "start", zone), _when(params, "end", zone)
    granularity = _choice(params, "granularity", tuple(_GRANULARITIES), "day")
    grain = _GRANULARITIES[granularity]
    media_key = params.one("media_key")
    if media_key is not None and not re.fullmatch(_MEDIA_KEY, media_key):
        raise errors.InvalidParameter("media_key", f"Expected a media key, got {media_key!r}")
    if end <= start:
        raise errors.InvalidTimeWindow("end must be after start", parameter="end")
    days = service.MAX_HOURLY_DAYS if grain is Granularity.HOUR else service.MAX_DAYS
    if end - start > timedelta(days=days):
        raise errors.InvalidTimeWindow(
            f"The range from start to end is at most {days} days for {granularity} granularity",
            parameter="end",
        )
    try:
        start, end = service.align(start, end, grain, zone_name)
    except (OverflowError, ValueError):
        raise errors.InvalidTimeWindow("start or end is out of range", parameter="end") from None
    return service.ReportRequest(start, end, grain, media_key)


def _wants_csv(request: Request, params: AdsParams) -> bool:
    chosen = params.one("format")
    if chosen is not None:
        return _choice(params, "format", _FORMATS, "json") == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == "text/csv" for part in accept.split(","))


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get(
    "/accounts/{account_id}/analytics",
    operation_id="studio-analytics-report",
    responses={
        200: {
            "description": "The report: JSON in the studio envelope, or CSV (`format=csv` or "
            "`Accept: text/csv`) with a header row and one row per bucket",
            "content": {
                "application/json": {"schema": _REPORT_SCHEMA},
                "text/csv": {"schema": {"type": "string"}},
            },
            "headers": {
                "Content-Disposition": {
                    "description": "CSV only: `attachment; filename=...`",
                    "schema": {"type": "string"},
                }
            },
        },
        400: {"description": "INVALID_PARAMETER, MISSING_PARAMETER or INVALID_TIME_WINDOW"},
        403: {"description": "NOT_FOUND (account) or ACTION_NOT_ALLOWED (no analytics role)"},
        404: {"description": "NOT_FOUND: the media is not the account's"},
    },
    openapi_extra={
        "parameters": [
            oa.query("start", _WHEN_SCHEMA, required=True),
            oa.query("end", _WHEN_SCHEMA, required=True),
            oa.query("granularity", {"type": "string", "enum": list(_GRANULARITIES)}),
            oa.query("media_key", {"type": "string", "pattern": _MEDIA_KEY}),
            oa.query("format", {"type": "string", "enum": list(_FORMATS)}),
        ]
    },
)
async def analytics_report(
    request: Request,
    access: Annotated[Access, studio_access(Action.VIEW_ANALYTICS)],
    params: ParamsDep,
    session: ReadSessionDep,
    account_id: AccountIdPath,
) -> Response:
    """Starts, views and retention/completion rates at 25/50/75/100 %, minutes viewed,
    CTA clicks, total views and impressions of one media of the account (`media_key`) or
    of all of them (its library's and its owner's posts' media), per `hour`, local `day`
    (the account's timezone; the default) or in `total`, over `[start, end)`: dates are
    the account's local midnights, the range is widened to whole buckets; at most 31
    days per hour, 366 otherwise."""
    account = access.account
    wants_csv = _wants_csv(request, params)
    spec = _report_request(params, account.timezone)
    media = await service.account_media(session, account_id=account.id, owner_id=account.owner_id)
    if spec.media_key is not None:
        if spec.media_key not in media:
            raise errors.NotFound(
                f"Media {spec.media_key} was not found for Account {account.id}",
                parameter="media_key",
            )
        media = {spec.media_key: media[spec.media_key]}
    report = await service.build_report(
        session, spec, media_ids=sorted(media.values()), timezone=account.timezone
    )
    if wants_csv:
        name = f"analytics-{account.id}-{spec.start:%Y%m%dT%H%M}-{spec.end:%Y%m%dT%H%M}.csv"
        return Response(
            service.to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}"',
                "x-current-api-version": CURRENT_API_VERSION,
            },
        )
    granularity = next(k for k, v in _GRANULARITIES.items() if v is spec.granularity)
    echo = {
        "account_id": account_id,
        "start": _utc(spec.start),
        "end": _utc(spec.end),
        "granularity": granularity,
        "media_key": spec.media_key,
    }
    zone = account.timezone
    data = {
        "account_id": account.id,
        "media_key": spec.media_key,
        "timezone": zone,
        "granularity": granularity,
        "start": service.local_time(spec.start, zone),
        "end": service.local_time(spec.end, zone),
        "media_count": report.media_count,
        "buckets": [
            {
                "start": service.local_time(span.start, zone),
                "end": service.local_time(span.end, zone),
                **row,
            }
            for span, row in zip(report.spans, report.rows, strict=True)
        ],
        "total": report.total,
    }
    return data_response(data, params=echo)
