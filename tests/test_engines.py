"""Two engines on SQLite: the in-loop driver serves only the compiled hot statements, ORM
sessions run on stock aiosqlite threads, so a slow query never stalls an upload; the
writers of both take turns. PostgreSQL keeps one engine."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import aiosqlite
import pytest
from sqlalchemy import Table, bindparam, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.core.clock import utcnow
from app.infra.db import Engines, in_loop_connector, make_engines, make_sessionmaker
from app.infra.statements import Prepared, Statements
from app.migrate import upgrade_to_head
from app.models import Account
from tests.conftest import Env, User
from tests.fixtures.protocol import init, status

_ACCOUNTS = cast(Table, Account.__table__)
_ADD_ACCOUNT = Prepared(insert(_ACCOUNTS), columns=["id", "screen_name", "created_at"])
_NAME = Prepared(select(_ACCOUNTS.c.screen_name).where(_ACCOUNTS.c.id == bindparam("id")))
_ROWS = 1_000_000  # several hundred ms of SQLite work, after the test lets it go
_HOLD_KEY = 4711  # PostgreSQL advisory lock the slow query waits on


class _Hold:
    """Makes a statement signal once it runs on the database, then wait for the test."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.released = threading.Event()
        self.thread: int | None = None
        self._loop = asyncio.get_running_loop()

    def sqlite_function(self) -> int:  # runs inside the statement, on the driver's thread
        self.thread = threading.get_ident()
        self._loop.call_soon_threadsafe(self.started.set)
        self.released.wait(60)  # bounded, so a broken build fails instead of hanging
        return 0

    def postgres_notice(self, _connection: Any, message: Any) -> None:
        if getattr(message, "message", "") == "hold: started":
            self.started.set()


async def _prepare_hold(connection: AsyncConnection, hold: _Hold) -> None:
    """Installs ``hold()`` on this session's connection: on SQLite a Python function, on
    PostgreSQL a function that reports it started and waits on an advisory lock."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if connection.dialect.name == "sqlite":
        assert isinstance(driver, aiosqlite.Connection)
        await driver.create_function("hold", 0, hold.sqlite_function)
        return
    driver.add_log_listener(hold.postgres_notice)
    await connection.execute(
        text(
            "CREATE FUNCTION pg_temp.hold() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE NOTICE 'hold: started'; "
            f"PERFORM pg_advisory_lock_shared({_HOLD_KEY}); "
            f"PERFORM pg_advisory_unlock_shared({_HOLD_KEY}); "
            "RETURN 0; END $$"
        )
    )


def _slow_count(dialect: str) -> str:
    hold = "hold()" if dialect == "sqlite" else "pg_temp.hold()"
    return (
        f"WITH RECURSIVE c(n) AS (SELECT {hold} UNION ALL SELECT n + 1 FROM c "
        f"WHERE n < {_ROWS}) SELECT count(*) FROM c"
    )


async def _slow_query(env: Env, hold: _Hold) -> int:
    async with env.state.read_sessions() as session:
        connection = await session.connection()
        await _prepare_hold(connection, hold)
        count: int = (
            await session.execute(text(_slow_count(connection.dialect.name)))
        ).scalar_one()
        return count


@pytest.fixture
async def held(engine: AsyncEngine) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """On PostgreSQL the test holds the advisory lock ``hold()`` waits on; awaiting the
    fixture's value lets the slow query go (on SQLite ``_Hold.released`` does)."""
    if engine.dialect.name == "sqlite":

        async def nothing() -> None:
            return None

        yield nothing
        return
    async with engine.connect() as connection:
        await connection.execute(text(f"SELECT pg_advisory_lock({_HOLD_KEY})"))

        async def release() -> None:
            await connection.execute(text(f"SELECT pg_advisory_unlock({_HOLD_KEY})"))

        yield release
        await connection.rollback()


class TestSlowQuery:
    async def test_a_slow_orm_query_does_not_delay_a_concurrent_status(
        self, env: Env, alice: User, held: Callable[[], Awaitable[None]]
    ) -> None:
        opened = await init(
            env.client, alice.headers, total_bytes=1000, media_type="video/mp4",
            category="tweet_video",
        )  # fmt: skip
        media_id = opened.json()["media_id"]
        hold = _Hold()
        slow = asyncio.create_task(_slow_query(env, hold))
        await asyncio.wait_for(hold.started.wait(), 60)  # the slow query is running now

        answered = await status(env.client, alice.headers, media_id)
        still_running = not slow.done()
        hold.released.set()
        await held()
        count = await slow

        assert answered.status_code == 200
        assert answered.json()["media_id"] == media_id
        assert still_running  # STATUS answered while the slow query ran
        assert count == _ROWS + 1


class TestEngines:
    async def test_orm_sessions_do_not_run_on_the_in_loop_driver(self, env: Env) -> None:
        orm, hot = env.state.engine, env.state.statements.engine
        hold = _Hold()
        hold.released.set()  # no waiting: only where the statement runs matters here

        async with env.state.sessions() as session:
            connection = await session.connection()
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            if orm.dialect.name == "sqlite":
                await _prepare_hold(connection, hold)
                await session.execute(text("SELECT hold()"))

        if orm.dialect.name == "sqlite":
            assert orm is not hot
            assert in_loop_connector(orm) is None
            assert in_loop_connector(hot) is not None
            assert isinstance(driver, aiosqlite.Connection)  # stock aiosqlite, a thread
            assert hold.thread is not None
            assert hold.thread != threading.get_ident()  # not the event loop's thread
        else:
            assert orm is hot  # asyncpg never blocks the loop: one engine


@pytest.fixture
async def sqlite_engines(tmp_path: Path) -> AsyncIterator[Engines]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engines = make_engines(url)
    yield engines
    await engines.dispose()


def _account(account_id: int) -> dict[str, object]:
    return {"id": account_id, "screen_name": f"u{account_id}", "created_at": utcnow()}


async def _add_account(statements: Statements, account_id: int) -> None:
    async with statements.transaction(write=True) as transaction:
        await transaction.execute(_ADD_ACCOUNT, _account(account_id))


async def _name(statements: Statements, account_id: int) -> str | None:
    rows = await statements.read(_NAME, {"id": account_id})
    return str(rows[0].screen_name) if rows else None


class TestWritersOfBothEngines:
    async def test_a_statement_writer_waits_its_turn_behind_a_session_writer(
        self, sqlite_engines: Engines
    ) -> None:
        statements = Statements(sqlite_engines.hot)
        sessions = make_sessionmaker(sqlite_engines.orm)
        await _add_account(statements, 1)
        order: list[str] = []
        holding, go_on = asyncio.Event(), asyncio.Event()

        async def session_writer() -> None:
            async with sessions() as session:
                await session.execute(text("UPDATE accounts SET screen_name = 'x1' WHERE id = 1"))
                order.append("session holds the lock")
                holding.set()
                await go_on.wait()
                await session.commit()
                order.append("session committed")

        async def statement_writer() -> None:
            await holding.wait()
            writing = asyncio.create_task(_add_account(statements, 2))
            await asyncio.sleep(0)
            order.append(f"statement waiting: {not writing.done()}")
            order.append(f"reads meanwhile: {await _name(statements, 1)}")
            go_on.set()
            await writing

        await asyncio.wait_for(asyncio.gather(session_writer(), statement_writer()), 60)
        names = [await _name(statements, i) for i in (1, 2)]
        await statements.close()

        assert order == [
            "session holds the lock",
            "statement waiting: True",
            "reads meanwhile: u1",  # WAL: a reader sees the last commit, never waits
            "session committed",
        ]
        assert names == ["x1", "u2"]  # both writers committed, neither deadlocked

    async def test_a_session_writer_waits_its_turn_behind_a_statement_writer(
        self, sqlite_engines: Engines
    ) -> None:
        statements = Statements(sqlite_engines.hot)
        sessions = make_sessionmaker(sqlite_engines.orm)
        order: list[str] = []

        async def session_write() -> None:
            async with sessions() as session:
                await session.execute(text("UPDATE accounts SET screen_name = 's' WHERE id = 3"))
                await session.commit()
            order.append("session committed")

        async with statements.transaction(write=True) as transaction:
            await transaction.execute(_ADD_ACCOUNT, _account(3))
            writing = asyncio.create_task(session_write())
            for _ in range(5):  # let the session get as far as it can
                await asyncio.sleep(0)
            order.append(f"session waiting: {not writing.done()}")
        order.append("statement committed")
        await asyncio.wait_for(writing, 60)
        name = await _name(statements, 3)
        await statements.close()

        assert order == ["session waiting: True", "statement committed", "session committed"]
        assert name == "s"  # the session's UPDATE saw the statement's committed row

    async def test_a_session_writer_waits_for_another_process_off_the_loop(
        self, sqlite_engines: Engines, tmp_path: Path
    ) -> None:
        statements = Statements(sqlite_engines.hot)
        sessions = make_sessionmaker(sqlite_engines.orm)
        await _add_account(statements, 4)
        loop, begun = asyncio.get_running_loop(), asyncio.Event()

        def trace(sql: str) -> None:  # on the driver's thread, as SQLite starts a statement
            if sql.startswith("BEGIN IMMEDIATE"):
                loop.call_soon_threadsafe(begun.set)

        @event.listens_for(sqlite_engines.orm.sync_engine, "connect")
        def _trace(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.run_async(lambda driver: driver.set_trace_callback(trace))

        other = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def session_write() -> None:
            async with sessions() as session:
                await session.execute(text("UPDATE accounts SET screen_name = 'o' WHERE id = 4"))
                await session.commit()

        writing = asyncio.create_task(session_write())
        await asyncio.wait_for(begun.wait(), 60)  # its BEGIN IMMEDIATE waits in SQLite now
        reads = [await _name(statements, 4) for _ in range(20)]  # the loop runs on
        waited = not writing.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writing, 60)
        after = await _name(statements, 4)
        await statements.close()

        assert waited
        assert reads == ["u4"] * 20
        assert after == "o"
