"""Is the database's schema the one this code needs? Compares the revision Alembic
stamped in ``alembic_version`` with the head of ``migrations/``.

``current``: at head. ``behind``: unmigrated (no ``alembic_version`` table, or no
database file yet) or at an older revision: ``mediastudio migrate`` fixes it.
``ahead``: a revision this code does not know (a newer deployment migrated it): never
downgraded from here. ``unreachable``: no connection (or ``alembic_version`` cannot
be read, e.g. no permission); its line names the host and database, never the password.

The code's revisions are read once per process (``code_revisions``); a check is then
one small query (``SELECT version_num FROM alembic_version``), cheap enough for every
``/readyz``. Entry points: the app's lifespan (``ensure_current``), the CLI
(``status_of_url``), the health checks (``status_of_sessions``).
"""

from __future__ import annotations

import asyncio
import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

__all__ = [
    "SchemaNotCurrent",
    "SchemaState",
    "SchemaStatus",
    "code_revisions",
    "ensure_current",
    "status_of_connection",
    "status_of_engine",
    "status_of_sessions",
    "status_of_url",
]

_QUERY = text("SELECT version_num FROM alembic_version")


class SchemaState(enum.StrEnum):
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class CodeRevisions:
    head: str
    known: frozenset[str]


@functools.cache
def code_revisions() -> CodeRevisions:
    """The head and every revision of ``migrations/`` (read once per process)."""
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(""))
    heads = script.get_heads()
    if len(heads) != 1:  # pragma: no cover - tests/test_migrations.py keeps one head
        raise RuntimeError(f"migrations/ has {len(heads)} heads: {heads}")
    return CodeRevisions(heads[0], frozenset(s.revision for s in script.walk_revisions()))


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    state: SchemaState
    revisions: tuple[str, ...]  # what alembic_version holds (empty: unmigrated)
    head: str
    where: str  # host/database or file, no password
    error: str = ""  # why it is unreachable

    @property
    def current(self) -> bool:
        return self.state is SchemaState.CURRENT

    def message(self) -> str:
        """One line for a refusal (stderr, the server log)."""
        at = f"at {', '.join(self.revisions)}" if self.revisions else "not migrated"
        if self.state is SchemaState.BEHIND:
            return (
                f"mediastudio: database schema is behind ({at}, code needs {self.head}) "
                f"at {self.where}: run `mediastudio migrate`"
            )
        if self.state is SchemaState.AHEAD:
            return (
                f"mediastudio: database schema is ahead ({at}, unknown to this code, "
                f"whose newest is {self.head}) at {self.where}: a newer version migrated it; "
                "run that version (this one never downgrades)"
            )
        if self.state is SchemaState.UNREACHABLE:
            return f"mediastudio: cannot reach the database {self.where}: {self.error}"
        return f"mediastudio: database schema is current ({self.head}) at {self.where}"


class SchemaNotCurrent(Exception):
    """The app refuses to start; ``str()`` is the one line to show."""

    def __init__(self, status: SchemaStatus) -> None:
        super().__init__(status.message())
        self.status = status


def describe(database_url: str) -> str:
    """Where the database is, without credentials: ``host:port/db`` or the file."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return "(unparsable database URL)"
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database or ''}"


def _classify(revisions: Sequence[str], where: str) -> SchemaStatus:
    code = code_revisions()
    found = tuple(sorted(revisions))
    if found == (code.head,):
        state = SchemaState.CURRENT
    elif any(rev not in code.known for rev in found):
        state = SchemaState.AHEAD
    else:
        state = SchemaState.BEHIND
    return SchemaStatus(state, found, code.head, where)


def _unreachable(exc: BaseException, where: str) -> SchemaStatus:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    kind = type(cause.__cause__ or cause).__name__  # the driver's own, under the adapter's
    error = f"{kind}: {lines[0] if lines else ''}".rstrip(": ")
    return SchemaStatus(SchemaState.UNREACHABLE, (), code_revisions().head, where, error)


async def status_of_connection(conn: AsyncConnection, where: str) -> SchemaStatus:
    """One query on a connection already made (its caller closes it, which rolls a
    failed statement back). A missing ``alembic_version`` is ``behind``."""
    try:
        rows = (await conn.execute(_QUERY)).scalars().all()
    except DBAPIError as exc:
        return _failed_query(exc, where)
    return _classify([str(r) for r in rows], where)


def _failed_query(exc: DBAPIError, where: str) -> SchemaStatus:
    if _no_such_table(exc):
        return _classify((), where)  # never migrated
    return _unreachable(exc, where)  # e.g. no permission to read it: say so


def _no_such_table(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return False
    if getattr(exc.orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
        return True
    return "no such table" in str(exc.orig)  # SQLite


async def status_of_engine(engine: AsyncEngine) -> SchemaStatus:
    where = describe(engine.url.render_as_string(hide_password=True))
    try:
        conn = await engine.connect()
    except (DBAPIError, OSError, TimeoutError) as exc:
        return _unreachable(exc, where)
    try:
        return await status_of_connection(conn, where)
    finally:
        await conn.close()


async def status_of_sessions(sessions: async_sessionmaker[AsyncSession]) -> SchemaStatus:
    """The check ``/readyz`` and ``/healthz`` run: one connection from the pool, one query."""
    async with sessions() as session:
        bind = session.get_bind()
        where = describe(bind.engine.url.render_as_string(hide_password=True))
        try:
            conn = await session.connection()
        except (DBAPIError, OSError, TimeoutError) as exc:
            return _unreachable(exc, where)
        return await status_of_connection(conn, where)


def _sqlite_path(database_url: str) -> str | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


def _sqlite_status(database_url: str) -> SchemaStatus:
    """SQLite, synchronously through the standard library's driver. A missing file is
    ``behind`` and is not created. (Not aiosqlite: a failed open is answered from its
    thread after the loop of ``asyncio.run`` has closed, which ends in a traceback.)"""
    path = _sqlite_path(database_url)
    assert path is not None
    if not Path(path).exists():
        return _classify((), path)
    engine = create_engine(make_url(database_url).set(drivername="sqlite"), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            try:
                rows = conn.execute(_QUERY).scalars().all()
            except DBAPIError as exc:
                return _failed_query(exc, path)
    except DBAPIError as exc:
        return _unreachable(exc, path)
    finally:
        engine.dispose()
    return _classify([str(r) for r in rows], path)


async def ensure_current(engine: AsyncEngine) -> SchemaStatus:
    """Raise ``SchemaNotCurrent`` unless the schema is at head (the app's start-up)."""
    url = engine.url.render_as_string(hide_password=False)
    if _sqlite_path(url) is not None:
        status = await asyncio.to_thread(_sqlite_status, url)
    else:
        status = await status_of_engine(engine)
    if not status.current:
        raise SchemaNotCurrent(status)
    return status


def status_of_url(database_url: str) -> SchemaStatus:
    """For the CLI (no event loop running): a throwaway engine, one query."""
    from app.infra.db import make_engine

    try:
        if _sqlite_path(database_url) is not None:
            return _sqlite_status(database_url)
        engine = make_engine(database_url, poolclass=NullPool)
    except (ArgumentError, ImportError) as exc:
        return _unreachable(exc, describe(database_url))

    async def run() -> SchemaStatus:
        try:
            return await status_of_engine(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())
