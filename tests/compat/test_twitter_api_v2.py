"""twitter-api-v2 (npm) ``v1.uploadMedia`` and ``v2.uploadMedia``, OAuth 1.0a signed,
against a plain-HTTP uvicorn that trusts 127.0.0.1 as its reverse proxy."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import COMPAT, LiveServer

pytestmark = pytest.mark.slow


def _run(node_modules: Path, server: LiveServer, creds: dict[str, Any], *files: Path) -> Any:
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(COMPAT / "upload.mjs"), server.base, json.dumps(creds), *map(str, files)],
        cwd=COMPAT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_v1_and_v2_uploads_verify_and_finish(
    node_modules: Path, proxied_server: LiveServer, mp4_file: Path, png_file: Path
) -> None:
    creds = asdict(proxied_server.user("nodejs"))

    out = _run(node_modules, proxied_server, creds, mp4_file, png_file)

    assert "error" not in out, out
    assert out["v1_video"].isdigit()
    assert out["v2_video"].isdigit()
    assert out["v1_png"].isdigit()
    assert out["v2_png"].isdigit()
    assert out["v1_max_in_flight"] == 3  # three APPENDs at once, as the library sends them
    shown = httpx.get(
        f"{proxied_server.base}/1.1/statuses/show.json",
        params={"id": out["tweet"]["id"], "include_ext_alt_text": "true"},
        headers={"Authorization": f"Bearer {creds['bearer_token']}"},
    ).json()
    media = shown["extended_entities"]["media"]
    assert [m["id_str"] for m in media] == [out["v1_png"], out["v2_png"]]
    assert media[0]["ext_alt_text"] == "a pink rectangle"
    paths = {line.split(" ", 1)[1] for line in out["requests"]}
    assert {
        "/1.1/media/upload.json",
        "/2/media/upload/initialize",
        f"/2/media/upload/{out['v2_video']}/append",
        f"/2/media/upload/{out['v2_video']}/finalize",
        "/2/media/upload",
        "/1.1/media/metadata/create.json",
        "/2/tweets",
    } <= paths


def test_a_wrong_secret_is_refused(
    node_modules: Path, proxied_server: LiveServer, mp4_file: Path, png_file: Path
) -> None:
    creds = {**asdict(proxied_server.user("nodejs")), "access_token_secret": "guess"}

    out = _run(node_modules, proxied_server, creds, mp4_file, png_file)

    assert out["error"]["code"] == 401
    assert out["error"]["data"]["errors"][0]["code"] == 32
