"""OAuth 1.0a state: client apps (consumers), access-token lookup and seen nonces.

The signature arithmetic lives in ``app/auth/oauth1.py``; this module only reads and
writes the tables behind it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.ids import IdGenerator
from app.models import AccessToken, ClientApp, OAuthNonce

__all__ = [
    "AppSummary",
    "IssuedApp",
    "TokenCredentials",
    "create_client_app",
    "list_client_apps",
    "load_token",
    "record_nonce",
    "sweep_nonces",
]


@dataclass(frozen=True, slots=True)
class IssuedApp:
    app_id: int
    name: str
    consumer_key: str
    consumer_secret: str


@dataclass(frozen=True, slots=True)
class TokenCredentials:
    """What verifying one signature needs: both secrets, and whose token it is."""

    account_id: int
    app_id: int
    consumer_key: str
    consumer_secret: str
    token_secret: str


class AppExists(Exception):
    """An app with that name is already registered."""


async def create_client_app(session: AsyncSession, ids: IdGenerator, *, name: str) -> IssuedApp:
    """Register a consumer with a fresh key and secret; raises AppExists on a taken name."""
    app = ClientApp(
        id=ids.next_id(),
        name=name,
        consumer_key=secrets.token_urlsafe(18)[:25],
        consumer_secret=secrets.token_urlsafe(38)[:50],
    )
    session.add(app)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise AppExists(name) from None
    return IssuedApp(app.id, app.name, app.consumer_key, app.consumer_secret)


@dataclass(frozen=True, slots=True)
class AppSummary:
    app_id: int
    name: str
    consumer_key: str
    created_at: datetime


async def list_client_apps(session: AsyncSession) -> list[AppSummary]:
    """Every registered app, oldest first (the secrets are not listed)."""
    rows = await session.execute(
        select(ClientApp.id, ClientApp.name, ClientApp.consumer_key, ClientApp.created_at)
        .order_by(ClientApp.created_at, ClientApp.id)
    )  # fmt: skip
    return [AppSummary(*row) for row in rows]


async def load_token(session: AsyncSession, token: str) -> TokenCredentials | None:
    row = (
        await session.execute(
            select(
                AccessToken.account_id,
                AccessToken.secret,
                AccessToken.app_id,
                ClientApp.consumer_key,
                ClientApp.consumer_secret,
            )
            .join(ClientApp, ClientApp.id == AccessToken.app_id)
            .where(AccessToken.token == token)
        )
    ).one_or_none()
    if row is None:
        return None
    return TokenCredentials(
        account_id=row.account_id,
        app_id=row.app_id,
        consumer_key=row.consumer_key,
        consumer_secret=row.consumer_secret,
        token_secret=row.secret,
    )


def nonce_id(*, consumer_key: str, token: str, nonce: str, timestamp: int) -> str:
    raw = "\0".join((consumer_key, token, nonce, str(timestamp)))
    return hashlib.sha256(raw.encode()).hexdigest()


async def record_nonce(
    sessions: async_sessionmaker[AsyncSession],
    *,
    consumer_key: str,
    token: str,
    nonce: str,
    timestamp: int,
    expires_at: datetime,
) -> bool:
    """Remember a nonce until ``expires_at``; False when it was already seen (a replay).

    The primary key decides, so two processes cannot both accept the same request.
    """
    key = nonce_id(consumer_key=consumer_key, token=token, nonce=nonce, timestamp=timestamp)
    async with sessions() as session:
        session.add(OAuthNonce(id=key, expires_at=expires_at))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def sweep_nonces(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> int:
    """Forget nonces whose timestamps the window would refuse anyway."""
    async with sessions() as session:
        result = await session.execute(delete(OAuthNonce).where(OAuthNonce.expires_at <= now))
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
