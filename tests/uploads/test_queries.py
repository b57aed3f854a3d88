"""app.uploads.queries: INIT's explicit row, IntegrityError told apart by constraint, and
STATUS computing a segment's hash once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core import errors
from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.models import Media, MediaSegment
from app.storage.filesystem import FilesystemStore
from app.uploads import queries
from app.uploads import service as uploads
from app.uploads.protocol import MediaCategory, MediaKind
from tests.conftest import Env, User
from tests.fixtures.protocol import append, init, segments, status


class ScriptedIds(IdGenerator):
    """Real ids, except that the first draws are the ones given."""

    def __init__(self, first: list[int]) -> None:
        super().__init__(1)
        self._first: Iterator[int] = iter(first)

    def next_id(self) -> int:
        return next(self._first, None) or super().next_id()


async def _init(env: Env, owner_id: int, ids: IdGenerator) -> int:
    view = await uploads.init_upload(
        env.state.statements, ids, env.state.policy, owner_id=owner_id, total_bytes=10,
        media_type="image/png", category=MediaCategory.TWEET_IMAGE, additional_owners=[],
        shared=False, now=utcnow(),
    )  # fmt: skip
    return view.media_id


class TestInitRow:
    def test_every_column_of_a_new_upload_is_given_a_value(self) -> None:
        row = queries.upload_row(
            owner_id=1, kind=MediaKind.IMAGE, category=None, is_async=False, is_shared=False,
            media_type="image/png", total_bytes=1, created_at=utcnow(), expires_at=utcnow(),
        )  # fmt: skip

        assert set(row) == {c.key for c in Media.__table__.columns}

    async def test_an_id_collision_draws_again(self, env: Env, alice: User) -> None:
        taken = await _init(env, alice.id, IdGenerator(3))

        fresh = await _init(env, alice.id, ScriptedIds([taken]))

        assert fresh != taken
        async with env.state.sessions() as session:
            owners = (await session.scalars(select(Media.owner_id).where(Media.id == fresh))).all()
        assert owners == [alice.id]

    async def test_an_owner_that_no_longer_exists_is_not_taken_for_a_collision(
        self, env: Env
    ) -> None:
        with pytest.raises(errors.NotAuthenticated):
            await _init(env, 424242, IdGenerator(3))

    async def test_the_simple_upload_row_draws_again_on_a_collision(
        self, env: Env, alice: User
    ) -> None:
        taken = await _init(env, alice.id, IdGenerator(3))
        row = queries.upload_row(
            owner_id=alice.id, kind=MediaKind.IMAGE, category=None, is_async=False,
            is_shared=False, media_type="image/png", total_bytes=1, created_at=utcnow(),
            expires_at=utcnow(),
        )  # fmt: skip

        async with env.state.sessions() as session:
            stored = await queries.insert_upload_in_session(session, ScriptedIds([taken]), row, [7])
            await session.commit()

        assert stored["id"] != taken

    async def test_the_simple_upload_row_of_a_vanished_owner_is_refused_clearly(
        self, env: Env
    ) -> None:
        row = queries.upload_row(
            owner_id=424242, kind=MediaKind.IMAGE, category=None, is_async=False,
            is_shared=False, media_type="image/png", total_bytes=1, created_at=utcnow(),
            expires_at=utcnow(),
        )  # fmt: skip

        async with env.state.sessions() as session:
            with pytest.raises(errors.NotAuthenticated):
                await queries.insert_upload_in_session(session, IdGenerator(3), row, [])


class CountingStore(FilesystemStore):
    """The real filesystem store, counting the segment hashes it computes."""

    hashed = 0

    async def segment_sha256(self, key: str, index: int) -> str | None:
        self.hashed += 1
        return await super().segment_sha256(key, index)


def _counting(env: Env) -> CountingStore:
    store = env.state.store
    assert isinstance(store, FilesystemStore)
    counting = CountingStore(store.root)
    env.state.store = counting
    return counting


async def _stored_hashes(env: Env, media_id: str) -> dict[int, str | None]:
    async with env.state.sessions() as session:
        rows = await session.execute(
            select(MediaSegment.segment_index, MediaSegment.sha256).where(
                MediaSegment.media_id == int(media_id)
            )
        )
        return {row.segment_index: row.sha256 for row in rows}


class TestStatusHashes:
    async def test_a_hash_status_computed_is_kept_and_not_computed_again(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="image/png"
        )
        media_id = started.json()["media_id_string"]
        parts = segments(data, max(1, len(data) // 4))
        for index, part in enumerate(parts):
            await append(env.client, alice.headers, media_id, index, part)
        store = _counting(env)

        first = (await status(env.client, alice.headers, media_id)).json()
        hashed_once = store.hashed
        second = (await status(env.client, alice.headers, media_id)).json()

        expected = [hashlib.sha256(part).hexdigest() for part in parts]
        assert [s["sha256"] for s in first["upload_info"]["segments"]] == expected
        assert second == first
        assert hashed_once == len(parts)
        assert store.hashed == len(parts)
        assert await _stored_hashes(env, media_id) == dict(enumerate(expected))

    async def test_a_resent_segment_gets_its_new_hash(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="image/png"
        )
        media_id = started.json()["media_id_string"]
        half = len(data) // 2
        await append(env.client, alice.headers, media_id, 0, data[:half])
        await append(env.client, alice.headers, media_id, 1, b"x" * (len(data) - half))
        store = _counting(env)
        await status(env.client, alice.headers, media_id)

        await append(env.client, alice.headers, media_id, 1, data[half:])
        after = (await status(env.client, alice.headers, media_id)).json()

        listed = {s["segment_index"]: s["sha256"] for s in after["upload_info"]["segments"]}
        assert listed[1] == hashlib.sha256(data[half:]).hexdigest()
        assert store.hashed == 3  # two, then only the re-sent one
        assert (await _stored_hashes(env, media_id))[1] == listed[1]

    async def test_a_hash_of_bytes_replaced_meanwhile_is_not_kept(
        self, env: Env, alice: User
    ) -> None:
        started = await init(env.client, alice.headers, total_bytes=20, media_type="image/png")
        media_id = started.json()["media_id_string"]
        await append(env.client, alice.headers, media_id, 1, b"a" * 10)
        (row,) = [
            r
            for r in await queries.status_rows(
                env.state.statements, media_id=int(media_id), owner_id=alice.id
            )
            if r.segment_index == 1
        ]
        await append(env.client, alice.headers, media_id, 1, b"b" * 10)  # replaced meanwhile

        await queries.store_segment_hashes(
            env.state.statements,
            int(media_id),
            [queries.SegmentHash(1, row.segment_size, row.segment_received_at, "0" * 64)],
        )

        assert (await _stored_hashes(env, media_id))[1] is None
