"""The job registry: the runner runs a job by its kind's registered handler, and fails a
job of a kind nobody registered at once (logged, never retried)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.analytics import stats_jobs
from app.core.clock import utcnow
from app.jobs import queue as jobs
from app.jobs.handlers import default_registry
from app.jobs.registry import JobDeps, JobRegistry
from app.jobs.runner import Runner
from app.live import hooks as live_hooks
from app.models import Job, JobState
from tests.conftest import Env


async def _enqueue(env: Env, kind: str) -> int:
    async with env.state.sessions() as session:
        jobs.enqueue(session, kind=kind, media_id=None, max_attempts=3, now=utcnow())
        await session.commit()
        job_id = await session.scalar(select(Job.id).where(Job.kind == kind))
    assert job_id is not None
    return job_id


async def _job(env: Env, job_id: int) -> Job:
    async with env.state.sessions() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


def _runner(env: Env, registry: JobRegistry) -> Runner:
    # A clock past any retry backoff: a job put back in the queue would be claimed again.
    later = utcnow() + timedelta(hours=1)
    return Runner(
        env.state.sessions, env.state.store, env.state.policy, registry=registry,
        clock=lambda: later,
    )  # fmt: skip


class TestRegistry:
    def test_the_service_registers_its_job_kinds(self) -> None:
        assert default_registry().kinds == {jobs.PROCESS_MEDIA, stats_jobs.KIND, live_hooks.KIND}

    def test_a_kind_is_registered_once(self) -> None:
        registry = JobRegistry()

        async def handler(deps: JobDeps, job: jobs.ClaimedJob) -> None: ...

        registry.register("thumbnail", handler)

        with pytest.raises(ValueError, match="thumbnail"):
            registry.register("thumbnail", handler)


class TestRunner:
    async def test_a_registered_kind_runs_its_handler(self, env: Env) -> None:
        ran: list[tuple[int, str]] = []

        async def record(deps: JobDeps, job: jobs.ClaimedJob) -> None:
            assert deps.sessions is env.state.sessions
            ran.append((job.id, job.kind))

        registry = JobRegistry()
        registry.register("record", record)
        job_id = await _enqueue(env, "record")
        runner = _runner(env, registry)

        assert await runner.run_once()
        assert not await runner.run_once()
        job = await _job(env, job_id)
        assert ran == [(job_id, "record")]
        assert job.state is JobState.DONE

    async def test_an_unknown_kind_fails_at_once_and_is_logged(
        self, env: Env, caplog: pytest.LogCaptureFixture
    ) -> None:
        job_id = await _enqueue(env, "no-such-kind")
        runner = _runner(env, default_registry())

        with caplog.at_level(logging.ERROR, logger="app.jobs.runner"):
            assert await runner.run_once()
        again = await runner.run_once()
        job = await _job(env, job_id)

        assert not again  # failed for good, not re-queued: no crash loop
        assert job.state is JobState.FAILED
        assert job.attempts == 1
        assert job.last_error == "no handler for job kind 'no-such-kind'"
        assert [r.getMessage() for r in caplog.records] == ["job kind unknown"]
        assert caplog.records[0].kind == "no-such-kind"  # type: ignore[attr-defined]

    async def test_a_failing_handler_gives_up_once_its_attempts_run_out(self, env: Env) -> None:
        gave_up: list[int] = []

        async def crash(deps: JobDeps, job: jobs.ClaimedJob) -> None:
            raise RuntimeError("always")

        async def give_up(deps: JobDeps, job: jobs.ClaimedJob) -> None:
            gave_up.append(job.attempts)

        registry = JobRegistry()
        registry.register("crash", crash, give_up=give_up)
        job_id = await _enqueue(env, "crash")
        clock_at = [utcnow()]
        runner = Runner(
            env.state.sessions, env.state.store, env.state.policy, registry=registry,
            clock=lambda: clock_at[0],
        )  # fmt: skip

        for _ in range(3):
            assert await runner.run_once()
            clock_at[0] += timedelta(minutes=5)  # past the retry backoff
        job = await _job(env, job_id)

        assert not await runner.run_once()
        assert gave_up == [3]
        assert job.state is JobState.FAILED
        assert job.last_error == "RuntimeError('always')"
