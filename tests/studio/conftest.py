"""Shared studio fixtures (in-process ``env``, both databases).

``studio``: one account owned by **alice** (its admin and FULL promotable user) with a
member of each other role, a platform user who is no member, and one real photo in the
library (uploaded by alice, added through ``POST media_library``)::

    async def test_x(studio: Studio) -> None:
        response = await studio.call("GET", "media_library", studio.limited)
        assert response.status_code == 200

``studio.call(method, path, user, version=, **params)`` sends the parameters in the query
string, as the ``twitter-ads`` SDK does (§13.1); ``user=None`` sends no credentials.
``studio.upload_photo()`` / ``studio.add_photo()`` make more real media.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Env, User, create_user
from tests.fixtures import media
from tests.fixtures.protocol import URL
from tests.fixtures.studio import create_studio_account, grant

__all__ = ["Studio", "ads_error", "make_studio"]


@dataclass
class Studio:
    env: Env
    engine: AsyncEngine
    account_id: str
    admin: User  # alice: the owner, its FULL promotable user
    full: User
    limited: User
    outsider: User  # a platform user who is no member
    media_key: str  # a photo in the library
    photo: Path

    @property
    def members(self) -> dict[str, User]:
        return {"admin": self.admin, "full": self.full, "limited": self.limited}

    def url(self, path: str = "", version: str = "11", account_id: str | None = None) -> str:
        base = f"/{version}/accounts/{account_id or self.account_id}"
        return f"{base}/{path}" if path else base

    async def call(
        self,
        method: str,
        path: str,
        user: User | None,
        *,
        version: str = "11",
        account_id: str | None = None,
        **params: Any,
    ) -> Response:
        headers = user.headers if user is not None else {}
        return await self.env.client.request(
            method, self.url(path, version, account_id), params=params, headers=headers
        )

    async def upload_photo(self, user: User | None = None) -> str:
        """A real photo uploaded (simple upload, ``TWEET_IMAGE``) by ``user`` (alice);
        its media key. Not in the library yet."""
        response = await self.env.client.post(
            URL,
            data={"media_category": "TWEET_IMAGE"},
            files={"media": (self.photo.name, self.photo.read_bytes())},
            headers=(user or self.admin).headers,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["media_key"])

    async def add_photo(self, account_id: str | None = None, owner: User | None = None) -> str:
        """A new photo of ``owner`` (alice) in the library of ``account_id`` (this one)."""
        key = await self.upload_photo(owner)
        added = await self.call(
            "POST", "media_library", owner or self.admin, account_id=account_id, media_key=key
        )
        assert added.status_code in (200, 201), added.text
        return key


def ads_error(response: Response) -> tuple[int, str, str]:
    """(status, code, message) of an Ads API error, checking the envelope (§2.2)."""
    body = response.json()
    assert set(body) == {"errors", "request"}, body
    assert body["request"] == {"params": {}}, body
    [error] = body["errors"]
    assert {"code", "message"} <= set(error), error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    return response.status_code, error["code"], error["message"]


async def make_studio(env: Env, engine: AsyncEngine, photo: Path) -> Studio:
    admin = await create_user(engine, "alice")
    full = await create_user(engine, "fuller")
    limited = await create_user(engine, "limiter")
    outsider = await create_user(engine, "outsider")
    account_id = await create_studio_account(engine, admin.id, name="Studio A")
    await grant(engine, account_id, full.id, role="full")
    await grant(engine, account_id, limited.id, role="limited")
    studio = Studio(env, engine, account_id, admin, full, limited, outsider, "", photo)
    studio.media_key = await studio.add_photo()
    return studio


@pytest.fixture(scope="session")
def studio_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media.make_jpeg(tmp_path_factory.mktemp("studio") / "latte.jpg")


@pytest.fixture
async def studio(env: Env, engine: AsyncEngine, studio_photo: Path) -> Studio:
    return await make_studio(env, engine, studio_photo)
