"""The real ``mediastudio`` console script in a subprocess, on the test's database and data
folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import (
    PG_SERVER_URL,
    _create_database,
    _drop_database,
    _postgres_reachable,
    _truncate,
)

BIN = Path(sys.executable).parent


@dataclass
class Cli:
    env: dict[str, str]

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "mediastudio"), *args],
            env={**self.env, **env}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def ok(self, *args: str, **env: str) -> str:
        done = self.run(*args, **env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


def assert_one_line_mistake(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Exit code 2, one line on stderr starting ``mediastudio:``, no traceback."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mediastudio: ")
    for text in expected:
        assert text in lines[0]
    return lines[0]


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "MEDIASTUDIO_DATABASE_URL": database_url,
        "MEDIASTUDIO_DATA_DIR": str(tmp_path / "data"),
        "MEDIASTUDIO_ENV_FILE": "",
        "COLUMNS": "200",
    }


@pytest.fixture
def bare_cli(tmp_path: Path) -> Cli:
    """On a SQLite database of its own (for mistakes that never reach a database)."""
    return Cli(_env(tmp_path, f"sqlite:///{tmp_path / 'own.db'}"))


@pytest.fixture
async def scratch_postgres() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (unmigrated), as a plain postgresql:// URL."""
    name = f"cli_{uuid.uuid4().hex[:12]}"
    if not await _postgres_reachable(PG_SERVER_URL):
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_SERVER_URL}")
        pytest.skip("PostgreSQL not running")
    await _create_database(PG_SERVER_URL, name)
    try:
        yield PG_SERVER_URL.replace("+asyncpg", "").rsplit("/", 1)[0] + f"/{name}"
    finally:
        await _drop_database(PG_SERVER_URL, name)


@pytest.fixture
async def cli(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Cli]:
    yield Cli(_env(tmp_path, database_url))
    await _truncate(engine)
