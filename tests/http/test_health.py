from __future__ import annotations

from pathlib import Path

from app.config import StorageSettings
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
    assert response.json()["checks"] == {"database": True, "schema": True, "storage": False}


async def test_readyz_is_ok_with_room_on_the_storage_volume(env: Env) -> None:
    response = await env.client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["checks"] == {
        "database": True,
        "schema": True,
        "storage": True,
        "storage_space": True,
    }
    assert body["failing"] == []
    assert body["storage_space"]["free_bytes"] > 0


async def test_readyz_is_503_naming_storage_space_below_the_minimum(env: Env) -> None:
    env.state.settings.storage = StorageSettings(min_free_bytes=2**62)

    response = await env.client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["storage_space"]
    assert body["storage_space"]["min_free_bytes"] == 2**62
