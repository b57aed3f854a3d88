from __future__ import annotations

from pathlib import Path

from app.storage.filesystem import FilesystemStore
from tests.conftest import Env


async def test_healthz_is_ok_when_database_and_storage_answer(env: Env) -> None:
    response = await env.client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_healthz_is_503_when_storage_cannot_be_written(env: Env, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    env.state.store = FilesystemStore(blocker / "media")

    response = await env.client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "storage": False}
