"""app.uploads.queries when an insert keeps failing: ids that collide every draw, and a
row the database refuses for a reason that is no collision."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.models import Media, MediaOwner
from app.uploads import queries
from app.uploads import service as uploads
from app.uploads.protocol import MediaCategory, MediaKind
from tests.conftest import Env, User


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


def _row(owner_id: int, **changes: Any) -> dict[str, Any]:
    row = queries.upload_row(
        owner_id=owner_id, kind=MediaKind.IMAGE, category=None, is_async=False,
        is_shared=False, media_type="image/png", total_bytes=1, created_at=utcnow(),
        expires_at=utcnow(),
    )  # fmt: skip
    return {**row, **changes}


async def _media_rows(env: Env) -> int:
    async with env.state.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Media)) or 0)


class TestIdsThatAlwaysCollide:
    async def test_init_gives_up_after_five_draws_with_a_clear_error(
        self, env: Env, alice: User
    ) -> None:
        taken = await _init(env, alice.id, IdGenerator(3))

        with pytest.raises(RuntimeError, match="could not allocate a media id in 5 draws"):
            await _init(env, alice.id, ScriptedIds([taken] * 5))

        assert await _media_rows(env) == 1

    async def test_the_simple_upload_row_gives_up_after_five_draws(
        self, env: Env, alice: User
    ) -> None:
        taken = await _init(env, alice.id, IdGenerator(3))

        async with env.state.sessions() as session:
            with pytest.raises(RuntimeError, match="could not allocate a media id in 5 draws"):
                await queries.insert_upload_in_session(
                    session, ScriptedIds([taken] * 5), _row(alice.id), []
                )

        assert await _media_rows(env) == 1

    async def test_a_collision_then_a_free_id_records_the_additional_owners(
        self, env: Env, alice: User, bob: User
    ) -> None:
        taken = await _init(env, alice.id, IdGenerator(3))

        async with env.state.sessions() as session:
            stored = await queries.insert_upload_in_session(
                session, ScriptedIds([taken] * 4), _row(alice.id), [bob.id, bob.id]
            )
            await session.commit()

        async with env.state.sessions() as session:
            owners = (
                await session.scalars(
                    select(MediaOwner.account_id).where(MediaOwner.media_id == stored["id"])
                )
            ).all()
        assert stored["id"] != taken
        assert owners == [bob.id]


class TestRefusedForAnotherReason:
    async def test_a_missing_required_value_is_a_refusal_not_a_collision(
        self, env: Env, alice: User
    ) -> None:
        async with env.state.sessions() as session:
            with pytest.raises(queries.MediaRowRefused) as refused:
                await queries.insert_upload_in_session(
                    session, IdGenerator(3), _row(alice.id, media_type=None), []
                )

        assert refused.value.constraint is None
        assert "refused by constraint unknown" in str(refused.value)
        assert await _media_rows(env) == 0
