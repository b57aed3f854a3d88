"""Processing on a full disk: the variants cannot be written, and that is not the
media's fault. The job waits (its attempt not counted) and succeeds once space is back.
The storage root is on a small tmpfs; the service runs in the test (ASGI), the worker is
the real ``Runner``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.jobs.runner import FULL_DISK_RETRY, Runner
from app.models import Job, JobState
from app.storage.filesystem import FilesystemStore
from tests.conftest import Env, User
from tests.fixtures.protocol import append, finalize, init, status, upload_file
from tests.fixtures.served import fill, free_space, small_filesystem


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "disk", size_mib=8) as folder:
        yield folder


async def _job(env: Env) -> Job:
    async with env.state.read_sessions() as session:
        [job] = list(await session.scalars(select(Job)))
    return job


def _runner(env: Env, *, later: timedelta) -> Runner:
    return Runner(
        env.state.sessions, env.state.store, env.state.policy, clock=lambda: utcnow() + later
    )


async def test_variants_on_a_full_disk_defer_the_job_and_the_media_stays_pending(
    env: Env, alice: User, disk: Path, gif_file: Path
) -> None:
    env.state.store = FilesystemStore(disk / "media")
    body = await upload_file(
        env.client, alice.headers, gif_file, media_type="image/gif", category="tweet_gif"
    )
    media_id = body["media_id_string"]
    fill(disk, leave=0)

    assert await _runner(env, later=timedelta(0)).run_once()

    info = (await status(env.client, alice.headers, media_id)).json()
    assert info["processing_info"]["state"] in ("pending", "in_progress")
    assert "error" not in info["processing_info"]
    job = await _job(env)
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)  # the attempt is not counted
    assert "StorageFull" in (job.last_error or "")
    step = FULL_DISK_RETRY + timedelta(seconds=1)
    for rounds in range(1, 4):  # as many full-disk rounds as it takes: never failed
        assert await _runner(env, later=rounds * step).run_once()
        assert (await _job(env)).state is JobState.QUEUED
    assert not await _runner(env, later=3 * step).run_once()  # not before its retry

    free_space(disk)
    assert await _runner(env, later=4 * step).run_once()

    info = (await status(env.client, alice.headers, media_id)).json()
    assert info["processing_info"]["state"] == "succeeded"
    assert (await _job(env)).state is JobState.DONE


async def test_a_finalize_that_processes_on_a_full_disk_is_503_and_a_worker_finishes(
    env: Env, alice: User, disk: Path, png_file: Path
) -> None:
    env.state.store = FilesystemStore(disk / "media")
    data = png_file.read_bytes()
    started = await init(env.client, alice.headers, total_bytes=len(data), media_type="image/png")
    media_id = started.json()["media_id_string"]
    assert (await append(env.client, alice.headers, media_id, 0, data)).status_code == 204
    fill(disk, leave=0)

    refused = await finalize(env.client, alice.headers, media_id)  # no category: processed now

    assert refused.status_code == 503, refused.text
    assert refused.json()["errors"][0]["code"] == 130
    assert refused.headers["retry-after"] == "60"
    job = await _job(env)
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)
    free_space(disk)
    assert await _runner(env, later=FULL_DISK_RETRY + timedelta(seconds=1)).run_once()
    assert (await _job(env)).state is JobState.DONE
    again = await finalize(env.client, alice.headers, media_id)
    assert again.status_code in (200, 201), again.text
    assert again.json()["size"] == len(data)
