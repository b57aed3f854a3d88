from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.models import Job, JobState, Media
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import append, finalize, init, status, upload_file
from tests.pipeline.conftest import media_object


async def upload_bytes(
    env: Env, user: User, data: bytes, *, media_type: str, category: str | None = None
) -> tuple[str, int, dict[str, object]]:
    started = await init(
        env.client, user.headers, total_bytes=len(data), media_type=media_type, category=category
    )
    media_id = started.json()["media_id_string"]
    assert (await append(env.client, user.headers, media_id, 0, data)).status_code == 204
    done = await finalize(env.client, user.headers, media_id)
    return media_id, done.status_code, done.json()


class TestSynchronousFinalize:
    async def test_video_without_category_is_processed_before_finalize_answers(
        self, env: Env, alice: User, clip_720p: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, clip_720p, media_type="video/mp4")

        assert "processing_info" not in body
        assert body["video"] == {"video_type": "video/mp4"}
        entity = await media_object(env, body["media_id"])
        assert len(entity["video_info"]["variants"]) == 4  # three mp4s and the playlist
        url = entity["video_info"]["variants"][0]["url"]
        assert (await env.client.get(url)).status_code == 200
        async with env.state.sessions() as session:
            job = await session.scalar(select(Job).where(Job.media_id == body["media_id"]))
        assert job is not None
        assert job.state is JobState.DONE

    async def test_finalize_answers_201(self, env: Env, alice: User, clip_720p: Path) -> None:
        media_id, code, _ = await upload_bytes(
            env, alice, clip_720p.read_bytes(), media_type="video/mp4"
        )

        assert code == 201
        assert (await status(env.client, alice.headers, media_id)).status_code == 404

    async def test_a_broken_rule_is_a_400_with_the_processing_message(
        self, env: Env, alice: User, clip_150s: Path
    ) -> None:
        media_id, code, body = await upload_bytes(
            env, alice, clip_150s.read_bytes(), media_type="video/mp4"
        )

        assert code == 400
        assert body["error"] == "Duration too long, maximum:140000, actual:150000"
        assert body["processing_error"] == {
            "code": 3,
            "name": "UnsupportedMedia",
            "message": "Duration too long, maximum:140000, actual:150000",
        }
        assert not disk(env).blob_path(media_id).exists()
        async with env.state.sessions() as session:
            media = await session.get(Media, int(media_id))
        assert media is not None
        assert media.state.value == "failed"

    async def test_valid_subtitles_are_accepted(self, env: Env, alice: User) -> None:
        srt = b"1\n00:00:01,000 --> 00:00:02,500\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n"

        _, code, _ = await upload_bytes(
            env, alice, srt, media_type="text/srt", category="subtitles"
        )

        assert code == 201

    async def test_malformed_subtitles_are_a_400(self, env: Env, alice: User) -> None:
        srt = b"1\n00:00:02,000 --> 00:00:01,000\nBackwards\n"

        _, code, body = await upload_bytes(
            env, alice, srt, media_type="text/srt", category="subtitles"
        )

        assert code == 400
        assert body["error"] == "Cue ends before it starts at line 2"
