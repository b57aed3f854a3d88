"""``mediastudio live`` and ``serve`` where live ingest cannot run: one line saying why,
and (for serve) everything else works."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from app.config import LiveSettings
from app.live.nginx import missing
from tests.fixtures.live import free_port, wait_until_serving
from tests.live.stack import BIN

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MEDIASTUDIO_DATA_DIR": str(tmp_path / "data"),
        "MEDIASTUDIO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        "MEDIASTUDIO_LOG_FORMAT": "text",
        **extra,
    }


def test_missing_names_what_is_missing(tmp_path: Path) -> None:
    assert "is not installed" in (missing(LiveSettings(nginx_binary=str(tmp_path / "nginx"))) or "")
    fake = tmp_path / "nginx"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    modules = tmp_path / "modules"
    modules.mkdir()
    reason = missing(LiveSettings(nginx_binary=str(fake), modules_dir=modules))
    assert reason is not None
    assert "RTMP module" in reason
    (modules / "ngx_rtmp_module.so").write_bytes(b"")
    assert missing(LiveSettings(nginx_binary=str(fake), modules_dir=modules)) is None
    with_tls = LiveSettings(
        nginx_binary=str(fake), modules_dir=modules, tls_certfile=tmp_path / "c.pem",
        tls_keyfile=tmp_path / "k.pem",
    )  # fmt: skip
    assert "stream module" in (missing(with_tls) or "")


def test_live_alone_refuses_in_one_line_without_nginx(tmp_path: Path) -> None:
    env = _env(tmp_path, MEDIASTUDIO_LIVE__NGINX_BINARY=str(tmp_path / "no-nginx"))
    done = subprocess.run(
        [str(BIN / "mediastudio"), "live"], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert "live ingest cannot start" in lines[0]
    assert "is not installed" in lines[0]


async def test_serve_says_live_ingest_is_off_and_serves(tmp_path: Path) -> None:
    await asyncio.to_thread(_serve_without_nginx, tmp_path)


def _serve_without_nginx(tmp_path: Path) -> None:
    port = free_port()
    env = _env(
        tmp_path, MEDIASTUDIO_LIVE__NGINX_BINARY=str(tmp_path / "no-nginx"),
        MEDIASTUDIO_LIVE__ENABLED="true",
    )  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "mediastudio"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        wait_until_serving(
            process, log,
            lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200,
        )  # fmt: skip
        text = log.read_text()
        off = [line for line in text.splitlines() if line.startswith("live ingest is off")]
        assert len(off) == 1, text
        assert "is not installed" in off[0]
        assert httpx.get(f"http://127.0.0.1:{port}/2/region", timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(20)
