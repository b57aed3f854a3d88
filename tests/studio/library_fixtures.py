"""Helpers for the media library tests: real uploads, a studio account, raw HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from httpx import Response

from tests.conftest import Env, User
from tests.fixtures.entities import processed
from tests.fixtures.protocol import URL


async def upload_photo(env: Env, user: User, path: Path, **data: str) -> dict[str, Any]:
    """A simple upload (processed inline); the upload's JSON (``media_key`` included)."""
    response = await env.client.post(
        URL, data=data, files={"media": (path.name, path.read_bytes())}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    # Without a category the upload answers no key (as Twitter); a photo's is 3_<id>.
    body.setdefault("media_key", f"3_{body['media_id_string']}")
    return body


async def upload_video(
    env: Env,
    user: User,
    path: Path,
    *,
    category: str = "tweet_video",
    media_type: str = "video/mp4",
) -> dict[str, Any]:
    """A chunked upload, processed by the worker."""
    return await processed(env, user.headers, path, media_type=media_type, category=category)


def library(account_id: str, media_key: str | None = None) -> str:
    path = f"/11/accounts/{account_id}/media_library"
    return path if media_key is None else f"{path}/{media_key}"


async def add(env: Env, user: User, account_id: str, media_key: str, **params: str) -> Response:
    return await env.client.post(
        library(account_id), params={"media_key": media_key, **params}, headers=user.headers
    )


def error_code(response: Response) -> str:
    return str(response.json()["errors"][0]["code"])
