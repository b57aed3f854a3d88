"""app.statements and the in-loop SQLite driver: same values as the ORM, lock waits that
never block the event loop, and writers of one process taking turns."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.infra.db import make_hot_engine, make_sessionmaker
from app.infra.statements import Prepared, Statements, Transaction, Unit
from app.media.views import media_view
from app.migrate import upgrade_to_head
from app.models import Account, Media
from app.uploads import service as uploads
from app.uploads.policy import UploadPolicy
from app.uploads.protocol import MediaCategory, UploadState
from tests.conftest import Env, User

_ACCOUNTS = cast(Table, Account.__table__)
_NAMES = Prepared(select(_ACCOUNTS.c.screen_name).where(_ACCOUNTS.c.id == bindparam("id")))


async def test_a_prepared_read_gives_what_the_orm_loads(
    env: Env, alice: User, engine: AsyncEngine
) -> None:
    statements = Statements(engine)
    policy = UploadPolicy.from_settings(env.state.settings)
    opened = await uploads.init_upload(
        statements, IdGenerator(7), policy, owner_id=alice.id, total_bytes=1234,
        media_type="video/mp4", category=MediaCategory.AMPLIFY_VIDEO, additional_owners=[],
        shared=True, now=utcnow(),
    )  # fmt: skip
    now = utcnow()

    via_statements = await uploads.get_status(
        statements, owner_id=alice.id, media_id=opened.media_id, now=now
    )
    async with make_sessionmaker(engine)() as session:
        media = await session.get(Media, opened.media_id)
        assert media is not None
        via_orm = media_view(media, now=now)
    await statements.close()

    assert via_statements == via_orm
    assert via_orm.state is UploadState.UPLOADING
    assert via_orm.is_async
    assert media.expires_at.tzinfo is not None
    assert media.is_shared is True


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = make_hot_engine(url)  # the in-loop driver the hot statements run on
    yield engine
    await engine.dispose()


_ADD_ACCOUNT = Prepared(insert(_ACCOUNTS), columns=["id", "screen_name", "created_at"])


def _account(account_id: int) -> dict[str, object]:
    return {"id": account_id, "screen_name": f"u{account_id}", "created_at": utcnow()}


async def _add_account(statements: Statements, account_id: int) -> None:
    async with statements.transaction(write=True) as transaction:
        await transaction.execute(_ADD_ACCOUNT, _account(account_id))


async def test_a_write_waits_for_another_process_without_blocking_the_loop(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    statements = Statements(sqlite_engine)
    other = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

    writing = asyncio.create_task(_add_account(statements, 1))
    for _ in range(200):  # the write starts, meets the lock; the loop turns 200 times
        await asyncio.sleep(0)
    waited = not writing.done()
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    other.close()

    async with statements.transaction(write=False) as transaction:
        row = await transaction.one(_NAMES, {"id": 1})
    await statements.close()
    # 200 turns of the loop went by and the write was still waiting: it waited without
    # blocking the loop (a blocking wait would have ended, done, before the first turn).
    assert waited
    assert row is not None
    assert row.screen_name == "u1"


async def test_writers_of_one_process_take_turns(sqlite_engine: AsyncEngine) -> None:
    statements = Statements(sqlite_engine)
    sessions = make_sessionmaker(sqlite_engine)
    order: list[str] = []

    holds_lock, statement_started = asyncio.Event(), asyncio.Event()

    async def slow_session_writer() -> None:
        async with sessions() as session:
            await session.execute(text("UPDATE accounts SET screen_name = 'x1' WHERE id = 1"))
            order.append("session holds the lock")
            holds_lock.set()
            await statement_started.wait()  # the other writer runs while the lock is held
            for _ in range(10):
                await asyncio.sleep(0)
            await session.commit()
            order.append("session committed")

    async def statement_writer() -> None:
        await holds_lock.wait()
        statement_started.set()
        await _add_account(statements, 2)
        order.append("statement committed")

    await _add_account(statements, 1)
    await asyncio.gather(slow_session_writer(), statement_writer())
    await statements.close()

    assert order == ["session holds the lock", "session committed", "statement committed"]


async def test_a_failed_transaction_rolls_back_and_the_connection_is_reused(
    sqlite_engine: AsyncEngine,
) -> None:
    statements = Statements(sqlite_engine)

    async def fail_after_insert() -> None:
        async with statements.transaction(write=True) as transaction:
            await transaction.execute(_ADD_ACCOUNT, _account(5))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_after_insert()
    await _add_account(statements, 6)  # the gate was released, the lock too

    async with statements.transaction(write=False) as transaction:
        gone = await transaction.one(_NAMES, {"id": 5})
        kept = await transaction.one(_NAMES, {"id": 6})
    await statements.close()
    assert gone is None
    assert kept is not None


async def test_concurrent_writes_commit_together_and_a_failing_one_is_undone_alone(
    env: Env, engine: AsyncEngine
) -> None:
    """``Statements.write``: the writes queued together share one transaction (group
    commit); a unit that fails after writing leaves nothing, the others stay (after a
    failure the group's units run again one transaction each)."""
    statements = Statements(engine)
    seen: list[object] = []

    def adding(*account_ids: int, fail: bool = False) -> Unit:
        async def unit(transaction: Transaction) -> int:
            seen.append(transaction)
            for account_id in account_ids:
                await transaction.execute(_ADD_ACCOUNT, _account(account_id))
            if fail:
                raise RuntimeError("refused after writing")
            return account_ids[0]

        return unit

    outcomes = await asyncio.gather(
        statements.write(adding(21)),
        statements.write(adding(22, 23, fail=True)),
        statements.write(adding(21)),  # the same id: IntegrityError, for this one only
        statements.write(adding(24)),
        return_exceptions=True,
    )
    async with statements.transaction(write=False) as transaction:
        names = {i: await transaction.one(_NAMES, {"id": i}) for i in (21, 22, 23, 24)}
    await statements.close()

    assert outcomes[0] == 21  # the two writes of id 21: the first queued wins
    assert isinstance(outcomes[2], IntegrityError)
    assert isinstance(outcomes[1], RuntimeError)
    assert outcomes[3] == 24
    assert [i for i, row in names.items() if row is not None] == [21, 24]
    assert seen[0] is seen[1]  # the group ran up to the failing unit, in one transaction
