"""users list/revoke/rotate-token, apps list, jobs list/retry and sweep, through the real
console script; revocation and rotation checked against a real server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.jobs import queue
from app.jobs.runner import Runner
from app.models import Job, JobState, Media
from app.processing import service as processing
from app.processing.errors import InternalError, InvalidMedia
from app.uploads.protocol import UploadState
from tests.cli.conftest import Cli, assert_one_line_mistake
from tests.conftest import Env, User
from tests.fixtures.protocol import init, upload_file
from tests.fixtures.served import Served

VERIFY = "/1.1/account/verify_credentials.json"


def test_users_list_shows_every_user_and_its_tokens(cli: Cli) -> None:
    cli.ok("users", "create", "alice")
    cli.ok("users", "create", "bob")

    listed = cli.json("users", "list")
    table = cli.ok("users", "list")

    assert [(u["screen_name"], u["bearer_tokens"], u["access_tokens"]) for u in listed] == [
        ("alice", 1, 1),
        ("bob", 1, 1),
    ]
    assert table.splitlines()[0].split() == [
        "user_id", "screen_name", "created_at", "bearer_tokens", "access_tokens",
    ]  # fmt: skip
    assert "bob" in table.splitlines()[2]


def test_apps_list_names_apps_without_secrets(cli: Cli) -> None:
    made = cli.json("apps", "create", "tweetdeck")

    listed = cli.json("apps", "list")

    assert [(a["name"], a["consumer_key"]) for a in listed] == [("tweetdeck", made["consumer_key"])]
    assert made["consumer_secret"] not in cli.ok("apps", "list")


def test_revoke_and_rotate_against_a_served_app(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    served = Served(
        Path(cli.env["MEDIASTUDIO_DATA_DIR"]), database_url, tmp_path / "server.log",
        bearer_cache_secs="0", worker__in_process="false",
    )  # fmt: skip
    served.start()
    try:
        first = cli.json("users", "create", "alice")
        old = {"Authorization": f"Bearer {first['bearer_token']}"}
        assert httpx.get(served.base + VERIFY, headers=old).json()["screen_name"] == "alice"

        rotated = cli.json("users", "rotate-token", "alice")
        new = {"Authorization": f"Bearer {rotated['bearer_token']}"}

        assert rotated["user_id"] == first["user_id"]
        assert rotated["access_token"] != first["access_token"]
        assert httpx.get(served.base + VERIFY, headers=old).status_code == 401
        assert httpx.get(served.base + VERIFY, headers=new).status_code == 200

        assert cli.ok("users", "revoke", "alice").strip() == "revoked 2 tokens of alice"
        assert httpx.get(served.base + VERIFY, headers=new).status_code == 401
        assert cli.json("users", "list")[0]["bearer_tokens"] == 0
    finally:
        served.stop()


async def _failed_video_job(env: Env, user: User, mp4: Path, error: Exception) -> int:
    """An uploaded video whose processing job failed with ``error``."""
    body = await upload_file(
        env.client, user.headers, mp4, media_type="video/mp4", category="tweet_video"
    )
    media_id = int(body["media_id_string"])
    async with env.state.sessions() as session:
        job_id = await session.scalar(select(Job.id).where(Job.media_id == media_id))
    assert job_id is not None
    await queue.fail(env.state.sessions, job_id, error=repr(error), now=utcnow())
    assert isinstance(error, InternalError | InvalidMedia)
    await processing.mark_failed(env.state.sessions, env.state.store, media_id, error)
    return job_id


def _cli_for(cli: Cli, env: Env) -> Cli:
    cli.env["MEDIASTUDIO_DATA_DIR"] = str(env.data_dir)
    return cli


async def test_jobs_list_and_retry_reprocess_a_media(
    cli: Cli, env: Env, alice: User, mp4_file: Path
) -> None:
    cli = _cli_for(cli, env)
    job_id = await _failed_video_job(env, alice, mp4_file, InternalError("ffmpeg vanished"))

    [listed] = cli.json("jobs", "list", "--state", "failed")
    assert (listed["id"], listed["kind"], listed["state"]) == (job_id, "process_media", "failed")
    assert "ffmpeg vanished" in cli.ok("jobs", "list")

    assert (
        cli.ok("jobs", "retry", str(job_id)).strip() == f"job {job_id} (process_media) queued again"
    )

    async with env.state.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert (job.state, job.attempts) == (JobState.QUEUED, 0)
        media = await session.get(Media, job.media_id)
        assert media is not None
        assert media.state == UploadState.PENDING
    runner = Runner(env.state.sessions, env.state.store, env.state.policy)
    assert await runner.run_once()
    async with env.state.sessions() as session:
        media = await session.get(Media, job.media_id)
        assert media is not None
        assert media.state == UploadState.SUCCEEDED
    assert cli.json("jobs", "list", "--state", "failed") == []


async def test_a_job_whose_file_is_at_fault_is_not_retried(
    cli: Cli, env: Env, alice: User, mp4_file: Path
) -> None:
    cli = _cli_for(cli, env)
    job_id = await _failed_video_job(env, alice, mp4_file, InvalidMedia("truncated"))

    assert_one_line_mistake(cli.run("jobs", "retry", str(job_id)), "failed for good")

    async with env.state.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.state == JobState.FAILED  # rolled back


async def test_only_a_failed_job_is_retried(
    cli: Cli, env: Env, alice: User, mp4_file: Path
) -> None:
    cli = _cli_for(cli, env)
    body = await upload_file(
        env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
    )
    async with env.state.sessions() as session:
        job_id = await session.scalar(
            select(Job.id).where(Job.media_id == int(body["media_id_string"]))
        )

    assert_one_line_mistake(cli.run("jobs", "retry", str(job_id)), "is queued, not failed")


async def _expired_upload(env: Env, user: User, engine: AsyncEngine) -> int:
    started = await init(env.client, user.headers, total_bytes=1000, media_type="video/mp4")
    media_id = int(started.json()["media_id_string"])
    async with engine.begin() as conn:
        await conn.execute(
            update(Media).where(Media.id == media_id).values(expires_at=utcnow() - timedelta(1))
        )
    return media_id


async def test_sweep_removes_what_expired(
    cli: Cli, env: Env, alice: User, engine: AsyncEngine
) -> None:
    cli = _cli_for(cli, env)
    media_id = await _expired_upload(env, alice, engine)

    out = cli.ok("sweep")

    assert out.startswith("removed 1 expired media and ")
    async with env.state.sessions() as session:
        assert await session.get(Media, media_id) is None
