"""A re-sent segment whose database record fails keeps the bytes the database describes.

The failure is real: a trigger in the test database refuses the row update (on
PostgreSQL a deferred constraint trigger, so it is the COMMIT itself that fails), after
the store has already renamed the new segment into place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.filesystem import FilesystemStore
from tests.conftest import Env, User
from tests.fixtures.protocol import append, finalize, init


@asynccontextmanager
async def recording_fails(engine: AsyncEngine, *, size: int) -> AsyncIterator[None]:
    """Every transaction that updates a segment row to ``size`` bytes fails."""
    if engine.dialect.name == "sqlite":
        create = [
            "CREATE TRIGGER fail_segment BEFORE UPDATE ON media_segments "
            f"WHEN NEW.size = {size} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        ]
        drop = ["DROP TRIGGER IF EXISTS fail_segment"]
    else:
        create = [
            "CREATE FUNCTION fail_segment() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$",
            "CREATE CONSTRAINT TRIGGER fail_segment AFTER UPDATE ON media_segments "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"WHEN (NEW.size = {size}) EXECUTE FUNCTION fail_segment()",
        ]
        drop = [
            "DROP TRIGGER IF EXISTS fail_segment ON media_segments",
            "DROP FUNCTION IF EXISTS fail_segment()",
        ]
    async with engine.begin() as connection:
        for statement in create:
            await connection.execute(text(statement))
    try:
        yield
    finally:
        async with engine.begin() as connection:
            for statement in drop:
                await connection.execute(text(statement))


def hidden_files(store: FilesystemStore, media_id: str) -> list[str]:
    return sorted(p.name for p in store.blob_path(media_id).parent.iterdir() if p.name[0] == ".")


class TestFailedSegmentRecord:
    async def test_previous_segment_survives_and_finalize_assembles_it(
        self, env: Env, engine: AsyncEngine, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        half = len(data) // 2
        first, second = data[:half], data[half:]
        replacement = b"\x00" * (len(second) - 1)  # a different size, so the row tells
        store = env.state.store
        assert isinstance(store, FilesystemStore)
        created = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4",
            category="tweet_video",
        )  # fmt: skip
        media_id = created.json()["media_id_string"]
        assert (await append(env.client, alice.headers, media_id, 0, first)).status_code == 204
        assert (await append(env.client, alice.headers, media_id, 1, second)).status_code == 204

        async with recording_fails(engine, size=len(replacement)):
            try:
                failed = await append(env.client, alice.headers, media_id, 1, replacement)
                failed_status = failed.status_code
            except Exception:  # the in-process transport re-raises what the 500 reports
                failed_status = 500

        assert failed_status == 500
        assert await store.segment_sizes(media_id) == {0: len(first), 1: len(second)}
        assert (store.blob_path(media_id).parent / "seg-001").read_bytes() == second
        assert hidden_files(store, media_id) == []
        finalized = await finalize(env.client, alice.headers, media_id)
        assert finalized.status_code in (200, 201), finalized.text
        assert store.blob_path(media_id).read_bytes() == data

    async def test_a_recorded_resend_replaces_the_segment(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        half = len(data) // 2
        store = env.state.store
        assert isinstance(store, FilesystemStore)
        created = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4",
            category="tweet_video",
        )  # fmt: skip
        media_id = created.json()["media_id_string"]
        await append(env.client, alice.headers, media_id, 0, data[:half])
        await append(env.client, alice.headers, media_id, 1, b"\x00" * (len(data) - half))

        resent = await append(env.client, alice.headers, media_id, 1, data[half:])

        assert resent.status_code == 204
        assert hidden_files(store, media_id) == []
        assert (await finalize(env.client, alice.headers, media_id)).status_code in (200, 201)
        assert store.blob_path(media_id).read_bytes() == data
