"""app.uploads.service at its edges: a simple upload refused before it stores anything, a
STATUS while FINALIZE assembles, a FINALIZE whose lease another one took over meanwhile,
and a waiting FINALIZE whose first one was cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.core.clock import utcnow
from app.models import Media
from app.uploads import service as uploads
from tests.conftest import Env, User
from tests.fixtures.disk import disk, hold
from tests.fixtures.protocol import URL, append, finalize, init, segments, status


async def _media_rows(env: Env) -> int:
    async with env.state.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Media)) or 0)


async def _appended(env: Env, user: User, data: bytes, *, media_type: str) -> str:
    started = await init(env.client, user.headers, total_bytes=len(data), media_type=media_type)
    assert started.status_code == 202, started.text
    media_id: str = started.json()["media_id_string"]
    for index, part in enumerate(segments(data, max(1, len(data) // 3))):
        assert (await append(env.client, user.headers, media_id, index, part)).status_code == 204
    return media_id


class TestSimpleUploadRefusals:
    async def test_a_video_category_is_refused_before_any_row_or_byte(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        response = await env.client.post(
            URL,
            data={"media_category": "tweet_video"},
            files={"media": ("p.png", png_file.read_bytes())},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert "images and GIFs only" in response.json()["error"]
        assert await _media_rows(env) == 0
        assert not [p for p in (env.data_dir / "media").rglob("*") if p.is_file()]

    async def test_bytes_that_are_no_image_leave_neither_row_nor_bytes(
        self, env: Env, alice: User
    ) -> None:
        response = await env.client.post(
            URL,
            files={"media": ("notes.txt", b"plain text, not an image" * 40)},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert response.json()["error"] == "media type unrecognized."
        assert await _media_rows(env) == 0
        assert not [p for p in (env.data_dir / "media").rglob("*") if p.is_file()]


class TestStatusWhileFinalizing:
    async def test_segments_are_listed_unhashed_while_finalize_assembles(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        held = hold(env)
        finalizing = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)  # a guard against hanging

        polled = await status(env.client, alice.headers, media_id)

        held.release.set()
        assert (await finalizing).status_code == 201
        assert polled.status_code == 200, polled.text
        listed = polled.json()["upload_info"]["segments"]
        assert [s["segment_index"] for s in listed] == list(
            range(len(segments(data, len(data) // 3)))
        )
        assert sum(s["size"] for s in listed) == len(data)
        assert all("sha256" not in s for s in listed)

    async def test_a_segment_storage_lost_is_listed_without_a_hash(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        (disk(env)._dir(media_id) / "seg-001").unlink()

        polled = await status(env.client, alice.headers, media_id)

        listed = {s["segment_index"]: s for s in polled.json()["upload_info"]["segments"]}
        assert "sha256" not in listed[1]
        assert len(listed[0]["sha256"]) == 64
        assert len(listed[2]["sha256"]) == 64


class TestFinalizeLeaseTakenOver:
    async def test_a_finalize_whose_lease_was_taken_meanwhile_records_nothing_and_retries(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        env.state.policy = dataclasses.replace(
            env.state.policy, job_lease=timedelta(milliseconds=300)
        )
        held = hold(env)
        first = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)
        # Another process's FINALIZE, after the first's lease lapsed, takes the upload over
        # (and then dies): the first must not record over it.
        taken = await uploads._claim(
            env.state.sessions,
            owner_id=alice.id,
            media_id=int(media_id),
            now=utcnow() + timedelta(seconds=1),
            lease=env.state.policy.job_lease,
        )
        assert isinstance(taken, uploads._Claim)

        held.release.set()
        finalized = await first

        assert finalized.status_code == 201, finalized.text
        assert finalized.json()["size"] == len(data)
        assert held.assemblies == 2  # the first assembly was not recorded: it ran again
        assert held.blob_path(media_id).read_bytes() == data


class TestFinalizeCancelled:
    async def test_a_waiting_finalize_takes_over_when_the_first_is_cancelled(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        held = hold(env)
        first = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)
        second = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        # Requests in between give the second FINALIZE every chance to start waiting.
        for _ in range(3):
            opened = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")
            assert opened.status_code == 202

        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
        held.release.set()
        finalized = await second

        assert first.cancelled()
        assert finalized.status_code == 201, finalized.text
        assert finalized.json()["size"] == len(data)
        assert held.assemblies == 2
        assert held.blob_path(media_id).read_bytes() == data
