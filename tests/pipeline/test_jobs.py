from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psutil
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.models import Job, JobState
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import status, upload_file
from tests.pipeline.conftest import runner


async def only_job(env: Env) -> Job:
    async with env.state.read_sessions() as session:
        [job] = list(await session.scalars(select(Job)))
    assert isinstance(job, Job)
    return job


def block_variants_dir(env: Env, media_id: str) -> Path:
    """Put a file where the variants directory goes: every write below it fails, as on
    a broken disk."""
    blocker: Path = disk(env).variants_dir(media_id)
    blocker.write_bytes(b"")
    return blocker


class TestRetries:
    async def test_a_failed_attempt_is_retried_after_backoff(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, animated_gif, media_type="image/gif", category="tweet_gif"
        )
        blocker = block_variants_dir(env, body["media_id_string"])

        assert await runner(env).run_once()
        blocker.unlink()
        assert not await runner(env).run_once()  # backing off
        assert await runner(env, clock=lambda: utcnow() + timedelta(minutes=1)).run_once()

        info = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert info["processing_info"]["state"] == "succeeded"
        job = await only_job(env)
        assert (job.state, job.attempts) == (JobState.DONE, 2)

    async def test_exhausted_retries_fail_the_media_with_internal_error_131(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        env.state.policy = replace(env.state.policy, job_max_attempts=1)
        body = await upload_file(
            env.client, alice.headers, animated_gif, media_type="image/gif", category="tweet_gif"
        )
        block_variants_dir(env, body["media_id_string"])

        assert await runner(env).run_once()

        info = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert info["processing_info"]["state"] == "failed"
        assert info["processing_info"]["error"] == {
            "code": 131,
            "name": "InternalError",
            "message": "processing failed repeatedly",
        }
        assert (await only_job(env)).state is JobState.FAILED


class TestProgress:
    async def test_status_shows_progress_rising_during_a_transcode(
        self, env: Env, alice: User, clip_720p_10s: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, clip_720p_10s, media_type="video/mp4", category="tweet_video"
        )
        media_id = body["media_id_string"]
        seen: list[tuple[str, int | None]] = []
        finished, committed = asyncio.Event(), asyncio.Event()

        def on_commit(_: Session) -> None:  # the runner committed: state or progress moved
            committed.set()

        async def poll() -> None:
            while True:
                await committed.wait()
                committed.clear()
                if finished.is_set():
                    return
                info = (await status(env.client, alice.headers, media_id)).json()
                processing = info["processing_info"]
                seen.append((processing["state"], processing.get("progress_percent")))

        event.listen(Session, "after_commit", on_commit)
        try:
            poller = asyncio.create_task(poll())
            await runner(env).run_once()
            finished.set()
            committed.set()
            await poller
        finally:
            event.remove(Session, "after_commit", on_commit)

        final = (await status(env.client, alice.headers, media_id)).json()["processing_info"]
        assert final == {"state": "succeeded", "progress_percent": 100}
        running = [p or 0 for state, p in seen if state == "in_progress"]
        assert running == sorted(running)  # never goes back
        assert any(0 < p < 100 for p in running), seen


WORKER_ENV = {
    "MEDIASTUDIO_WORKER__LEASE_SECS": "2",
    "MEDIASTUDIO_WORKER__POLL_INTERVAL_SECS": "0.1",
    "MEDIASTUDIO_PROCESSING__FFMPEG_PRESET": "ultrafast",
}


def ffmpeg_running_under(pid: int) -> bool:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for child in children:
        try:
            if "ffmpeg" in child.name():
                return True
        except psutil.NoSuchProcess:  # a short-lived child already gone
            continue
    return False


class TestCrashedWorker:
    async def test_a_job_of_a_killed_worker_is_reclaimed_and_finished(
        self, env: Env, alice: User, clip_720p_10s: Path, tmp_path: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, clip_720p_10s, media_type="video/mp4", category="tweet_video"
        )
        log = (tmp_path / "worker.log").open("wb")
        worker = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "mediastudio"),
            "worker",
            cwd=tmp_path,
            env={
                **os.environ,
                **WORKER_ENV,
                "MEDIASTUDIO_DATABASE_URL": env.database_url,
                "MEDIASTUDIO_DATA_DIR": str(env.data_dir),
            },
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            started = False
            for _ in range(6000):  # generous: a loaded machine starts Python slowly
                # Kill it mid-job: once its ffmpeg runs, or at the latest once it holds
                # the job (a fast machine may finish a transcode between two looks).
                started = ffmpeg_running_under(worker.pid)
                if started or worker.returncode is not None:
                    break
                claimed = await only_job(env)
                if claimed.state is JobState.RUNNING and claimed.attempts >= 1:
                    started = True
                    break
                await asyncio.sleep(0.01)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and its ffmpeg
            await worker.wait()
            log.close()
        assert started, (tmp_path / "worker.log").read_text()[-3000:]
        stranded = await only_job(env)
        assert stranded.state is JobState.RUNNING

        later = runner(env, clock=lambda: utcnow() + timedelta(seconds=30))
        assert await later.run_once()

        info = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert info["processing_info"] == {"state": "succeeded", "progress_percent": 100}
        job = await only_job(env)
        assert (job.state, job.attempts, job.worker) == (JobState.DONE, 2, later.worker_id)
        variants = disk(env).variants_dir(body["media_id_string"])
        assert sorted(p.name for p in variants.iterdir()) == ["pl", "preview.jpg", "vid"]


class TestSharedQueue:
    async def test_two_runners_at_once_take_different_jobs(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        for _ in range(2):
            await upload_file(
                env.client,
                alice.headers,
                animated_gif,
                media_type="image/gif",
                category="tweet_gif",
            )
        first, second = runner(env, worker_id="one"), runner(env, worker_id="two")

        ran = await asyncio.gather(first.run_once(), second.run_once())

        assert list(ran) == [True, True]
        async with env.state.sessions() as session:
            done = list(await session.scalars(select(Job).order_by(Job.id)))
        assert sorted(job.worker or "" for job in done) == ["one", "two"]
        assert [(job.state, job.attempts) for job in done] == [(JobState.DONE, 1)] * 2
