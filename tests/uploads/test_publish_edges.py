"""app.uploads.publish at its edges: a blob an earlier FINALIZE assembled without getting
to record it, and an internal failure while a sync media is processed before answering."""

from __future__ import annotations

from pathlib import Path

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from app.models import Job, JobState, Media
from app.storage import ObjectInfo
from app.storage.filesystem import FilesystemStore
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import append, finalize, init, segments


class BrokenDiskStore(FilesystemStore):
    """The real filesystem store, except that publishing processing outputs fails (an I/O
    error: a full disk is not an internal failure, tests/storage/test_full_disk*.py)."""

    def _publish(self, out: Path, prefix: str) -> list[ObjectInfo]:
        raise OSError(5, "Input/output error")


async def _appended(env: Env, user: User, data: bytes, *, media_type: str) -> str:
    started = await init(env.client, user.headers, total_bytes=len(data), media_type=media_type)
    assert started.status_code == 202, started.text
    media_id: str = started.json()["media_id_string"]
    for index, part in enumerate(segments(data, max(1, len(data) // 3))):
        assert (await append(env.client, user.headers, media_id, index, part)).status_code == 204
    return media_id


class TestAssembledBefore:
    async def test_a_blob_assembled_by_an_unrecorded_finalize_is_taken_as_is(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        store = disk(env)
        parts = len(segments(data, len(data) // 3))
        # An earlier FINALIZE assembled the segments into the blob, then died.
        await store.assemble(media_id, list(range(parts)))
        assert not list(store._dir(media_id).glob("seg-*"))

        finalized = await finalize(env.client, alice.headers, media_id)

        assert finalized.status_code == 201, finalized.text
        assert finalized.json()["size"] == len(data)
        assert store.blob_path(media_id).read_bytes() == data


class TestProcessNowFailure:
    async def test_an_internal_failure_answers_500_and_leaves_the_job_to_a_retry(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()
        media_id = await _appended(env, alice, data, media_type="image/jpeg")
        env.state.store = BrokenDiskStore(disk(env).root)

        # As a real server does: the handler's 500 is the answer, not a raised error.
        transport = ASGITransport(app=env.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            finalized = await finalize(client, alice.headers, media_id)

        async with env.state.sessions() as session:
            job = await session.scalar(select(Job).where(Job.media_id == int(media_id)))
            media = await session.get(Media, int(media_id))
        assert finalized.status_code == 500
        assert finalized.json() == {"errors": [{"code": 131, "message": "Internal error."}]}
        assert job is not None
        assert job.state is JobState.QUEUED
        assert job.lease_until is None
        assert "Input/output error" in (job.last_error or "")
        assert media is not None
