"""SQLite for SQLAlchemy's aiosqlite dialect, run on the event loop instead of a thread.

aiosqlite runs every cursor call (open, execute, fetch, close) as a hand-off to a
per-connection thread and back, about 30 us each; SQLAlchemy makes four of them per
statement, so a one-row read in its own session costs ~600 us of CPU against ~120 us for
the same work synchronously (docs/perf/sqlite-inloop.md). SQLite statements on a small,
cached database take microseconds, so this connection runs them where they are awaited.

What the thread was protecting against is handled here instead:

* **Lock waits never block the loop.** The connection uses ``busy_timeout=0``; a
  statement that finds the database locked (another process is writing) is retried
  after an ``asyncio.sleep`` with backoff, up to ``timeout`` seconds, then raises the
  usual ``database is locked``.
* **Writers of this process queue instead of polling.** ``BEGIN IMMEDIATE`` first takes
  the database file's ``WriteGate`` (an ``asyncio.Lock`` per event loop, shared by every
  connection of this process to that file, the thread-backed ORM engine's writers
  included, see ``app.infra.db``) and releases it with ``COMMIT``/``ROLLBACK``: SQLite
  admits one writer anyway, and the FIFO hand-off avoids the sleep-and-retry loop
  between coroutines of one process.

Still on the loop: the statement itself and, every ~1,000 written pages, WAL's automatic
checkpoint (a few ms). So only the compiled hot statements (``app.infra.statements``)
run here; ORM sessions and anything long run on the thread-backed engine.

SQLAlchemy's dialect is unchanged (``sqlite+aiosqlite://``); only the driver-level
connection is swapped in through ``create_async_engine(async_creator=...)``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["InLoopConnection", "InLoopConnector", "WriteGate", "gate_for"]

_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_FIRST_BACKOFF = 0.0005
_MAX_BACKOFF = 0.02


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _BUSY_CODES


class WriteGate:
    """One writer at a time among this process's connections to one database file, per
    event loop (a loop of another thread, e.g. migrations run with ``asyncio.run`` in a
    worker thread, gets a lock of its own and meets the others at SQLite's lock)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._last: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop:
            return last[1]
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        self._last = (loop, lock)
        return lock

    async def acquire(self, *, wait: float) -> asyncio.Lock:
        """Wait in line (FIFO) for the write turn; the lock to release when it ends.
        Raises ``database is locked`` after ``wait`` seconds."""
        lock = self.lock()
        if lock.locked():  # wait in line (wait_for costs a task: only when needed)
            try:
                await asyncio.wait_for(lock.acquire(), wait)
            except TimeoutError:
                raise sqlite3.OperationalError("database is locked") from None
        else:
            await lock.acquire()
        return lock


_GATES: dict[str, WriteGate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(database: str) -> WriteGate:
    """The ``WriteGate`` of a database file (a name or ``file:`` URI as sqlite3 takes it)."""
    key = database if database.startswith("file:") or database in ("", ":memory:") else (
        os.path.realpath(database)
    )  # fmt: skip
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = WriteGate()
        return gate


class _Cursor:
    """The part of ``aiosqlite.Cursor`` that SQLAlchemy's adapter uses."""

    def __init__(self, owner: InLoopConnection) -> None:
        self._owner = owner
        self._cursor = owner._conn.cursor()

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        await self._owner._run(sql, lambda: self._cursor.execute(sql, parameters or ()))
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> _Cursor:
        rows = list(seq)
        await self._owner._run(sql, lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """SQLAlchemy sets ``isolation_level`` by queueing a call for aiosqlite's thread;
    here the call runs at once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InLoopConnector:
    """Makes the connections of one database file; they share its ``WriteGate``.

    WAL + ``synchronous=NORMAL``: a commit survives a crash of the process (not of the
    machine) and saves an fsync per transaction.
    """

    PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL")

    def __init__(self, database: str, *, uri: bool, timeout: float) -> None:
        self.database, self.uri, self.timeout = database, uri, timeout
        self.gate = gate_for(database)

    async def connect(self) -> InLoopConnection:
        connection = InLoopConnection(
            self.database, gate=self.gate, timeout=self.timeout, uri=self.uri
        )
        for pragma in self.PRAGMAS:
            connection._conn.execute(f"PRAGMA {pragma}")
        return connection


class InLoopConnection:
    """The part of ``aiosqlite.Connection`` that SQLAlchemy's adapter uses, plus a
    direct interface (``begin``/``run``) for statements compiled ahead of time."""

    def __init__(self, database: str, *, gate: WriteGate, timeout: float, uri: bool) -> None:
        # isolation_level=None: the driver never issues BEGIN itself (db.py's begin event
        # and app.statements do); check_same_thread=False: the pool may close it anywhere.
        self._conn = sqlite3.connect(
            database, timeout=0, isolation_level=None, check_same_thread=False, uri=uri
        )
        self._conn.execute("PRAGMA busy_timeout=0")
        self._connection = self._conn  # SQLAlchemy checks it is still open
        self._tx = _ImmediateQueue(self._conn)
        self._gate = gate
        self._timeout = timeout
        self._held: asyncio.Lock | None = None

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    async def begin(self, *, write: bool) -> None:
        sql = "BEGIN IMMEDIATE" if write else "BEGIN"
        await self._run(sql, lambda: self._conn.execute(sql))

    async def run(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """Execute one statement; its rows, if it returns any."""
        rows: list[Any] = await self._retrying(
            lambda: self._conn.execute(sql, parameters).fetchall()
        )
        return rows

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        return await self.cursor().execute(sql, parameters)

    async def _run(self, sql: str, call: Callable[[], Any]) -> Any:
        head = sql.lstrip()[:16].upper()
        if head.startswith("BEGIN IMMEDIATE") or head.startswith("BEGIN EXCLUSIVE"):
            await self._enter_writer()
            try:
                return await self._retrying(call)
            except BaseException:
                self._leave_writer()
                raise
        try:
            return await self._retrying(call)
        finally:
            if (head.startswith("COMMIT") or head.startswith("ROLLBACK")) and (
                not self._conn.in_transaction
            ):
                self._leave_writer()

    async def _retrying(self, call: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self._timeout
        backoff = _FIRST_BACKOFF
        while True:
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _enter_writer(self) -> None:
        if self._held is not None:
            return
        self._held = await self._gate.acquire(wait=self._timeout)

    def _leave_writer(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()

    async def commit(self) -> None:
        try:
            await self._retrying(self._conn.commit)
        finally:
            if not self._conn.in_transaction:
                self._leave_writer()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._leave_writer()

    async def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._leave_writer()

    def stop(self) -> None:
        self._conn.close()
        self._leave_writer()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)
