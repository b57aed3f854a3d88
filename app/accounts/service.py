"""Users, client apps and their credentials."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from app.core.ids import IdGenerator
from app.models import AccessToken, Account, BearerToken, ClientApp

__all__ = [
    "IssuedCredentials",
    "NameTaken",
    "UnknownApp",
    "UnknownUser",
    "UserSummary",
    "authenticate_bearer",
    "authenticate_bearer_hash",
    "create_user",
    "hash_token",
    "list_users",
    "revoke_user",
    "rotate_credentials",
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


class UnknownUser(LookupError):
    """No user has that screen name."""


class NameTaken(Exception):
    """A user with that screen name exists already."""


@dataclass(frozen=True, slots=True)
class UserSummary:
    user_id: int
    screen_name: str
    created_at: datetime
    bearer_tokens: int
    access_tokens: int


async def _app_named(session: AsyncSession, ids: IdGenerator, app_name: str | None) -> ClientApp:
    if app_name is None:
        return await _default_app(session, ids)
    found = await session.scalar(select(ClientApp).where(ClientApp.name == app_name))
    if found is None:
        raise UnknownApp(app_name)
    return found


async def _issue(session: AsyncSession, account: Account, app: ClientApp) -> IssuedCredentials:
    """A new bearer token and OAuth 1.0a access token of ``app`` for ``account``; commits."""
    bearer = "AAAA" + secrets.token_urlsafe(48)
    access = AccessToken(
        token=f"{account.id}-{secrets.token_urlsafe(30)[:40]}",
        secret=secrets.token_urlsafe(34)[:45],
        account_id=account.id,
        app_id=app.id,
    )
    session.add_all(
        [BearerToken(token_sha256=hash_token(bearer), account_id=account.id, app_id=app.id), access]
    )
    await session.commit()
    return IssuedCredentials(
        user_id=account.id,
        screen_name=account.screen_name,
        bearer_token=bearer,
        consumer_key=app.consumer_key,
        consumer_secret=app.consumer_secret,
        access_token=access.token,
        access_token_secret=access.secret,
    )


async def create_user(
    session: AsyncSession, ids: IdGenerator, *, screen_name: str, app_name: str | None = None
) -> IssuedCredentials:
    """Create a user with a bearer token and an OAuth 1.0a access token of ``app_name``
    (an existing app), or of the default app, made on first use. Raises ``NameTaken``."""
    app = await _app_named(session, ids, app_name)
    if await session.scalar(select(Account.id).where(Account.screen_name == screen_name)):
        raise NameTaken(screen_name)
    account = Account(id=ids.next_id(), screen_name=screen_name)
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:  # made by another process since the check
        await session.rollback()
        raise NameTaken(screen_name) from None
    return await _issue(session, account, app)


async def _account_named(session: AsyncSession, screen_name: str) -> Account:
    account = await session.scalar(select(Account).where(Account.screen_name == screen_name))
    if account is None:
        raise UnknownUser(screen_name)
    return account


async def _drop_tokens(session: AsyncSession, account_id: int) -> int:
    dropped = 0
    for table in (BearerToken, AccessToken):
        result = await session.execute(delete(table).where(table.account_id == account_id))
        dropped += result.rowcount or 0  # type: ignore[attr-defined]
    return dropped


async def revoke_user(session: AsyncSession, screen_name: str) -> int:
    """Delete every bearer and access token of the user; returns how many. Its media,
    posts and DMs stay; ``rotate_credentials`` gives it new tokens."""
    account = await _account_named(session, screen_name)
    dropped = await _drop_tokens(session, account.id)
    await session.commit()
    return dropped


async def rotate_credentials(
    session: AsyncSession, ids: IdGenerator, *, screen_name: str, app_name: str | None = None
) -> IssuedCredentials:
    """Replace all of the user's tokens with one new bearer and one new access token."""
    account = await _account_named(session, screen_name)
    app = await _app_named(session, ids, app_name)
    await _drop_tokens(session, account.id)
    return await _issue(session, account, app)


async def list_users(session: AsyncSession) -> list[UserSummary]:
    """Every user, oldest first, with how many tokens it holds."""

    def count(table: type[BearerToken] | type[AccessToken]) -> ScalarSelect[int]:
        return (
            select(func.count())
            .where(table.account_id == Account.id)
            .correlate(Account)
            .scalar_subquery()
        )

    rows = await session.execute(
        select(
            Account.id, Account.screen_name, Account.created_at, count(BearerToken),
            count(AccessToken),
        ).order_by(Account.created_at, Account.id)
    )  # fmt: skip
    return [UserSummary(*row) for row in rows]


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
