"""``POST/GET /11/stats/jobs/accounts/:account_id`` and ``DELETE .../:job_id``:
asynchronous stats jobs (§11.2, app/analytics/stats_jobs.py), and the download of their
gzip files (``files``: ``/advertiser-api-async-analytics/<token>.json.gz``, outside the
versioned paths; the token is the secret, as on ton.twimg.com)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response, StreamingResponse

from app.analytics import stats_jobs as service
from app.analytics.stats import wire_time
from app.http.deps import ClockDep, ContextDep, IdsDep, ReadSessionDep, SessionDep, StoreDep
from app.http.studio.deps import AccountIdPath, ParamsDep, studio_access
from app.http.studio.envelope import data_response
from app.http.studio.params import AdsParams, count
from app.http.studio.stats import STATS_PARAMETERS, stats_account
from app.http.studio.stats_params import SEGMENTATION_TYPES, StatsLimits, parse_stats
from app.http.urls import base_url
from app.schemas import openapi as oa
from app.studio import errors
from app.studio.access import Access
from app.studio.permissions import Action

__all__ = ["FILES_PATH", "files", "router"]

router = APIRouter(tags=["studio-analytics"])
files = APIRouter(tags=["studio-analytics"])

FILES_PATH = "/advertiser-api-async-analytics"
JOB_LIMITS = StatsLimits(days=90, segmented_days=45)
_JOB_IDS_MAX = 200
_ID = re.compile(r"^[0-9]{1,19}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_JOB: dict[str, Any] = {"type": "object", "required": ["id", "id_str", "status", "url"]}
_LIMIT_HEADERS = {
    "x-concurrent-job-limit": {
        "description": "jobs this account may have PROCESSING at once",
        "schema": {"type": "string"},
    },
    "x-concurrent-job-limit-remaining": {
        "description": "how many more it may queue now",
        "schema": {"type": "string"},
    },
}
JobIdPath = Annotated[str, Path(description="a job id", pattern="^[0-9]{1,19}$")]


def _job(request: Request, view: service.JobView) -> dict[str, Any]:
    params = view.params
    url = f"{base_url(request)}{FILES_PATH}/{view.token}.json.gz" if view.token else None
    return {
        "start_time": params["start_time"],
        "end_time": params["end_time"],
        "segmentation_type": params.get("segmentation_type"),
        "url": url,
        "id_str": str(view.id),
        "entity_ids": params["entity_ids"],
        "country": params.get("country"),
        "placement": params["placement"],
        "expires_at": _time(view.expires_at) if view.token else None,
        "account_id": view.account_id,
        "status": view.status,
        "granularity": params["granularity"],
        "entity": params["entity"],
        "created_at": _time(view.created_at),
        "platform": params.get("platform"),
        "updated_at": _time(view.updated_at),
        "metric_groups": params["metric_groups"],
        "id": view.id,
    }


def _time(moment: datetime | None) -> str | None:
    return wire_time(moment) if moment is not None else None


def _limit_headers(limit: int, remaining: int) -> dict[str, str]:
    return {
        "x-concurrent-job-limit": str(limit),
        "x-concurrent-job-limit-remaining": str(max(0, remaining)),
    }


def _job_ids(params: AdsParams) -> list[int]:
    raw = params.many("job_ids")
    if len(raw) > _JOB_IDS_MAX:
        raise errors.InvalidParameter("job_ids", f"job_ids takes at most {_JOB_IDS_MAX} ids")
    for item in raw:
        if not _ID.match(item) or int(item) >= 2**63:
            raise errors.InvalidParameter("job_ids", f"Invalid job id {item!r}")
    return [int(item) for item in raw]


@router.post(
    "/stats/jobs/accounts/{account_id}",
    operation_id="studio-stats-job-create",
    responses={
        200: {
            "description": "the job, `PROCESSING`, `url` null",
            "headers": _LIMIT_HEADERS,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    openapi_extra={
        "parameters": [
            *STATS_PARAMETERS,
            oa.query("segmentation_type", {"type": "string", "enum": list(SEGMENTATION_TYPES)}),
            oa.query("country", {"type": "string", "maxLength": 64}),
            oa.query("platform", {"type": "string", "maxLength": 64}),
        ]
    },
)
async def create_job(
    request: Request,
    access: Annotated[Access, studio_access(Action.VIEW_ANALYTICS)],
    params: ParamsDep,
    session: SessionDep,
    context: ContextDep,
    ids: IdsDep,
    clock: ClockDep,
    account_id: AccountIdPath,
) -> Response:
    """Queue a stats job (the synchronous parameters; up to 90 days; segmentation is not
    measured by this service). A worker computes it; poll `GET` until `SUCCESS`, then
    download `url` (gzip JSON with the synchronous answer's schema)."""
    stats_request = parse_stats(params, timezone=access.account.timezone, limits=JOB_LIMITS)
    settings = context.settings.analytics
    view, remaining = await service.create_job(
        session,
        ids,
        account=stats_account(access),
        user_id=access.user_id,
        request=stats_request,
        limit=settings.jobs_concurrent_limit,
        ttl_secs=settings.job_file_ttl_secs,
        now=clock(),
    )
    response = data_response(_job(request, view), params=stats_request.params())
    response.headers.update(_limit_headers(settings.jobs_concurrent_limit, remaining))
    return response


@router.get(
    "/stats/jobs/accounts/{account_id}",
    operation_id="studio-stats-job-list",
    responses={
        200: {
            "description": "the account's jobs, newest first",
            "headers": _LIMIT_HEADERS,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    openapi_extra={
        "parameters": [
            oa.query("job_ids", {"type": "string", "pattern": "^[0-9]{1,19}(,[0-9]{1,19})*$"}),
            oa.query("count", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}),
            oa.query("cursor", {"type": "string", "pattern": "^[0-9]{1,19}$"}),
        ]
    },
)
async def list_jobs(
    request: Request,
    access: Annotated[Access, studio_access(Action.VIEW_ANALYTICS)],
    params: ParamsDep,
    session: ReadSessionDep,
    context: ContextDep,
    account_id: AccountIdPath,
) -> Response:
    """The account's jobs (`job_ids`: only those, up to 200); `next_cursor` pages on."""
    job_ids = _job_ids(params)
    size = count(params, default=200, high=1000)
    raw_cursor = params.one("cursor")
    if raw_cursor and (not _ID.match(raw_cursor) or int(raw_cursor) >= 2**63):
        raise errors.InvalidParameter("cursor", "Invalid cursor")
    views, next_cursor = await service.list_jobs(
        session,
        access.account.id,
        job_ids=job_ids,
        count=size,
        cursor=int(raw_cursor) if raw_cursor else None,
    )
    limit = context.settings.analytics.jobs_concurrent_limit
    running = await service.processing_count(session, access.account.id)
    response = data_response(
        [_job(request, v) for v in views],
        params={"account_id": account_id, "count": size},
        next_cursor=str(next_cursor) if next_cursor is not None else None,
    )
    response.headers.update(_limit_headers(limit, limit - running))
    return response


@router.delete(
    "/stats/jobs/accounts/{account_id}/{job_id}",
    operation_id="studio-stats-job-cancel",
    responses={200: {"description": "the job, `CANCELLED` if it was still processing"}},
)
async def cancel_job(
    request: Request,
    access: Annotated[Access, studio_access(Action.VIEW_ANALYTICS)],
    session: SessionDep,
    clock: ClockDep,
    account_id: AccountIdPath,
    job_id: JobIdPath,
) -> Response:
    """Cancel a job (our choice of contract: X's is UNCONFIRMED)."""
    if int(job_id) >= 2**63:
        raise errors.NotFound(f"Job {job_id} was not found for Account {account_id}")
    view = await service.cancel_job(session, access.account.id, int(job_id), clock())
    return data_response(_job(request, view))


@files.get(
    FILES_PATH + "/{name}",
    operation_id="studio-stats-job-file",
    response_class=Response,
    responses={
        200: {"description": "the job's gzip JSON", "content": {"application/gzip": {}}},
    },
)
async def job_file(
    name: Annotated[str, Path(description="`<token>.json.gz`")],
    session: ReadSessionDep,
    store: StoreDep,
    clock: ClockDep,
) -> Response:
    """A finished job's file (`Content-Type: application/gzip`, which the `twitter-ads`
    SDK needs to gunzip it); 404 once expired."""
    token = name.removesuffix(".json.gz")
    if token == name or not _TOKEN.match(token):
        raise errors.NotFound("No such file")
    key = await service.find_file(session, token, clock())
    if key is None:
        raise errors.NotFound("No such file")
    info = await store.stat(key)
    return StreamingResponse(
        store.read(key),
        media_type="application/gzip",
        headers={"content-length": str(info.size), "cache-control": "private, max-age=60"},
    )
