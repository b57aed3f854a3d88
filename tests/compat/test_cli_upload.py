"""``mediastudio upload`` against a real server that dies mid-upload and comes back."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.compat.conftest import BIN, LiveServer

pytestmark = pytest.mark.slow


def _cli(server: LiveServer, token: str, path: Path, cache: Path, *extra: str) -> list[str]:
    return [str(BIN / "mediastudio"), "upload", str(path), "--server", server.base,
            "--token", token, "--segment-size", "16384", "--category", "tweet_video",
            *extra]  # fmt: skip


def _stored_segments(server: LiveServer, token: str, cache: Path) -> int:
    states = list((cache / "mediastudio" / "uploads").glob("*.json"))
    if not states:
        return 0
    import json

    media_id = json.loads(states[0].read_text())["media_id"]
    response = httpx.get(
        f"{server.base}/2/media/upload",
        params={"media_id": media_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    info = response.json()["data"].get("upload_info") or {}
    return len(info.get("segments", []))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_killed_server_then_rerun_sends_only_missing_segments(
    proxied_server: LiveServer, mp4_file: Path, cache: Path
) -> None:
    token = proxied_server.user("cli").bearer_token
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    first = subprocess.Popen(
        _cli(proxied_server, token, mp4_file, cache, "--max-rate", "40000"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while _stored_segments(proxied_server, token, cache) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proxied_server.process is not None
    proxied_server.process.kill()  # no goodbye: a crash mid-upload
    proxied_server.process.wait(10)
    _, first_err = first.communicate(timeout=60)
    assert first.returncode == 1, first_err

    proxied_server.start()  # same port, database and media directory
    second = subprocess.run(
        _cli(proxied_server, token, mp4_file, cache),
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip

    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr
    media_id = second.stdout.strip().splitlines()[-1]
    status = httpx.get(
        f"{proxied_server.base}/2/media/upload",
        params={"media_id": media_id},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["data"]
    assert status["size"] == mp4_file.stat().st_size
    assert status["processing_info"]["state"] == "succeeded"
    blobs = [p for p in Path(proxied_server.env["MEDIASTUDIO_DATA_DIR"]).rglob("*") if p.is_file()]
    digest = hashlib.sha256(mp4_file.read_bytes()).hexdigest()
    assert any(hashlib.sha256(p.read_bytes()).hexdigest() == digest for p in blobs)
    assert not list((cache / "mediastudio" / "uploads").glob("*.json"))  # state forgotten
