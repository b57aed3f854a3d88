"""Engine and session factory; SQLite gets explicit (IMMEDIATE) transactions."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.infra.sqlite_inloop import InLoopConnector

__all__ = ["in_loop_connector", "make_engine", "make_read_sessionmaker", "make_sessionmaker"]

# How long a SQLite statement waits for another writer before "database is locked".
_SQLITE_LOCK_TIMEOUT = 30.0

# Sessions made with this engine option only read: on SQLite they BEGIN DEFERRED, so in
# WAL mode they neither wait for nor block the writer.
READ_ONLY = "mediastudio_read_only"


def make_engine(
    url: str, *, pool_size: int | None = None, max_overflow: int | None = None, **kwargs: Any
) -> AsyncEngine:
    """``pool_size``/``max_overflow`` size a server database's pool (ignored for SQLite,
    whose connections are in-process, and when a ``poolclass`` is given)."""
    if not url.startswith("sqlite"):
        if "poolclass" not in kwargs:
            if pool_size is not None:
                kwargs["pool_size"] = pool_size
            if max_overflow is not None:
                kwargs["max_overflow"] = max_overflow
        return create_async_engine(url, **kwargs)
    # SQLite: connections from the in-loop connector (PRAGMAs, autocommit driver mode).
    args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    connector = InLoopConnector(args[0], uri=bool(options.get("uri")), timeout=_SQLITE_LOCK_TIMEOUT)
    engine = create_async_engine(url, async_creator=connector.connect, **kwargs)
    _sqlite_explicit_transactions(engine)
    _CONNECTORS[engine.sync_engine] = connector
    return engine


def in_loop_connector(engine: AsyncEngine) -> InLoopConnector | None:
    """The connector behind a SQLite engine made by ``make_engine`` (``app.statements``
    uses it to run compiled statements without SQLAlchemy's per-call machinery)."""
    return _CONNECTORS.get(engine.sync_engine)


_CONNECTORS: weakref.WeakKeyDictionary[Engine, InLoopConnector] = weakref.WeakKeyDictionary()


def _sqlite_explicit_transactions(engine: AsyncEngine) -> None:
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
