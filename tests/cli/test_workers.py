"""``mediastudio worker`` sweeps; sweepers running at once are safe; sibling processes get
distinct snowflake nodes; help texts keep their defaults."""

from __future__ import annotations

import asyncio
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import app as cli_app
from app.core.clock import utcnow
from app.infra.nodes import NoFreeNode, claim_node
from app.jobs.sweeper import sweep_once
from app.models import Media
from tests.cli.conftest import BIN, Cli, assert_one_line_mistake
from tests.cli.test_admin import _cli_for, _expired_upload
from tests.conftest import Env, User
from tests.fixtures.live import free_port, wait_until_serving


@pytest.mark.slow
async def test_the_worker_process_sweeps(
    cli: Cli, env: Env, alice: User, engine: AsyncEngine, tmp_path: Path
) -> None:
    cli = _cli_for(cli, env)
    media_id = await _expired_upload(env, alice, engine)
    log = (tmp_path / "worker.log").open("wb")
    worker = await asyncio.create_subprocess_exec(
        str(BIN / "mediastudio"), "worker",
        env={**cli.env, "MEDIASTUDIO_WORKER__SWEEP_INTERVAL_SECS": "0.2"},
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        for _ in range(300):
            async with env.state.sessions() as session:
                if await session.get(Media, media_id) is None:
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail((tmp_path / "worker.log").read_text())
        # The sweep logs once its batch is done, just after the last delete commits.
        for _ in range(100):
            if "expired media swept" in (tmp_path / "worker.log").read_text():
                break
            await asyncio.sleep(0.1)
    finally:
        worker.terminate()
        await asyncio.wait_for(worker.wait(), 15)
        log.close()
    assert "expired media swept" in (tmp_path / "worker.log").read_text()


async def test_sweepers_running_at_once_remove_each_media_once(
    env: Env, alice: User, engine: AsyncEngine
) -> None:
    expired = [await _expired_upload(env, alice, engine) for _ in range(6)]

    removed = await asyncio.gather(
        *(sweep_once(env.state.sessions, env.state.store, now=utcnow()) for _ in range(3))
    )

    assert sum(removed) >= len(expired)  # a media may be counted by two, none is missed
    async with env.state.sessions() as session:
        assert all([await session.get(Media, media_id) is None for media_id in expired])
    assert await sweep_once(env.state.sessions, env.state.store, now=utcnow()) == 0


def test_node_slots_are_claimed_once_each(tmp_path: Path) -> None:
    first = claim_node(40, 2, tmp_path)
    second = claim_node(40, 2, tmp_path)

    with pytest.raises(NoFreeNode):
        claim_node(40, 2, tmp_path)
    assert {first.node_id, second.node_id} == {40, 41}
    first.release()
    again = claim_node(40, 2, tmp_path)
    assert again.node_id == first.node_id  # a restarted process takes the freed node
    again.release()
    second.release()
    assert claim_node(None, 1, tmp_path).node_id is None  # one process: random per process
    assert claim_node(7, 1, tmp_path).node_id == 7
    with pytest.raises(ValueError, match="pass 1023"):
        claim_node(1023, 2, tmp_path)


def test_a_node_range_past_1023_is_one_line(bare_cli: Cli) -> None:
    done = bare_cli.run("serve", "--workers", "4", MEDIASTUDIO_NODE_ID="1021")

    assert_one_line_mistake(done, "node ids 1021..1024 pass 1023")


def _node(media_id: int) -> int:
    return (media_id >> 12) & 1023


@pytest.mark.slow
def test_served_workers_make_ids_of_distinct_nodes(bare_cli: Cli, tmp_path: Path) -> None:
    token = bare_cli.json("users", "create", "alice")["bearer_token"]
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "mediastudio"), "serve", "--port", str(port), "--workers", "2"],
            env={**bare_cli.env, "MEDIASTUDIO_NODE_ID": "100"}, stdout=log, stderr=log,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def one_init(_: int) -> int:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            sent = client.post(
                base + "/1.1/media/upload.json",
                data={"command": "INIT", "total_bytes": "1000", "media_type": "image/png"},
            )
            return _node(int(sent.json()["media_id_string"]))

    try:
        wait_until_serving(server, log_path, healthy)
        nodes: set[int] = set()
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(16) as pool:  # concurrent connections: both accept
            while nodes != {100, 101} and time.monotonic() < deadline:
                nodes |= set(pool.map(one_init, range(32)))
                assert nodes <= {100, 101}
    finally:
        server.terminate()
        server.wait(20)
    assert nodes == {100, 101}


def test_help_texts_keep_their_defaults() -> None:
    runner = CliRunner()

    def shown(*args: str) -> str:
        result = runner.invoke(cli_app, [*args, "--help"], env={"COLUMNS": "300"})
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    upload = shown("upload")
    assert "[default: (http://HOST:PORT from settings)]" in upload
    assert "[default: (guessed from the file)]" in upload
    assert "[default: 4194304]" in upload
    serve = shown("serve")
    assert "[default: 1]" in serve
    assert "[default: (MEDIASTUDIO_LOG_FORMAT, else json)]" in serve
    assert "[default: (MEDIASTUDIO_HOST, else 127.0.0.1)]" in serve
    assert "[default: 50]" in shown("jobs", "list")
    assert "[default: sweep]" in shown("worker")
    for command in ("users", "apps", "jobs"):
        assert "list" in shown(command)
    top = shown()
    for command in ("serve", "worker", "migrate", "users", "apps", "jobs", "sweep", "upload"):
        assert command in top
