"""Asynchronous stats jobs (Ads API §11.2): queued with the request, computed by a worker
(job kind ``stats_job``), written gzipped through the object store, downloadable by an
opaque token until they expire.

Statuses: ``PROCESSING`` (queued or running), ``SUCCESS`` (the file is stored: only then
is ``url`` set), ``FAILED`` (the worker gave up), ``CANCELLED`` (``DELETE``), ``EXPIRED``
(past ``expires_at``: the file is deleted). The last three are this service's choice
(UNCONFIRMED on X, §15).
"""

from __future__ import annotations

import json
import logging
import secrets
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analytics import stats
from app.analytics.buckets import Granularity
from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.jobs.registry import JobDeps
from app.models import StudioAccount
from app.models.analytics import StatsJob
from app.storage import ObjectStore
from app.studio.errors import NotFound, StudioError

__all__ = [
    "KIND",
    "JobView",
    "TooManyJobs",
    "cancel_job",
    "create_job",
    "expire_jobs",
    "find_file",
    "give_up",
    "list_jobs",
    "processing_count",
    "run_job",
]

log = logging.getLogger(__name__)

KIND = "stats_job"
PROCESSING, SUCCESS, FAILED, CANCELLED, EXPIRED = (
    "PROCESSING", "SUCCESS", "FAILED", "CANCELLED", "EXPIRED",
)  # fmt: skip


class TooManyJobs(StudioError):
    ads_code = "TOO_MANY_JOBS"

    def __init__(self, limit: int) -> None:
        super().__init__(f"A maximum of {limit} jobs can be in processing state")


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    account_id: str
    status: str
    params: dict[str, Any]
    token: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None


def _view(row: StatsJob) -> JobView:
    token = row.token if row.status == SUCCESS else None
    return JobView(
        row.id, row.account_id, row.status, dict(row.params), token, row.created_at,
        row.updated_at, row.expires_at,
    )  # fmt: skip


def file_key(job_id: int) -> str:
    return f"analytics/jobs/{job_id}.json.gz"


async def processing_count(session: AsyncSession, account_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(StatsJob)
            .where(StatsJob.account_id == account_id, StatsJob.status == PROCESSING)
        )
        or 0
    )


async def create_job(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    account: stats.StatsAccount,
    user_id: int,
    request: stats.StatsRequest,
    limit: int,
    ttl_secs: int,
    now: datetime,
) -> tuple[JobView, int]:
    """Queues a job (committed); the job and how many more may be queued now. At most
    ``limit`` PROCESSING per account, checked under the account row's lock."""
    async with session.begin():
        await session.execute(
            select(StudioAccount.id).where(StudioAccount.id == account.id).with_for_update()
        )
        running = await processing_count(session, account.id)
        if running >= limit:
            raise TooManyJobs(limit)
        row = StatsJob(
            id=ids.next_id(),
            account_id=account.id,
            user_id=user_id,
            status=PROCESSING,
            params=request.params(),
            start_time=request.start_time,
            end_time=request.end_time,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        queue.enqueue(
            session, kind=KIND, media_id=None, max_attempts=3, now=now,
            payload={"stats_job_id": row.id, "ttl_secs": ttl_secs},
        )  # fmt: skip
        view = _view(row)
    return view, limit - running - 1


async def list_jobs(
    session: AsyncSession,
    account_id: str,
    *,
    job_ids: Sequence[int],
    count: int,
    cursor: int | None,
) -> tuple[list[JobView], int | None]:
    """The account's jobs, newest first (only ``job_ids`` when given); the next cursor."""
    stmt = select(StatsJob).where(StatsJob.account_id == account_id)
    if job_ids:
        stmt = stmt.where(StatsJob.id.in_(list(job_ids)))
    if cursor is not None:
        stmt = stmt.where(StatsJob.id < cursor)
    rows = list(
        (await session.execute(stmt.order_by(StatsJob.id.desc()).limit(count + 1))).scalars()
    )
    more = len(rows) > count
    rows = rows[:count]
    return [_view(r) for r in rows], rows[-1].id if more and rows else None


async def cancel_job(session: AsyncSession, account_id: str, job_id: int, now: datetime) -> JobView:
    async with session.begin():
        row = (
            await session.execute(
                select(StatsJob)
                .where(StatsJob.id == job_id, StatsJob.account_id == account_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"Job {job_id} was not found for Account {account_id}")
        if row.status == PROCESSING:
            row.status, row.updated_at = CANCELLED, now
        view = _view(row)
    return view


def _request(params: dict[str, Any]) -> stats.StatsRequest:
    def when(raw: str) -> datetime:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    return stats.StatsRequest(
        entity=params["entity"],
        entity_ids=tuple(params["entity_ids"]),
        start_time=when(params["start_time"]),
        end_time=when(params["end_time"]),
        granularity=Granularity(params["granularity"]),
        placement=params["placement"],
        metric_groups=tuple(params["metric_groups"]),
        segmentation_type=params.get("segmentation_type"),
        country=params.get("country"),
        platform=params.get("platform"),
    )


async def _gzipped(document: dict[str, Any]) -> AsyncIterator[bytes]:
    """``document`` as gzip, encoded and compressed piece by piece."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    pending: list[bytes] = []
    size = 0
    for piece in json.JSONEncoder(separators=(",", ":")).iterencode(document):
        out = packer.compress(piece.encode())
        if out:
            pending.append(out)
            size += len(out)
        if size >= 64 * 1024:
            yield b"".join(pending)
            pending, size = [], 0
    pending.append(packer.flush())
    yield b"".join(pending)


async def run_job(deps: JobDeps, job: ClaimedJob) -> None:
    """Computes and stores one job's file, then marks it SUCCESS (in that order: a
    client never sees a ``url`` before its file exists)."""
    job_id = int(job.payload["stats_job_id"])
    ttl = timedelta(seconds=int(job.payload.get("ttl_secs", 172_800)))
    async with deps.sessions() as session:
        row = await session.get(StatsJob, job_id)
        if row is None or row.status != PROCESSING:
            return  # cancelled, or gone with its account
        account = await session.get(StudioAccount, row.account_id)
        if account is None:
            return
        body = await stats.compute(
            session,
            stats.StatsAccount(account.id, account.timezone, account.owner_id),
            _request(dict(row.params)),
        )
    key = file_key(job_id)
    await deps.store.put(key, _gzipped(body), content_type="application/gzip")
    now = utcnow()
    async with deps.sessions() as session, session.begin():
        done = await session.execute(
            update(StatsJob)
            .where(StatsJob.id == job_id, StatsJob.status == PROCESSING)
            .values(
                status=SUCCESS, file_key=key, token=secrets.token_urlsafe(24),
                updated_at=now, expires_at=now + ttl,
            )
        )  # fmt: skip
    if not getattr(done, "rowcount", 1):
        await deps.store.delete(key)  # cancelled meanwhile


async def give_up(deps: JobDeps, job: ClaimedJob) -> None:
    now = utcnow()
    async with deps.sessions() as session, session.begin():
        await session.execute(
            update(StatsJob)
            .where(StatsJob.id == int(job.payload["stats_job_id"]), StatsJob.status == PROCESSING)
            .values(status=FAILED, updated_at=now, error="the worker gave up")
        )


async def find_file(session: AsyncSession, token: str, now: datetime) -> str | None:
    """The storage key of a ready, unexpired job file."""
    row = (
        await session.execute(
            select(StatsJob.file_key, StatsJob.expires_at).where(
                StatsJob.token == token, StatsJob.status == SUCCESS
            )
        )
    ).first()
    if row is None or row[0] is None or (row[1] is not None and row[1] <= now):
        return None
    return str(row[0])


async def expire_jobs(
    sessions: async_sessionmaker[AsyncSession], store: ObjectStore, now: datetime
) -> int:
    """Deletes the files of jobs past ``expires_at`` (through the store) and marks the
    jobs EXPIRED; how many."""
    async with sessions() as session:
        due = list(
            (
                await session.execute(
                    select(StatsJob.id, StatsJob.file_key)
                    .where(StatsJob.status == SUCCESS, StatsJob.expires_at <= now)
                    .limit(500)
                )
            ).all()
        )
    for job_id, key in due:
        async with sessions() as session, session.begin():
            await session.execute(
                update(StatsJob)
                .where(StatsJob.id == job_id, StatsJob.status == SUCCESS)
                .values(status=EXPIRED, token=None, file_key=None, updated_at=now)
            )
        if key:
            await store.delete(key)
    return len(due)
