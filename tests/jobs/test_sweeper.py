from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.core.clock import utcnow
from app.jobs.sweeper import sweep_once
from app.models import Media
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import append, init, segments, status, upload_file


async def _count(env: Env) -> int:
    async with env.state.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Media)) or 0)


class TestSweeper:
    async def test_expired_upload_loses_its_row_and_its_files(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4"
        )
        media_id = started.json()["media_id_string"]
        await append(env.client, alice.headers, media_id, 0, segments(data, 20_000)[0])
        media_dir = disk(env).blob_path(media_id).parent
        assert any(media_dir.iterdir())

        removed = await sweep_once(
            env.state.sessions, env.state.store, now=utcnow() + timedelta(days=2)
        )

        assert removed == 1
        assert not media_dir.exists()
        assert await _count(env) == 0
        assert (await status(env.client, alice.headers, media_id)).status_code == 404

    async def test_unexpired_and_finalized_media_are_kept_until_their_time(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, png_file, media_type="image/png")

        kept = await sweep_once(env.state.sessions, env.state.store, now=utcnow())
        removed = await sweep_once(
            env.state.sessions,
            env.state.store,
            now=utcnow() + timedelta(seconds=body["expires_after_secs"] + 5),
        )

        assert kept == 0
        assert removed == 1
        assert not disk(env).blob_path(body["media_id_string"]).exists()
