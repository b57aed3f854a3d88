"""Safe start-up: every entry point refuses a schema that is not the code's head with one
line (app/infra/schema.py), or migrates where that is its job (``mediastudio serve``).

Real processes: uvicorn with both factories, the ``mediastudio`` command; real SQLite
files and PostgreSQL databases of each test's own (tests/fixtures/scratch_db.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.infra import schema
from app.infra.db import make_engine
from app.migrate import alembic_config, upgrade_to_head
from tests.conftest import PG_SERVER_URL
from tests.fixtures.live import free_port
from tests.fixtures.scratch_db import blank_database_url, postgres_database, stamp

__all__ = ["blank_database_url"]

BIN = Path(sys.executable).parent
HEAD = schema.code_revisions().head
BEHIND = f"mediastudio: database schema is behind (not migrated, code needs {HEAD})"


def _env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "MEDIASTUDIO_DATA_DIR": str(data_dir),
        "MEDIASTUDIO_DATABASE_URL": database_url,
        **{f"MEDIASTUDIO_{name.upper()}": value for name, value in settings.items()},
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


async def _revisions(database_url: str) -> list[str]:
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return [str(r) for r in rows.scalars()]
    finally:
        await engine.dispose()


# -- the check itself ---------------------------------------------------------------


async def test_the_check_tells_behind_current_and_ahead(blank_database_url: str) -> None:
    unmigrated = await asyncio.to_thread(schema.status_of_url, blank_database_url)
    await asyncio.to_thread(upgrade_to_head, blank_database_url)
    current = await asyncio.to_thread(schema.status_of_url, blank_database_url)
    await stamp(blank_database_url, "0004")
    older = await asyncio.to_thread(schema.status_of_url, blank_database_url)
    await stamp(blank_database_url, "9999")
    newer = await asyncio.to_thread(schema.status_of_url, blank_database_url)

    assert unmigrated.state is schema.SchemaState.BEHIND
    assert unmigrated.revisions == ()
    assert current.state is schema.SchemaState.CURRENT
    assert current.revisions == (HEAD,)
    assert older.state is schema.SchemaState.BEHIND
    assert older.message().startswith(
        f"mediastudio: database schema is behind (at 0004, code needs {HEAD}) at "
    )
    assert older.message().endswith("run `mediastudio migrate`")
    assert newer.state is schema.SchemaState.AHEAD
    assert "ahead (at 9999" in newer.message()


async def test_an_empty_database_with_tables_but_no_alembic_version_is_behind(
    blank_database_url: str,
) -> None:
    engine = make_engine(blank_database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE jobs (id INTEGER PRIMARY KEY)"))
        status = await schema.status_of_engine(engine)
    finally:
        await engine.dispose()

    assert status.state is schema.SchemaState.BEHIND


def test_the_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(""))

    assert schema.code_revisions().head == script.get_current_head()
    assert HEAD in schema.code_revisions().known


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://mediastudio:s3cret-pw@127.0.0.1:{port}/media"

    status = schema.status_of_url(url)

    assert status.state is schema.SchemaState.UNREACHABLE
    line = status.message()
    assert line.startswith(f"mediastudio: cannot reach the database 127.0.0.1:{port}/media: ")
    assert "s3cret-pw" not in line
    assert "\n" not in line


def test_a_sqlite_path_that_cannot_be_opened_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "a-folder.db").mkdir()  # a folder where the file should be

    status = schema.status_of_url(f"sqlite+aiosqlite:///{tmp_path / 'a-folder.db'}")

    assert status.state is schema.SchemaState.UNREACHABLE
    assert str(tmp_path / "a-folder.db") in status.message()


async def test_a_postgresql_version_table_it_may_not_read_is_named_not_called_behind() -> None:
    async with postgres_database() as url:
        await asyncio.to_thread(upgrade_to_head, url)
        role = f"mediastudio_nobody_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(PG_SERVER_URL.replace("+asyncpg", ""))
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            limited = make_url(url).set(username=role).render_as_string(hide_password=False)
            status = await asyncio.to_thread(schema.status_of_url, limited)
        finally:
            await admin.execute(f'DROP ROLE "{role}"')
            await admin.close()

    assert status.state is schema.SchemaState.UNREACHABLE
    assert "permission denied" in status.message()


def test_a_missing_sqlite_file_is_behind_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing-yet" / "mediastudio.db"

    status = schema.status_of_url(f"sqlite+aiosqlite:///{path}")

    assert status.state is schema.SchemaState.BEHIND
    assert not path.parent.exists()


# -- uvicorn: the app factories refuse ----------------------------------------------


def _uvicorn(factory: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "uvicorn", factory, "--factory", "--port", str(free_port())]
    return _run(args, _env(database_url, data_dir))


def _messages(stderr: str) -> list[tuple[str, str]]:
    """(level, message) of uvicorn's log lines, text (``ERROR:    ...``) or JSON
    (``app.serve`` configures the service's logging, app/logging.py)."""
    messages = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            messages.append((str(record["level"]).lower(), str(record["message"])))
        else:
            level, _, message = line.partition(":")
            messages.append((level.strip().lower(), message.strip()))
    return messages


@pytest.mark.slow
@pytest.mark.parametrize("factory", ["app.main:create_app", "app.serve:create_served_app"])
def test_uvicorn_refuses_an_unmigrated_database_with_one_line(
    factory: str, blank_database_url: str, tmp_path: Path
) -> None:
    done = _uvicorn(factory, blank_database_url, tmp_path / "data")

    assert done.returncode == 3, done.stderr  # uvicorn's exit code for a failed start-up
    assert "Traceback" not in done.stderr
    errors = [message for level, message in _messages(done.stderr) if level == "error"]
    assert len(errors) == 2, done.stderr  # the refusal, then uvicorn's own
    assert errors[0].startswith(BEHIND)
    assert errors[0].endswith("run `mediastudio migrate`")
    assert errors[1] == "Application startup failed. Exiting."
    assert "Application startup complete" not in done.stderr


@pytest.mark.slow
def test_uvicorn_refuses_a_newer_schema(blank_database_url: str, tmp_path: Path) -> None:
    upgrade_to_head(blank_database_url)
    asyncio.run(stamp(blank_database_url, "9999"))

    done = _uvicorn("app.main:create_app", blank_database_url, tmp_path / "data")

    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "mediastudio: database schema is ahead (at 9999" in done.stderr


# -- the CLI ------------------------------------------------------------------------


def _mediastudio(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "mediastudio"), *args], env)


@pytest.mark.slow
def test_serve_no_migrate_refuses_an_unmigrated_database(
    blank_database_url: str, tmp_path: Path
) -> None:
    env = _env(blank_database_url, tmp_path / "data")

    flag = _mediastudio("serve", "--no-migrate", "--port", str(free_port()), env=env)
    setting = _mediastudio(
        "serve", "--port", str(free_port()), env={**env, "MEDIASTUDIO_MIGRATE_ON_START": "false"}
    )

    for done in (flag, setting):
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [done.stderr.strip()]  # one line
        assert done.stderr.startswith(BEHIND)
    assert schema.status_of_url(blank_database_url).revisions == ()  # left unmigrated


@pytest.mark.slow
def test_serve_refuses_a_newer_schema_and_leaves_it(
    blank_database_url: str, tmp_path: Path
) -> None:
    upgrade_to_head(blank_database_url)
    asyncio.run(stamp(blank_database_url, "9999"))

    done = _mediastudio(
        "serve", "--port", str(free_port()), env=_env(blank_database_url, tmp_path / "data")
    )

    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("mediastudio: database schema is ahead (at 9999, ")
    assert asyncio.run(_revisions(blank_database_url)) == ["9999"]  # never downgraded


@pytest.mark.slow
def test_worker_refuses_an_unmigrated_database_and_never_migrates(
    blank_database_url: str, tmp_path: Path
) -> None:
    done = _mediastudio("worker", env=_env(blank_database_url, tmp_path / "data"))

    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(BEHIND)
    status = schema.status_of_url(blank_database_url)
    assert status.state is schema.SchemaState.BEHIND


@pytest.mark.slow
def test_serve_migrates_a_fresh_database_and_serves(
    blank_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = _env(blank_database_url, tmp_path / "fresh-data", worker__in_process="true")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "mediastudio"), "serve", "--port", str(port)],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        ready = _wait_for(f"http://127.0.0.1:{port}/readyz", process, log)
    finally:
        process.terminate()
        process.wait(30)

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["schema"] is True
    assert asyncio.run(_revisions(blank_database_url)) == [HEAD]
    assert "Traceback" not in log.read_text()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    """The first answer from ``url``; polls (another process's start is no event here)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {log.read_text()[-2000:]}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"serve did not answer: {log.read_text()[-2000:]}")
