"""Users, client apps and their credentials."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import IdGenerator
from app.models import AccessToken, Account, BearerToken, ClientApp

__all__ = [
    "IssuedCredentials",
    "UnknownApp",
    "authenticate_bearer",
    "authenticate_bearer_hash",
    "create_user",
    "hash_token",
]

DEFAULT_APP = "default"


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    user_id: int
    screen_name: str
    bearer_token: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _default_app(session: AsyncSession, ids: IdGenerator) -> ClientApp:
    app = await session.scalar(select(ClientApp).where(ClientApp.name == DEFAULT_APP))
    if app is not None:
        return app
    app = ClientApp(
        id=ids.next_id(),
        name=DEFAULT_APP,
        consumer_key=secrets.token_urlsafe(18)[:25],
        consumer_secret=secrets.token_urlsafe(38)[:50],
    )
    try:
        async with session.begin_nested():
            session.add(app)
    except IntegrityError:  # another process made it first
        found = await session.scalar(select(ClientApp).where(ClientApp.name == DEFAULT_APP))
        assert found is not None
        return found
    return app


class UnknownApp(LookupError):
    """``create_user(app_name=...)`` names an app that was never created."""


async def create_user(
    session: AsyncSession, ids: IdGenerator, *, screen_name: str, app_name: str | None = None
) -> IssuedCredentials:
    """Create a user with a bearer token and an OAuth 1.0a access token of ``app_name``
    (an existing app), or of the default app, made on first use."""
    if app_name is None:
        app = await _default_app(session, ids)
    else:
        found = await session.scalar(select(ClientApp).where(ClientApp.name == app_name))
        if found is None:
            raise UnknownApp(app_name)
        app = found
    account = Account(id=ids.next_id(), screen_name=screen_name)
    bearer = "AAAA" + secrets.token_urlsafe(48)
    access = AccessToken(
        token=f"{account.id}-{secrets.token_urlsafe(30)[:40]}",
        secret=secrets.token_urlsafe(34)[:45],
        account_id=account.id,
        app_id=app.id,
    )
    session.add(account)
    await session.flush()
    session.add_all(
        [BearerToken(token_sha256=hash_token(bearer), account_id=account.id, app_id=app.id), access]
    )
    await session.commit()
    return IssuedCredentials(
        user_id=account.id,
        screen_name=screen_name,
        bearer_token=bearer,
        consumer_key=app.consumer_key,
        consumer_secret=app.consumer_secret,
        access_token=access.token,
        access_token_secret=access.secret,
    )


async def authenticate_bearer(session: AsyncSession, token: str) -> tuple[int, int] | None:
    """(account id, client app id) of a bearer token, or None."""
    return await authenticate_bearer_hash(session, hash_token(token))


async def authenticate_bearer_hash(
    session: AsyncSession, token_sha256: str
) -> tuple[int, int] | None:
    row = (
        await session.execute(
            select(BearerToken.account_id, BearerToken.app_id).where(
                BearerToken.token_sha256 == token_sha256
            )
        )
    ).first()
    return (row[0], row[1]) if row else None
