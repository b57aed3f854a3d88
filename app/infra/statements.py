"""Hot-path statements: SQLAlchemy Core, compiled once, run with as little per-call
machinery as the driver allows.

INIT, STATUS and APPEND's record step run thousands of times per second; through an
``AsyncSession`` each costs several hundred microseconds of CPU in SQLAlchemy's
per-execution work (session and pool bookkeeping, greenlet switches, cache keys), far
more than the statement itself (docs/perf/statements-and-group-commit.md). Here a
statement is written once as ordinary Core, compiled once per dialect, and then:

* on SQLite (the embedded default), executed directly on an in-loop driver connection
  (``app.sqlite_inloop``) from a small pool of this process, with SQLAlchemy's own
  bind and result processors applied to the values, so types round-trip exactly as
  through the ORM (dates, enums, booleans);
* on any other database, executed through ``AsyncConnection`` as usual (asyncpg's
  round trip dominates there).

Writes on SQLite share the engine's ``WriteGate``, so they queue with the sessions'
transactions of this process rather than racing them.

Small independent writes (INIT's new rows) can go through ``Statements.write``: the
writes that arrive while the event loop is busy (or, on PostgreSQL, while the previous
group is in flight) are committed together (group commit). If one of them fails (an id
collision), the group is rolled back and its writes run again one transaction each, so
only the failing one fails. Every caller still returns only after the COMMIT that holds
its rows; what is saved is a BEGIN and a COMMIT per write (on PostgreSQL, their round
trips and a pool checkout), and on SQLite the WAL pages that consecutive rows share.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from app.infra.db import READ_ONLY, in_loop_connector
from app.infra.sqlite_inloop import InLoopConnection, InLoopConnector

__all__ = ["Prepared", "Statements", "Transaction", "Unit"]

_POOL_SIZE = 8
_MAX_GROUP = 256  # writes per group commit; the rest wait for the next one

T = TypeVar("T")
Unit = Callable[["Transaction"], Awaitable[Any]]


class Prepared:
    """A Core statement and its compiled form per dialect. Parameters are bound by name
    (``bindparam("x")``, or column keys for an ``insert(table)`` given ``columns``)."""

    def __init__(self, statement: ClauseElement, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self, dialect)
        return found


class _Compiled:
    def __init__(self, prepared: Prepared, dialect: Dialect) -> None:
        compiled = prepared.statement.compile(dialect=dialect, column_keys=prepared.columns)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.names = list(compiled.positiontup or [])
        self.binds: list[Callable[[Any], Any] | None] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.names
        ]
        # Literals in the statement (``coalesce(x, 0)``) are binds with a value of their own.
        self.literals = {
            name: compiled.binds[name].effective_value
            for name in self.names
            if not compiled.binds[name].required
        }
        columns = getattr(prepared.statement, "selected_columns", None)
        self.results: list[Callable[[Any], Any] | None] = []
        self.record: Any = None
        if columns is not None and len(columns):
            self.results = [
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            ]
            self.record = namedtuple("Record", [c.key for c in columns])  # type: ignore[misc]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = values[name] if name in values else self.literals[name]
            out.append(process(value) if process is not None and value is not None else value)
        return out

    def rows(self, raw: list[Any]) -> list[Any]:
        if self.record is None:
            return []
        make, results = self.record._make, self.results
        return [
            make(
                (p(v) if p is not None and v is not None else v)
                for p, v in zip(results, row, strict=True)
            )
            for row in raw
        ]


class Transaction:
    """Statements in one transaction; subclasses run them (``all``)."""

    async def all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
        raise NotImplementedError

    async def one(self, prepared: Prepared, values: Mapping[str, Any]) -> Any | None:
        rows = await self.all(prepared, values)
        return rows[0] if rows else None

    async def execute(self, prepared: Prepared, values: Mapping[str, Any]) -> None:
        await self.all(prepared, values)


class _SQLiteTransaction(Transaction):
    def __init__(self, connection: InLoopConnection, dialect: Dialect) -> None:
        self._connection, self._dialect = connection, dialect

    async def all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
        compiled = prepared.compiled(self._dialect)
        try:
            raw = await self._connection.run(compiled.sql, compiled.parameters(values))
        except sqlite3.IntegrityError as error:
            raise exc.IntegrityError(compiled.sql, None, error) from error
        return compiled.rows(raw)


class _EngineTransaction(Transaction):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
        statement = cast(Executable, prepared.statement)
        result = await self._connection.execute(statement, dict(values))
        return list(result.all()) if result.returns_rows else []


class Statements:
    """Runs ``Prepared`` statements on one engine, in short transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.sync_engine.dialect
        self._connector: InLoopConnector | None = in_loop_connector(engine)
        self._idle: list[InLoopConnection] = []
        self._read_engine = engine.execution_options(**{READ_ONLY: True})
        self.dialect: str = self._dialect.name
        self._queued: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def read(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
        """The rows of one statement, read on its own: one statement sees one snapshot,
        so no transaction is opened around it (on SQLite, no BEGIN and no COMMIT)."""
        if self._connector is None:
            async with self._read_engine.connect() as engine_connection:
                return await _EngineTransaction(engine_connection).all(prepared, values)
        connection = await self._checkout(self._connector)
        reusable = False
        try:
            rows = await _SQLiteTransaction(connection, self._dialect).all(prepared, values)
            reusable = True
        finally:
            await self._checkin(connection, reusable=reusable)
        return rows

    async def _checkout(self, connector: InLoopConnector) -> InLoopConnection:
        return self._idle.pop() if self._idle else await connector.connect()

    async def _checkin(self, connection: InLoopConnection, *, reusable: bool) -> None:
        if reusable and len(self._idle) < _POOL_SIZE:
            self._idle.append(connection)
        else:
            await connection.close()

    async def write(self, unit: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run ``unit`` in a write transaction and return its result once committed.

        The units queued while a group is being committed share the next transaction
        (group commit); if any unit raises, the group is rolled back and each unit runs
        again in a transaction of its own, so only a unit that fails alone reaches its
        caller as an exception. A unit may therefore run twice, and must only run
        statements (no other awaits: the group holds SQLite's write lock, or a pooled
        PostgreSQL connection, meanwhile). Measured at 64 concurrent INITs: SQLite
        ~20 units per group; PostgreSQL 1,500 -> 2,000 INITs/s, p99 210 -> 45 ms.
        """
        loop = asyncio.get_running_loop()
        if self._flusher is not None and self._flusher.get_loop() is not loop:
            self._flusher, self._queued = None, []  # its loop stopped mid-flush
        future: asyncio.Future[T] = loop.create_future()
        self._queued.append((unit, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_groups())
        return await future

    async def _flush_groups(self) -> None:
        try:
            while self._queued:
                group, self._queued = self._queued[:_MAX_GROUP], self._queued[_MAX_GROUP:]
                await self._commit_group(group)
        finally:
            self._flusher = None
            for _, future in self._queued:  # only if this task itself was cancelled
                if not future.done():
                    future.set_exception(RuntimeError("the write queue stopped"))
            self._queued = []

    async def _commit_group(self, group: list[tuple[Unit, asyncio.Future[Any]]]) -> None:
        try:
            async with self.transaction(write=True) as transaction:
                results = [await unit(transaction) for unit, _ in group]
        except Exception as error:
            if len(group) > 1:
                # Nothing of the group was committed. Failures are rare (an id collision
                # between nodes), so rather than a savepoint per unit every time, the
                # units run again one transaction each: only what fails alone fails.
                for item in group:
                    await self._commit_group([item])
                return
            _settle(group[0][1], False, error)
            return
        except BaseException as error:  # cancelled: nothing was committed
            for _, future in group:
                _settle(future, False, error)
            raise
        for (_, future), result in zip(group, results, strict=True):
            _settle(future, True, result)

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises.
        ``write=False`` only reads (on SQLite it neither waits for nor blocks writers)."""
        if self._connector is None:
            async with self._engine_transaction(write=write) as transaction:
                yield transaction
            return
        connection = await self._checkout(self._connector)
        reusable = False
        try:
            await connection.begin(write=write)
            try:
                yield _SQLiteTransaction(connection, self._dialect)
            except BaseException:
                await connection.rollback()
                reusable = True
                raise
            await connection.commit()
            reusable = True
        finally:
            await self._checkin(connection, reusable=reusable)

    @asynccontextmanager
    async def _engine_transaction(self, *, write: bool) -> AsyncIterator[Transaction]:
        async with (self.engine if write else self._read_engine).begin() as connection:
            yield _EngineTransaction(connection)

    async def close(self) -> None:
        flusher = self._flusher
        if flusher is not None and flusher.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(flusher)  # let queued writes commit (their callers wait)
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # its caller went away (its rows stay, and expire like any upload)
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
