"""What the draft, scheduled and tweets tests share: an account with a member of each
role, real media put in its library, and Ads API calls over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from httpx import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.infra.db import make_sessionmaker
from app.models import Media, StudioAccount
from app.studio import library
from app.studio.access import load_access
from tests.conftest import Env, User, create_user
from tests.fixtures.entities import photo, processed
from tests.fixtures.studio import create_studio_account, grant


@dataclass(frozen=True)
class Studio:
    env: Env
    engine: AsyncEngine
    account_id: str
    owner: User  # admin and FULL promotable user
    full: User
    limited: User
    outsider: User

    def url(self, path: str, version: str = "11") -> str:
        return f"/{version}/accounts/{self.account_id}/{path}"

    async def call(
        self, method: str, path: str, user: User | None = None, /, **params: Any
    ) -> Response:
        """Parameters in the query string, as the twitter-ads SDK sends them."""
        headers = (user or self.owner).headers
        return await self.env.client.request(method, self.url(path), params=params, headers=headers)


async def make_studio(env: Env, engine: AsyncEngine, owner: User) -> Studio:
    account_id = await create_studio_account(engine, owner.id, name="Studio")
    prefix = owner.screen_name
    full = await create_user(engine, f"{prefix}_full")
    limited = await create_user(engine, f"{prefix}_limited")
    outsider = await create_user(engine, f"{prefix}_outsider")
    await grant(engine, account_id, full.id, role="full")
    await grant(engine, account_id, limited.id, role="limited")
    return Studio(env, engine, account_id, owner, full, limited, outsider)


async def add_to_library(engine: AsyncEngine, account_id: str, media_id: str) -> str:
    """Put one media into the account's library through the library's service, as the
    account's owner; returns its media key."""
    async with make_sessionmaker(engine)() as session:
        media = await session.scalar(select(Media).where(Media.id == int(media_id)))
        assert media is not None
        account = await session.get(StudioAccount, account_id)
        assert account is not None
        access = await load_access(session, account_id=account_id, user_id=account.owner_id)
        _, created = await library.add_item(
            session,
            IdGenerator(),
            account=access.account,
            user_id=account.owner_id,
            media_key=media.media_key,
            media_id=None,
            media_category=None,
            changes={},
            now=utcnow(),
        )
        assert created
        return media.media_key


async def library_photo(studio: Studio, path: Path) -> str:
    media_id = await photo(studio.env.client, studio.owner.headers, path)
    return await add_to_library(studio.engine, studio.account_id, media_id)


async def library_processed(studio: Studio, path: Path, *, media_type: str, category: str) -> str:
    body = await processed(
        studio.env, studio.owner.headers, path, media_type=media_type, category=category
    )
    return await add_to_library(studio.engine, studio.account_id, str(body["media_id_string"]))


def error_code(response: Response) -> str:
    return str(response.json()["errors"][0]["code"])
