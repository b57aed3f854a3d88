"""FINALIZE in three steps: no lock while the bytes are assembled, APPENDs refused once it
began, one assembly however many FINALIZEs arrive, and a crashed one taken over."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

from app.core.clock import utcnow
from app.http.deps import get_clock
from app.jobs.sweeper import sweep_once
from app.uploads import service as uploads
from tests.conftest import Env, User
from tests.fixtures.disk import disk, hold
from tests.fixtures.protocol import append, finalize, init, segments


async def _appended(env: Env, user: User, data: bytes, *, media_type: str) -> str:
    started = await init(env.client, user.headers, total_bytes=len(data), media_type=media_type)
    assert started.status_code == 202, started.text
    media_id: str = started.json()["media_id_string"]
    for index, part in enumerate(segments(data, max(1, len(data) // 3))):
        assert (await append(env.client, user.headers, media_id, index, part)).status_code == 204
    return media_id


class TestNoLockWhileAssembling:
    async def test_init_completes_while_finalize_is_held_in_assembly(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        held = hold(env)
        finalizing = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)  # a guard against hanging, not a timing

        # With FINALIZE holding the database, this INIT would wait for the release that
        # never comes: the guard turns that into a failure instead of a hang.
        opened = await asyncio.wait_for(
            init(env.client, alice.headers, total_bytes=1000, media_type="video/mp4"), 30
        )

        assert opened.status_code == 202, opened.text
        assert not finalizing.done()
        held.release.set()
        finalized = await finalizing
        assert finalized.status_code == 201, finalized.text
        assert finalized.json()["size"] == len(data)

    async def test_append_while_finalizing_is_refused_as_not_open(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        held = hold(env)
        finalizing = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)

        refused = await append(env.client, alice.headers, media_id, 0, data[:10])

        held.release.set()
        assert (await finalizing).status_code == 201
        assert refused.status_code == 400
        assert "APPEND is not allowed" in refused.json()["error"]

    async def test_a_second_finalize_meanwhile_answers_the_same_without_assembling_again(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        held = hold(env)
        first = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)
        second = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        # Requests in between give the second FINALIZE every chance to run its first step.
        for _ in range(3):
            opened = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")
            assert opened.status_code == 202

        assert not second.done()
        held.release.set()
        answers = await asyncio.gather(first, second)
        assert [a.status_code for a in answers] == [201, 201]
        assert answers[0].json() == answers[1].json()
        assert held.assemblies == 1

    async def test_a_refused_file_is_refused_for_a_finalize_that_waited_too(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()[:40] + b"\x00" * 200  # a JPEG signature, then garbage
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        held = hold(env)
        first = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await asyncio.wait_for(held.entered.wait(), 30)
        second = asyncio.create_task(finalize(env.client, alice.headers, media_id))
        await init(env.client, alice.headers, total_bytes=10, media_type="image/png")

        held.release.set()
        answers = await asyncio.gather(first, second)

        assert [a.status_code for a in answers] == [400, 400]
        assert answers[0].json() == answers[1].json()
        assert held.assemblies == 1
        assert not held.blob_path(media_id).exists()


class TestCrashBetweenSteps:
    async def _claimed_then_died(self, env: Env, user: User, media_id: str) -> None:
        """FINALIZE's first step, committed by a process that then died."""
        claim = await uploads._claim(
            env.state.sessions,
            owner_id=user.id,
            media_id=int(media_id),
            now=utcnow(),
            lease=env.state.policy.job_lease,
        )
        assert isinstance(claim, uploads._Claim)

    async def test_finalize_after_the_lease_lapsed_takes_over_and_completes(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        await self._claimed_then_died(env, alice, media_id)
        refused = await append(env.client, alice.headers, media_id, 0, data[:10])
        later = utcnow() + env.state.policy.job_lease + timedelta(seconds=1)

        async def clock():  # type: ignore[no-untyped-def]
            return lambda: later

        env.app.dependency_overrides[get_clock] = clock
        finalized = await finalize(env.client, alice.headers, media_id)

        assert refused.status_code == 400
        assert finalized.status_code == 201, finalized.text
        assert finalized.json()["size"] == len(data)
        assert disk(env).blob_path(media_id).read_bytes() == data

    async def test_the_sweeper_reclaims_an_upload_whose_finalize_died(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        await self._claimed_then_died(env, alice, media_id)

        removed = await sweep_once(
            env.state.sessions, env.state.store, now=utcnow() + timedelta(days=30)
        )

        assert removed == 1
        assert (await finalize(env.client, alice.headers, media_id)).status_code == 400
        assert not disk(env).blob_path(media_id).parent.exists()

    async def test_a_failed_assembly_gives_the_lease_back(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        store = disk(env)
        segment = store._dir(media_id) / "seg-001"
        kept = segment.read_bytes()
        segment.unlink()  # storage lost a segment the database recorded

        lost = await finalize(env.client, alice.headers, media_id)
        segment.write_bytes(kept)
        again = await finalize(env.client, alice.headers, media_id)

        assert lost.status_code == 400
        assert lost.json()["missing_segments"] == [1]
        assert again.status_code == 201, again.text
        assert again.json()["size"] == len(data)

    async def test_finalize_waits_for_another_process_lease_then_takes_over(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        # Another process's FINALIZE: its lease is live, and nothing in this process
        # runs it, so this FINALIZE looks at the lease again until it lapses.
        env.state.policy = dataclasses.replace(
            env.state.policy, job_lease=timedelta(milliseconds=300)
        )
        await self._claimed_then_died(env, alice, media_id)

        finalized = await finalize(env.client, alice.headers, media_id)

        assert finalized.status_code == 201, finalized.text
        assert disk(env).blob_path(media_id).read_bytes() == data
