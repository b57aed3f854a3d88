"""The official ``twitter-ads`` SDK (11.0.0, unmodified) drives the media library over a
real socket with OAuth 1.0a: add, update (echoing read-only fields, §13.4), load, the
cursor of ``MediaLibrary.all`` and delete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import twitter_ads.http
from sqlalchemy.ext.asyncio import AsyncEngine
from twitter_ads.client import Client
from twitter_ads.creative import MediaLibrary
from twitter_ads.error import NotFound

from tests.compat.conftest import Credentials, LiveServer
from tests.conftest import _truncate
from tests.fixtures.studio import create_studio_account


@pytest.fixture
async def live(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[LiveServer]:
    served = LiveServer(tmp_path / "data", database_url)
    served.start()
    yield served
    served.stop()
    await _truncate(engine)


def _upload(server: LiveServer, creds: Credentials, path: Path) -> str:
    response = httpx.post(
        f"{server.base}/1.1/media/upload.json",
        data={"media_category": "tweet_image"},
        files={"media": (path.name, path.read_bytes())},
        headers={"Authorization": f"Bearer {creds.bearer_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["media_key"])


def _drive(
    server: LiveServer, creds: Credentials, account_id: str, keys: list[str]
) -> dict[str, Any]:
    twitter_ads.http.Request._DEFAULT_DOMAIN = server.base
    client = Client(
        creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
    )
    account = client.accounts(account_id)
    seen: dict[str, Any] = {}
    for index, key in enumerate(keys):
        item = MediaLibrary(account)
        item.media_key, item.name, item.file_name = key, f"Latte {index}", f"latte{index}.png"
        item.add()
        seen.setdefault("added", []).append((item.media_key, item.media_status, item.media_type))
    first = MediaLibrary.load(account, keys[0])
    first.name = "renamed"
    first.update()  # sends created_at, media_status, media_url... back (§13.4)
    seen["updated"] = MediaLibrary.load(account, keys[0]).name
    seen["all"] = [m.media_key for m in MediaLibrary.all(account, count=2)]
    seen["searched"] = [m.media_key for m in MediaLibrary.all(account, q="LATTE", count=1)]
    first.delete()
    seen["deleted"] = first.deleted
    try:
        MediaLibrary.load(account, keys[0])
    except NotFound as error:
        seen["after"] = (error.code, error.details[0]["code"])
    return seen


async def test_the_sdk_drives_the_library(
    live: LiveServer, engine: AsyncEngine, png_file: Path, jpeg_file: Path
) -> None:
    creds = await asyncio.to_thread(live.user, "sdk_owner")
    account_id = await create_studio_account(engine, creds.user_id)
    paths = [png_file, jpeg_file, png_file]
    keys = [await asyncio.to_thread(_upload, live, creds, p) for p in paths]

    seen = await asyncio.to_thread(_drive, live, creds, account_id, keys)

    assert seen["added"] == [(k, "TRANSCODE_COMPLETED", "IMAGE") for k in keys]
    assert seen["updated"] == "renamed"
    assert seen["all"] == keys[::-1]  # newest first, three items over two pages
    assert seen["searched"] == keys[:0:-1]  # the renamed one has no "latte" any more
    assert seen["deleted"] is True
    assert seen["after"] == (404, "NOT_FOUND")
