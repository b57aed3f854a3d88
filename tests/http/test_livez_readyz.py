"""``/livez`` (the process answers), ``/readyz`` and ``/healthz`` (database, schema at head,
storage writable; ``/readyz`` also free space), in process and on a real server whose
schema, storage or database change while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

from app.infra import schema
from app.infra.db import make_engine, make_read_sessionmaker, make_sessionmaker
from app.migrate import upgrade_to_head
from tests.conftest import (
    PG_SERVER_URL,
    Env,
    _drop_database,
)
from tests.fixtures.live import free_port
from tests.fixtures.scratch_db import blank_database_url, postgres_database, stamp
from tests.fixtures.served import Served

__all__ = ["blank_database_url"]

HEAD = schema.code_revisions().head


def _unreachable_url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        folder = tmp_path / "a-folder.db"  # a folder where the file should be: cannot open
        folder.mkdir()
        return f"sqlite+aiosqlite:///{folder}"
    return f"postgresql+asyncpg://postgres:pw@127.0.0.1:{free_port()}/gone"  # nobody listens


async def test_livez_answers_without_the_database(env: Env, tmp_path: Path) -> None:
    gone = make_engine(_unreachable_url(env.database_url, tmp_path))
    env.state.sessions = make_sessionmaker(gone)
    env.state.read_sessions = make_read_sessionmaker(gone)
    try:
        live = await env.client.get("/livez")
        ready = await env.client.get("/readyz")
        health = await env.client.get("/healthz")
    finally:
        await gone.dispose()

    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database", "schema"]
    assert health.status_code == 503
    assert health.json()["checks"] == {"database": False, "schema": False, "storage": True}


async def test_readyz_names_the_schema_when_the_database_is_behind(env: Env) -> None:
    try:
        await stamp(env.database_url, "0004")
        behind = await env.client.get("/readyz")
        health = await env.client.get("/healthz")
    finally:
        await stamp(env.database_url, HEAD)
    again = await env.client.get("/readyz")

    assert behind.status_code == 503
    assert behind.json()["failing"] == ["schema"]
    assert behind.json()["checks"]["database"] is True
    assert health.status_code == 503
    assert again.status_code == 200
    assert again.json()["failing"] == []


# -- a real server -------------------------------------------------------------------


@pytest.fixture
def served(blank_database_url: str, tmp_path: Path) -> Iterator[Served]:
    upgrade_to_head(blank_database_url)
    server = Served(tmp_path / "data", blank_database_url, tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _get(served: Served, path: str) -> httpx.Response:
    return httpx.get(served.base + path, timeout=10)


@pytest.mark.slow
def test_readyz_follows_the_schema_of_a_running_server(served: Served) -> None:
    url = served.env["MEDIASTUDIO_DATABASE_URL"]
    current = _get(served, "/readyz")
    asyncio.run(stamp(url, "0004"))  # as if a migration were rolled back under it
    behind = _get(served, "/readyz")
    asyncio.run(stamp(url, "9999"))  # as if a newer deployment migrated it
    ahead = _get(served, "/readyz")
    healthz = _get(served, "/healthz")
    asyncio.run(stamp(url, HEAD))
    back = _get(served, "/readyz")

    assert current.status_code == 200, current.text
    assert current.json()["checks"]["schema"] is True
    assert behind.status_code == 503
    assert behind.json()["failing"] == ["schema"]
    assert ahead.status_code == 503
    assert ahead.json()["failing"] == ["schema"]
    assert healthz.status_code == 503
    assert healthz.json()["checks"]["schema"] is False
    assert back.status_code == 200
    assert _get(served, "/livez").status_code == 200


@pytest.mark.slow
def test_readyz_fails_when_storage_cannot_be_written(served: Served) -> None:
    media = served.data_dir / "media"
    assert _get(served, "/readyz").status_code == 200
    # Root writes through any chmod: put a file where the storage folder is instead.
    media.rename(served.data_dir / "media.away")
    media.write_bytes(b"")
    try:
        blocked = _get(served, "/readyz")
        health = _get(served, "/healthz")
        live = _get(served, "/livez")
    finally:
        media.unlink()
        (served.data_dir / "media.away").rename(media)
    back = _get(served, "/readyz")

    assert blocked.status_code == 503
    assert blocked.json()["failing"] == ["storage"]
    assert health.status_code == 503
    assert live.status_code == 200
    assert back.status_code == 200
    assert [p.name for p in media.iterdir() if p.name.startswith(".health-")] == []


@pytest.fixture
async def own_postgres_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


@pytest.mark.slow
def test_livez_answers_after_the_postgresql_database_is_dropped_under_a_running_server(
    own_postgres_url: str, tmp_path: Path
) -> None:
    url = own_postgres_url
    upgrade_to_head(url)
    served = Served(tmp_path / "data", url, tmp_path / "server.log")
    served.start()
    try:
        asyncio.run(_drop_database(PG_SERVER_URL, url.rsplit("/", 1)[1]))
        live = _get(served, "/livez")
        ready = _get(served, "/readyz")
    finally:
        served.stop()

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database", "schema"]


async def test_readyz_costs_one_small_query(env: Env) -> None:
    await env.client.get("/readyz")  # the code's revisions are read once per process
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(statement)

    event.listen(env.state.engine.sync_engine, "before_cursor_execute", seen)
    try:
        response = await env.client.get("/readyz")
    finally:
        event.remove(env.state.engine.sync_engine, "before_cursor_execute", seen)

    assert response.status_code == 200
    assert statements == ["SELECT version_num FROM alembic_version"]
