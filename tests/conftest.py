"""Fixtures: every DB test runs on SQLite and on PostgreSQL, against real migrations,
the real filesystem store and real media."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from app.accounts import service as accounts
from app.config import ENV_FILE_VARIABLE, Settings, WorkerSettings
from app.context import AppContext
from app.core.ids import IdGenerator
from app.infra.db import make_engine, make_sessionmaker
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import Base
from tests.fixtures import fuzzing, media

# The server to test against; each run creates a database of its own there (named
# below) and drops it at the end, so two runs on one machine never share one.
PG_SERVER_URL = os.environ.get(
    "MEDIASTUDIO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = f"mediastudio_test_{os.getpid()}_{secrets.token_hex(4)}"
PG_URL = PG_SERVER_URL.rsplit("/", 1)[0] + "/" + PG_DATABASE


def pytest_configure(config: pytest.Config) -> None:
    # A developer's .env never reaches the suite's settings, nor the servers it starts.
    os.environ[ENV_FILE_VARIABLE] = ""
    # The servers the suite starts run no live ingest (nginx on the default ports, one per
    # server, would collide across tests): tests/live turns it on for its own, on ports of
    # their own.
    os.environ.setdefault("MEDIASTUDIO_LIVE__ENABLED", "false")
    fuzzing.load_profile(config.option.markexpr or "")  # hypothesis: see tests/fixtures/fuzzing.py


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {fuzzing.load_profile(config.option.markexpr or '')}"


async def _postgres_reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def _create_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url.replace("+asyncpg", ""))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url.replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        await asyncio.to_thread(upgrade_to_head, url)  # the real migrations
        yield url
        return
    if not await _postgres_reachable(PG_SERVER_URL):
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_SERVER_URL}")
        pytest.skip("PostgreSQL not running")
    await _create_database(PG_SERVER_URL, PG_DATABASE)
    try:
        await asyncio.to_thread(upgrade_to_head, PG_URL)
        yield PG_URL
    finally:
        await _drop_database(PG_SERVER_URL, PG_DATABASE)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(text(f"DELETE FROM {table.name}"))


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        worker=WorkerSettings(in_process=False),
        **overrides,  # type: ignore[arg-type]
    )


@dataclass
class Env:
    """One test's service: its app (lifespan running), client and data directory."""

    app: FastAPI
    client: AsyncClient
    data_dir: Path
    database_url: str

    @property
    def state(self) -> AppContext:
        """The app's context (sessions, store, policy, ...); fields may be swapped."""
        return cast(AppContext, self.app.state.context)


@pytest.fixture
async def env(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Env]:
    app = create_app(make_settings(database_url, tmp_path / "data"))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Env(app=app, client=client, data_dir=tmp_path / "data", database_url=database_url)
    await _truncate(engine)


@dataclass(frozen=True)
class User:
    id: int
    screen_name: str
    headers: dict[str, str]
    credentials: accounts.IssuedCredentials


async def create_user(engine: AsyncEngine, screen_name: str) -> User:
    async with make_sessionmaker(engine)() as session:
        creds = await accounts.create_user(session, IdGenerator(), screen_name=screen_name)
    return User(
        id=creds.user_id,
        screen_name=screen_name,
        headers={"Authorization": f"Bearer {creds.bearer_token}"},
        credentials=creds,
    )


@pytest.fixture
async def alice(env: Env, engine: AsyncEngine) -> User:
    return await create_user(engine, "alice")


@pytest.fixture
async def bob(env: Env, engine: AsyncEngine) -> User:
    return await create_user(engine, "bob")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def mp4_file(media_dir: Path) -> Path:
    return media.make_mp4(media_dir / "clip.mp4")


@pytest.fixture(scope="session")
def png_file(media_dir: Path) -> Path:
    return media.make_png(media_dir / "image.png")


@pytest.fixture(scope="session")
def jpeg_file(media_dir: Path) -> Path:
    return media.make_jpeg(media_dir / "image.jpg")


@pytest.fixture(scope="session")
def gif_file(media_dir: Path) -> Path:
    return media.make_gif(media_dir / "anim.gif")


@pytest.fixture(scope="session")
def big_video(media_dir: Path) -> Path:
    """A real video of a little over 40 MiB."""
    path = media.make_noise_mp4(media_dir / "noise.mp4", seconds=4)
    assert path.stat().st_size > 40 * 1024 * 1024
    return path
