from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from app.core.clock import utcnow
from app.jobs import queue as jobs
from app.jobs.handlers import default_registry
from app.jobs.registry import JobDeps
from app.jobs.runner import Runner
from app.models import Job, JobState
from tests.conftest import Env, User
from tests.fixtures.protocol import status, upload_file


async def _crash(deps: JobDeps, job: jobs.ClaimedJob) -> None:
    raise RuntimeError("this handler always fails")


class TestJobQueue:
    async def test_finalize_inserts_one_durable_job(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )

        async with env.state.sessions() as session:
            rows = list(await session.scalars(select(Job)))

        assert len(rows) == 1
        assert rows[0].media_id == body["media_id"]
        assert rows[0].state is JobState.QUEUED

    async def test_a_claimed_job_is_not_claimed_twice_until_its_lease_runs_out(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )
        now = utcnow()
        lease = timedelta(seconds=30)

        first = await jobs.claim_next(env.state.sessions, worker="a", lease=lease, now=now)
        second = await jobs.claim_next(env.state.sessions, worker="b", lease=lease, now=now)
        reclaimed = await jobs.claim_next(
            env.state.sessions, worker="b", lease=lease, now=now + lease + timedelta(seconds=1)
        )

        assert first is not None
        assert second is None
        assert reclaimed is not None
        assert reclaimed.id == first.id
        assert reclaimed.attempts == 2
        assert not await jobs.heartbeat(env.state.sessions, first.id, worker="a", until=now)

    async def test_a_job_that_keeps_failing_ends_failed_with_internal_error(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )
        clock_at = [utcnow()]
        registry = default_registry()  # a kind that always crashes, giving up as processing does
        processing = registry.get(jobs.PROCESS_MEDIA)
        assert processing is not None
        registry.register("crashes", _crash, give_up=processing.give_up)
        async with env.state.sessions() as session:  # swap the real job for one that crashes
            await session.execute(delete(Job))
            jobs.enqueue(
                session, kind="crashes", media_id=body["media_id"], max_attempts=3,
                now=clock_at[0],
            )  # fmt: skip
            await session.commit()
        runner = Runner(
            env.state.sessions, env.state.store, env.state.policy, registry=registry,
            clock=lambda: clock_at[0],
        )  # fmt: skip

        for _ in range(3):
            assert await runner.run_once()
            clock_at[0] += timedelta(minutes=5)  # past the retry back-off
        info = (await status(env.client, alice.headers, body["media_id"])).json()

        assert not await runner.run_once()
        assert info["processing_info"]["state"] == "failed"
        assert info["processing_info"]["error"]["name"] == "InternalError"
