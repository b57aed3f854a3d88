"""Engines and session factories.

On SQLite the process has two engines on one database file (``make_engines``):

* ``hot``: the in-loop driver (``app.infra.sqlite_inloop``), for the compiled hot
  statements only (``app.infra.statements``: INIT, STATUS, APPEND). Their statements
  take microseconds, so they run where they are awaited.
* ``orm``: stock aiosqlite as SQLAlchemy ships it, one thread per connection, for ORM
  sessions and anything that may run long (posts, DMs, profiles, job claims, sweeps,
  WAL checkpoints, migrations, the library search and rollups to come). A slow query
  blocks its own thread, never the event loop.

Both keep WAL, foreign keys, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE`` for writers and
``BEGIN`` (deferred) for read-only sessions, and a 30 s lock timeout. Writers of the two
engines queue on one ``WriteGate`` per database file (FIFO, in this process), taken
before ``BEGIN IMMEDIATE``, so they neither deadlock (nobody upgrades a read lock) nor
poll each other; against other processes the in-loop side retries with asyncio backoff
and the thread side waits in SQLite's ``busy_timeout`` (it blocks a thread, not the loop).

PostgreSQL has one engine (asyncpg never blocks the loop): ``hot`` is ``orm``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.infra.sqlite_inloop import InLoopConnector, WriteGate, gate_for

__all__ = [
    "Engines",
    "in_loop_connector",
    "make_engine",
    "make_engines",
    "make_hot_engine",
    "make_read_sessionmaker",
    "make_sessionmaker",
]

# How long a SQLite statement waits for another writer before "database is locked".
_SQLITE_LOCK_TIMEOUT = 30.0

# Sessions made with this engine option only read: on SQLite they BEGIN DEFERRED, so in
# WAL mode they neither wait for nor block the writer.
READ_ONLY = "mediastudio_read_only"


@dataclass(frozen=True, slots=True)
class Engines:
    """``hot`` runs the compiled hot statements, ``orm`` everything else (see above)."""

    hot: AsyncEngine
    orm: AsyncEngine

    async def dispose(self) -> None:
        await self.orm.dispose()
        if self.hot is not self.orm:
            await self.hot.dispose()


def make_engines(
    url: str, *, pool_size: int | None = None, max_overflow: int | None = None, **kwargs: Any
) -> Engines:
    """``pool_size``/``max_overflow`` size a server database's pool (see ``make_engine``)."""
    orm = make_engine(url, pool_size=pool_size, max_overflow=max_overflow, **kwargs)
    if not _is_sqlite(url):
        return Engines(hot=orm, orm=orm)
    return Engines(hot=make_hot_engine(url, **kwargs), orm=orm)


def make_engine(
    url: str, *, pool_size: int | None = None, max_overflow: int | None = None, **kwargs: Any
) -> AsyncEngine:
    """The engine for ORM sessions (and migrations, the CLI, tests). ``pool_size`` and
    ``max_overflow`` size a server database's pool (ignored for SQLite, whose thread
    connections keep SQLAlchemy's default pool, and when a ``poolclass`` is given)."""
    if not _is_sqlite(url):
        if "poolclass" not in kwargs:
            if pool_size is not None:
                kwargs["pool_size"] = pool_size
            if max_overflow is not None:
                kwargs["max_overflow"] = max_overflow
        return create_async_engine(url, **kwargs)
    database, _ = _sqlite_database(url)
    connect_args = {"timeout": _SQLITE_LOCK_TIMEOUT, **kwargs.pop("connect_args", {})}
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    _sqlite_thread_connections(engine)
    _sqlite_explicit_transactions(engine, gate_for(database))
    return engine


def make_hot_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """On SQLite, the in-loop engine whose connector ``Statements`` runs on (not for ORM
    sessions: everything on it runs on the event loop). Elsewhere ``make_engine``."""
    if not _is_sqlite(url):
        return make_engine(url, **kwargs)
    database, uri = _sqlite_database(url)
    connector = InLoopConnector(database, uri=uri, timeout=_SQLITE_LOCK_TIMEOUT)
    engine = create_async_engine(url, async_creator=connector.connect, **kwargs)
    _sqlite_explicit_transactions(engine, None)  # the connections take the gate themselves
    _CONNECTORS[engine.sync_engine] = connector
    return engine


def in_loop_connector(engine: AsyncEngine) -> InLoopConnector | None:
    """The connector behind an in-loop SQLite engine made by ``make_hot_engine``
    (``app.infra.statements`` runs compiled statements on its connections directly)."""
    return _CONNECTORS.get(engine.sync_engine)


_CONNECTORS: weakref.WeakKeyDictionary[Engine, InLoopConnector] = weakref.WeakKeyDictionary()


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_database(url: str) -> tuple[str, bool]:
    args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    return str(args[0]), bool(options.get("uri"))


def _sqlite_thread_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver never issues BEGIN itself; the "begin" listener below does.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in InLoopConnector.PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def _sqlite_explicit_transactions(engine: AsyncEngine, gate: WriteGate | None) -> None:
    """``BEGIN`` for read-only sessions, ``BEGIN IMMEDIATE`` for the rest; with ``gate``,
    a writer first waits its turn among the process's writers to the same file."""
    held: weakref.WeakKeyDictionary[Connection, weakref.finalize[Any, Any]] = (
        weakref.WeakKeyDictionary()
    )

    def release(conn: Connection) -> None:
        finalizer = held.pop(conn, None)
        if finalizer is not None:
            finalizer()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        if gate is not None:
            adapted = conn.connection.dbapi_connection
            assert adapted is not None
            try:
                lock = adapted.run_async(lambda _driver: gate.acquire(wait=_SQLITE_LOCK_TIMEOUT))
            except sqlite3.OperationalError as error:
                raise exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
            # Released with COMMIT/ROLLBACK; should the connection be dropped without
            # either, the finalizer gives the turn back when it is collected.
            held[conn] = weakref.finalize(conn, _release, lock, asyncio.get_running_loop())
        try:
            # IMMEDIATE takes the write lock up front: two deferred transactions that
            # both upgrade to writers would deadlock, and busy_timeout cannot resolve that.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(conn)
            raise

    if gate is None:
        return

    # Both fire just before the driver's COMMIT/ROLLBACK: a writer let in meanwhile finds
    # SQLite's lock still held for that instant and waits it out (backoff/busy_timeout).
    @event.listens_for(engine.sync_engine, "commit")
    def _commit(conn: Connection) -> None:
        release(conn)

    @event.listens_for(engine.sync_engine, "rollback")
    def _rollback(conn: Connection) -> None:
        release(conn)


def _release(lock: asyncio.Lock, loop: asyncio.AbstractEventLoop) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        lock.release()
    elif not loop.is_closed():  # collected on another thread
        loop.call_soon_threadsafe(lock.release)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read (auth, delivery, lookups)."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
