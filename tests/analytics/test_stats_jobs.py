"""Asynchronous stats jobs (§11.2): lifecycle with the worker, the file, the limit."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import timedelta
from typing import Any

from httpx import Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.rollup import run_rollups
from app.core.clock import utcnow
from app.infra.db import make_sessionmaker
from app.jobs.runner import Runner
from app.models.analytics import StatsJob
from tests.analytics.conftest import Analytics
from tests.analytics.test_stats import iso, replayed, stats
from tests.conftest import User
from tests.studio.conftest import ads_error


async def queue(analytics: Analytics, user: User | None = None, **params: Any) -> Response:
    query = {
        "entity": "ORGANIC_TWEET",
        "entity_ids": analytics.post_id,
        "granularity": "TOTAL",
        "metric_groups": "VIDEO,ENGAGEMENT",
        "placement": "ALL_ON_TWITTER",
        "start_time": "2026-01-01T00:00:00Z",
        "end_time": "2026-01-02T00:00:00Z",
        **params,
    }
    return await analytics.env.client.post(
        f"/11/stats/jobs/accounts/{analytics.studio.account_id}",
        params=query,
        headers=(user or analytics.studio.admin).headers,
    )


async def jobs(analytics: Analytics, **params: Any) -> Response:
    return await analytics.env.client.get(
        f"/11/stats/jobs/accounts/{analytics.studio.account_id}",
        params=params,
        headers=analytics.studio.admin.headers,
    )


async def work(analytics: Analytics) -> None:
    state = analytics.env.state
    runner = Runner(state.sessions, state.store, state.policy)
    while await runner.run_once():
        pass


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


async def test_a_job_runs_and_its_file_holds_the_synchronous_answer(
    analytics: Analytics,
) -> None:
    base = await replayed(analytics)
    window: dict[str, Any] = {
        "start_time": iso(base - 3 * 3_600_000),
        "end_time": iso(base + 2 * 3_600_000),
    }
    queued = await queue(analytics, granularity="HOUR", **window)
    assert queued.status_code == 200, queued.text
    job = queued.json()["data"]
    assert job["status"] == "PROCESSING"
    assert job["url"] is None
    assert job["expires_at"] is None
    assert isinstance(job["id"], int)
    assert job["id_str"] == str(job["id"])
    assert job["account_id"] == analytics.studio.account_id
    assert job["entity_ids"] == [analytics.post_id]
    assert job["metric_groups"] == ["VIDEO", "ENGAGEMENT"]
    assert queued.headers["x-concurrent-job-limit"] == "100"
    assert queued.headers["x-concurrent-job-limit-remaining"] == "99"

    listed = await jobs(analytics, job_ids=job["id_str"])
    [still] = listed.json()["data"]
    assert still["status"] == "PROCESSING"
    assert still["url"] is None
    assert listed.headers["x-concurrent-job-limit-remaining"] == "99"

    await work(analytics)
    listed = await jobs(analytics, job_ids=job["id_str"])
    [done] = listed.json()["data"]
    assert done["status"] == "SUCCESS"
    assert done["url"].startswith("http://testserver/advertiser-api-async-analytics/")
    assert done["url"].endswith(".json.gz")
    assert done["expires_at"] is not None
    assert listed.headers["x-concurrent-job-limit-remaining"] == "100"

    fetched = await analytics.env.client.get(path_of(done["url"]))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "application/gzip"
    content = json.loads(gzip.decompress(fetched.content))
    direct = await stats(analytics, granularity="HOUR", metric_groups="VIDEO,ENGAGEMENT", **window)
    assert content == direct.json()
    assert content["time_series_length"] == 5


async def test_ninety_days_and_no_more(analytics: Analytics) -> None:
    assert (
        await queue(analytics, start_time="2026-01-01T00:00:00Z", end_time="2026-04-01T00:00:00Z")
    ).status_code == 200
    status, code, message = ads_error(
        await queue(analytics, start_time="2026-01-01T00:00:00Z", end_time="2026-04-02T02:00:00Z")
    )
    assert (status, code) == (400, "INVALID_TIME_WINDOW")
    assert message == "The end_time can be a maximum of 90.days+1.hours after the start_time"
    status, code, _ = ads_error(await queue(analytics, segmentation_type="AGE"))
    assert (status, code) == (400, "INVALID_PARAMETER")


async def test_the_concurrent_job_limit_holds_under_a_burst(analytics: Analytics) -> None:
    state = analytics.env.state
    state.settings = state.settings.model_copy(
        update={
            "analytics": state.settings.analytics.model_copy(update={"jobs_concurrent_limit": 3})
        }
    )
    answers = await asyncio.gather(*(queue(analytics) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 3 + [400] * 5
    refused = next(a for a in answers if a.status_code == 400)
    assert ads_error(refused) == (
        400,
        "TOO_MANY_JOBS",
        "A maximum of 3 jobs can be in processing state",
    )
    await work(analytics)
    assert (await queue(analytics)).status_code == 200


async def test_cancel_and_expiry(analytics: Analytics, engine: AsyncEngine) -> None:
    first = (await queue(analytics)).json()["data"]
    cancelled = await analytics.env.client.delete(
        f"/11/stats/jobs/accounts/{analytics.studio.account_id}/{first['id_str']}",
        headers=analytics.studio.admin.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["status"] == "CANCELLED"
    second = (await queue(analytics)).json()["data"]
    await work(analytics)
    [done] = (await jobs(analytics, job_ids=second["id_str"])).json()["data"]
    [gone] = (await jobs(analytics, job_ids=first["id_str"])).json()["data"]
    assert gone["status"] == "CANCELLED"
    assert gone["url"] is None
    assert (await analytics.env.client.get(path_of(done["url"]))).status_code == 200

    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(
            update(StatsJob)
            .where(StatsJob.id == done["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await analytics.env.client.get(path_of(done["url"]))).status_code == 404
    state = analytics.env.state
    loop = asyncio.create_task(run_rollups(state.sessions, state.settings.analytics, state.store))
    for _ in range(100):
        [expired] = (await jobs(analytics, job_ids=second["id_str"])).json()["data"]
        if expired["status"] == "EXPIRED":
            break
        await asyncio.sleep(0.05)
    loop.cancel()
    assert expired["status"] == "EXPIRED"
    assert expired["url"] is None
    assert not list(state.store.root.rglob("*.json.gz"))  # type: ignore[attr-defined]


async def test_who_may_queue_and_read_jobs(analytics: Analytics) -> None:
    studio = analytics.studio
    assert (await queue(analytics, studio.full)).status_code == 200
    status, code, _ = ads_error(await queue(analytics, studio.limited))
    assert (status, code) == (403, "ACTION_NOT_ALLOWED")
    status, code, _ = ads_error(await queue(analytics, studio.outsider))
    assert (status, code) == (403, "NOT_FOUND")
    unknown = await analytics.env.client.get(
        "/advertiser-api-async-analytics/" + "A" * 32 + ".json.gz"
    )
    assert unknown.status_code == 404
