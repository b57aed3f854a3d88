"""Engine and session factory; SQLite gets explicit (IMMEDIATE) transactions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.sqlite_inloop import InLoopConnection, WriteGate

__all__ = ["make_engine", "make_read_sessionmaker", "make_sessionmaker"]

# How long a SQLite statement waits for another writer before "database is locked".
_SQLITE_LOCK_TIMEOUT = 30.0

# Sessions made with this engine option only read: on SQLite they BEGIN DEFERRED, so in
# WAL mode they neither wait for nor block the writer.
READ_ONLY = "mediastudio_read_only"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        kwargs.setdefault("async_creator", _in_loop_creator(url))
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_explicit_transactions(engine)
    return engine


def _in_loop_creator(url: str) -> Callable[[], Awaitable[InLoopConnection]]:
    """SQLite connections that run on the event loop (``app.sqlite_inloop``)."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    gate = WriteGate()

    async def connect() -> InLoopConnection:
        return InLoopConnection(
            args[0], gate=gate, timeout=_SQLITE_LOCK_TIMEOUT, uri=bool(options.get("uri"))
        )

    return connect


def _sqlite_explicit_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver stops issuing BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives a crash of the process (not of the machine);
        # it saves an fsync per transaction.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front: two deferred transactions that both
        # upgrade to writers would deadlock, and busy_timeout cannot resolve that.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read (auth, STATUS, delivery)."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
