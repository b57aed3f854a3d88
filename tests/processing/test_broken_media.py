"""Broken media fail at once as ``InvalidMedia`` (code 1), shown by STATUS on v1.1 and
v2; only failures of the machine (here: storage losing the blob) are retried.

Real uploads over HTTP, real broken files made from real clips, real ffmpeg, attempts
counted in the jobs table."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from app.core.clock import utcnow
from app.models import Job, JobState
from app.processing import failures
from app.processing.errors import InternalError, InvalidMedia
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.media import make_clip
from tests.fixtures.protocol import append, finalize, init, status, upload_file
from tests.pipeline.conftest import FAST, runner

LATER = timedelta(hours=1)


@pytest.fixture
async def env(env: Env) -> Env:
    env.state.policy = replace(env.state.policy, processing=FAST, job_max_attempts=3)
    return env


@pytest.fixture(scope="session")
def broken_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("broken-media")


def _first(path: Path, out: Path, share: float) -> Path:
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * share)])
    return out


@pytest.fixture(scope="session")
def faststart_clip(broken_dir: Path) -> Path:
    """2 s of 640x360 with its moov first, as phones and web encoders write it."""
    extra = ("-movflags", "+faststart")
    return make_clip(broken_dir / "fast.mp4", size="640x360", rate=30, seconds=2, extra=extra)


@pytest.fixture(scope="session")
def truncated_mp4(faststart_clip: Path, broken_dir: Path) -> Path:
    """Its first 30%: the moov is intact, most of the mdat is gone."""
    return _first(faststart_clip, broken_dir / "truncated.mp4", 0.3)


@pytest.fixture(scope="session")
def truncated_mp4_moov_at_end(broken_dir: Path) -> Path:
    clip = make_clip(broken_dir / "late.mp4", size="320x240", rate=30, seconds=2)
    return _first(clip, broken_dir / "truncated-late.mp4", 0.3)


@pytest.fixture(scope="session")
def corrupt_moov_mp4(faststart_clip: Path, broken_dir: Path) -> Path:
    """The moov box's contents overwritten with zeros (its size and name kept)."""
    data = bytearray(faststart_clip.read_bytes())
    start = data.find(b"moov") + 4
    data[start : start + 600] = bytes(600)
    path = broken_dir / "corrupt-moov.mp4"
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="session")
def truncated_gif(broken_dir: Path) -> Path:
    frames = [Image.new("RGB", (121, 91), (i * 25, 0, 255 - i * 25)) for i in range(10)]
    whole = broken_dir / "anim.gif"
    frames[0].save(whole, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return _first(whole, broken_dir / "truncated.gif", 0.3)


def _truncated_still(broken_dir: Path, fmt: str) -> Path:
    whole = broken_dir / f"still.{fmt}"
    image = Image.effect_noise((300, 200), 64).convert("RGB")
    image.save(whole, "PNG" if fmt == "png" else "JPEG")
    return _first(whole, broken_dir / f"truncated.{fmt}", 0.3)


async def _jobs(env: Env) -> list[Job]:
    async with env.state.read_sessions() as session:
        return list(await session.scalars(select(Job).order_by(Job.id)))


async def _status_v2(env: Env, user: User, media_id: str) -> dict[str, Any]:
    answer = await env.client.get(
        "/2/media/upload", params={"command": "STATUS", "media_id": media_id}, headers=user.headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()["data"]
    return body


ASYNC_BROKEN = [
    ("truncated_mp4", "video/mp4", "tweet_video", failures.INVALID_VIDEO),
    ("truncated_mp4_moov_at_end", "video/mp4", "tweet_video", None),
    ("corrupt_moov_mp4", "video/mp4", "tweet_video", None),
    ("truncated_gif", "image/gif", "tweet_gif", failures.INVALID_FILE),
]


class TestBrokenMediaFailAtOnce:
    @pytest.mark.parametrize(("fixture", "media_type", "category", "message"), ASYNC_BROKEN)
    async def test_async_upload_fails_after_one_attempt_with_invalid_media(
        self,
        env: Env,
        alice: User,
        request: pytest.FixtureRequest,
        fixture: str,
        media_type: str,
        category: str,
        message: str | None,
    ) -> None:
        path: Path = request.getfixturevalue(fixture)
        body = await upload_file(
            env.client, alice.headers, path, media_type=media_type, category=category
        )
        media_id = body["media_id_string"]

        assert await runner(env).run_once()
        assert not await runner(env, clock=lambda: utcnow() + LATER).run_once()  # no retry

        v11 = (await status(env.client, alice.headers, media_id)).json()["processing_info"]
        v2 = (await _status_v2(env, alice, media_id))["processing_info"]
        for info in (v11, v2):
            assert info["state"] == "failed"
            assert (info["error"]["code"], info["error"]["name"]) == (1, "InvalidMedia")
            assert info["error"]["message"].startswith(message or "Unsupported video format")
        [job] = await _jobs(env)
        assert (job.state, job.attempts) == (JobState.FAILED, 1)
        assert job.last_error is not None
        assert "InvalidMedia" in job.last_error

    async def test_random_bytes_named_mp4_are_refused_at_their_first_append(
        self, env: Env, alice: User
    ) -> None:
        data = os.urandom(200_000)
        started = await init(
            env.client,
            alice.headers,
            total_bytes=len(data),
            media_type="video/mp4",
            category="tweet_video",
        )
        media_id = started.json()["media_id_string"]

        appended = await append(env.client, alice.headers, media_id, 0, data)

        assert appended.status_code == 400, appended.text
        assert "does not match media_type video/mp4" in appended.json()["error"]
        assert (await finalize(env.client, alice.headers, media_id)).status_code == 400
        assert await _jobs(env) == []  # nothing was ever attempted

    @pytest.mark.parametrize("fmt", ["png", "jpg"])
    async def test_truncated_still_fails_in_one_attempt_and_finalize_says_so(
        self, env: Env, alice: User, broken_dir: Path, fmt: str
    ) -> None:
        path = _truncated_still(broken_dir, fmt)
        data = path.read_bytes()
        media_type = "image/png" if fmt == "png" else "image/jpeg"
        started = await init(
            env.client,
            alice.headers,
            total_bytes=len(data),
            media_type=media_type,
            category="tweet_image",
        )
        media_id = started.json()["media_id_string"]
        assert (await append(env.client, alice.headers, media_id, 0, data)).is_success

        done = await finalize(env.client, alice.headers, media_id)

        assert done.status_code == 400, done.text
        message = done.json()["error"].lower()  # the upload endpoints' error shape
        assert "invalid" in message or "truncated" in message
        assert all(job.attempts <= 1 for job in await _jobs(env))
        assert not await runner(env, clock=lambda: utcnow() + LATER).run_once()


class TestTransientFailuresAreRetried:
    async def test_a_blob_missing_from_storage_once_is_retried_and_succeeds(
        self, env: Env, alice: User, faststart_clip: Path, tmp_path: Path
    ) -> None:
        body = await upload_file(
            env.client,
            alice.headers,
            faststart_clip,
            media_type="video/mp4",
            category="tweet_video",
        )
        media_id = body["media_id_string"]
        blob = disk(env).blob_path(media_id)
        aside = tmp_path / "blob"
        blob.rename(aside)  # storage cannot produce the file: not the file's fault

        assert await runner(env).run_once()
        [job] = await _jobs(env)
        assert (job.state, job.attempts) == (JobState.QUEUED, 1)
        info = (await status(env.client, alice.headers, media_id)).json()["processing_info"]
        assert info["state"] != "failed"
        assert "error" not in info

        aside.rename(blob)
        assert await runner(env, clock=lambda: utcnow() + LATER).run_once()

        info = (await status(env.client, alice.headers, media_id)).json()["processing_info"]
        assert info["state"] == "succeeded"
        [job] = await _jobs(env)
        assert (job.state, job.attempts) == (JobState.DONE, 2)


class TestWhoseFault:
    """The pure rule, fed with what the real ffmpeg and Pillow say."""

    async def test_truncated_mp4_log_is_the_input_s_fault_even_with_exit_0(
        self, truncated_mp4: Path
    ) -> None:
        log = _ffmpeg_log("-i", str(truncated_mp4), "-f", "null", "-")
        assert log.returncode == 0
        assert log.stderr
        failure = failures.ffmpeg_failure(log.returncode, log.stderr, reads_input=True)
        assert isinstance(failure, InvalidMedia)

    async def test_clean_decode_is_nobody_s_fault(self, faststart_clip: Path) -> None:
        log = _ffmpeg_log("-i", str(faststart_clip), "-f", "null", "-")
        assert failures.ffmpeg_failure(log.returncode, log.stderr, reads_input=True) is None

    async def test_an_unwritable_output_is_ours_even_while_decoding(
        self, faststart_clip: Path, tmp_path: Path
    ) -> None:
        gone = tmp_path / "deleted-scratch" / "out.mp4"  # a scratch folder removed mid-run
        log = _ffmpeg_log("-i", str(faststart_clip), "-t", "0.2", str(gone))
        assert log.returncode != 0
        failure = failures.ffmpeg_failure(log.returncode, log.stderr, reads_input=True)
        assert isinstance(failure, InternalError)
        assert not failure.permanent

    async def test_a_killed_ffmpeg_is_ours(self) -> None:
        failure = failures.ffmpeg_failure(-9, "", reads_input=True)
        assert isinstance(failure, InternalError)

    async def test_a_later_step_failing_is_ours(self) -> None:
        failure = failures.ffmpeg_failure(1, "Conversion failed!", reads_input=False)
        assert isinstance(failure, InternalError)

    async def test_pillow_truncation_is_the_input_s_fault_an_errno_is_ours(
        self, broken_dir: Path, tmp_path: Path
    ) -> None:
        image = Image.open(_truncated_still(broken_dir, "png"))
        with pytest.raises(OSError, match="truncated") as truncated:
            image.load()
        image.close()
        with pytest.raises(FileNotFoundError) as missing:
            Image.open(tmp_path / "missing.png")

        assert isinstance(failures.decode_exception(truncated.value), InvalidMedia)
        assert isinstance(failures.decode_exception(missing.value), InternalError)


def _ffmpeg_log(*args: str) -> Any:
    import subprocess

    from tests.fixtures.media import FFMPEG

    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)
