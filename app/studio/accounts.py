"""Studio accounts and their members: creating an account (its owner becomes its first
admin and its FULL promotable user), granting and revoking access."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import IdGenerator
from app.models import StudioAccount, StudioMember
from app.studio import errors
from app.studio.access import AccountView, account_view
from app.studio.permissions import ROLES, parse_permissions, role_of

__all__ = ["base36", "create_account", "set_member"]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    """The Ads API's account id form (``18ce54d4x5t``)."""
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
        if number == 0:
            return out


def check_timezone(timezone: str) -> str:
    if timezone not in available_timezones():
        raise errors.InvalidParameter("timezone", f"Unknown timezone {timezone!r}")
    return timezone


async def create_account(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    owner_id: int,
    name: str,
    timezone: str,
    now: datetime,
) -> AccountView:
    """A new account owned by ``owner_id`` (its admin and FULL promotable user)."""
    account = StudioAccount(
        id=base36(ids.next_id()),
        name=name,
        timezone=check_timezone(timezone),
        owner_id=owner_id,
        promotable_user_id=base36(ids.next_id()),
        salt=secrets.token_hex(16),
        deleted=False,
        timezone_switch_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.add(
        StudioMember(
            account_id=account.id,
            user_id=owner_id,
            role="admin",
            permissions=",".join(ROLES["admin"]),
            created_at=now,
            updated_at=now,
        )
    )
    await session.commit()
    return account_view(account)


async def set_member(
    session: AsyncSession,
    *,
    account_id: str,
    user_id: int,
    role: str | None = None,
    permissions: list[str] | None = None,
    now: datetime,
) -> tuple[str, tuple[str, ...]]:
    """Grant ``role`` or an explicit ``permissions`` list (one of them); returns the
    member's role and permissions. Commits."""
    if role is not None:
        if role not in ROLES:
            raise errors.InvalidParameter("role", f"Expected one of {', '.join(ROLES)}")
        granted = ROLES[role]
    else:
        try:
            granted = parse_permissions(permissions or [])
        except ValueError as error:
            raise errors.InvalidParameter("permissions", str(error)) from None
        role = role_of(granted)
    member = await session.scalar(
        select(StudioMember).where(
            StudioMember.account_id == account_id, StudioMember.user_id == user_id
        )
    )
    if member is None:
        member = StudioMember(account_id=account_id, user_id=user_id, created_at=now)
        session.add(member)
    member.role, member.permissions, member.updated_at = role, ",".join(granted), now
    await session.commit()
    return role, granted
