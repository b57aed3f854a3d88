"""An account's members: granting a role or an explicit permission list, revoking.

Two rules keep an account manageable, both checked inside the writing transaction with
the account row locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers hold
the database's write lock from ``BEGIN IMMEDIATE``, ``app/infra/db.py``), so two admins
demoting each other at once cannot both succeed:

- the last member with ACCOUNT_ADMIN can be neither removed nor demoted (``LastAdmin``);
- the owner (the FULL promotable user) can never be removed (``OwnerNotRemovable``); it
  may be given another role while another admin remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, StudioAccount, StudioMember
from app.studio import errors
from app.studio.account_errors import LastAdmin, MemberNotFound, OwnerNotRemovable, UserNotFound
from app.studio.permissions import ACCOUNT_ADMIN, ROLES, parse_permissions, role_of

__all__ = ["MemberView", "grant", "list_members", "resolve_grant", "revoke", "user_named"]


@dataclass(frozen=True, slots=True)
class MemberView:
    user_id: int
    screen_name: str
    role: str
    permissions: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def _split(permissions: str) -> tuple[str, ...]:
    return tuple(p for p in permissions.split(",") if p)


def resolve_grant(role: str | None, permissions: list[str] | None) -> tuple[str, tuple[str, ...]]:
    """The role and permissions a grant gives: ``role`` (admin, full, limited) or an
    explicit list (its role is the one whose set it is, else ``custom``); exactly one."""
    if role is not None and permissions is not None:
        raise errors.ExclusiveParameters("role", "permissions")
    if role is not None:
        if role not in ROLES:
            raise errors.InvalidParameter(
                "role", f"Expected one of {', '.join(ROLES)} for role, got {role!r}"
            )
        return role, ROLES[role]
    if permissions is None:
        raise errors.MissingParameter("role")
    try:
        granted = parse_permissions(permissions)
    except ValueError as error:
        raise errors.InvalidParameter("permissions", str(error)) from None
    return role_of(granted), granted


async def _locked_account(session: AsyncSession, account_id: str) -> StudioAccount:
    account = await session.scalar(
        select(StudioAccount).where(StudioAccount.id == account_id).with_for_update()
    )
    if account is None or account.deleted:
        raise errors.AccountNotFound(account_id)
    return account


async def _members(session: AsyncSession, account_id: str) -> list[StudioMember]:
    return list(
        (
            await session.scalars(select(StudioMember).where(StudioMember.account_id == account_id))
        ).all()
    )


def _check_actor(everyone: list[StudioMember], actor_id: int | None, account_id: str) -> None:
    """The actor's right, again under the lock: a concurrent change may have taken it."""
    if actor_id is None:
        return
    actor = next((m for m in everyone if m.user_id == actor_id), None)
    if actor is None:
        raise errors.AccountNotFound(account_id)
    if ACCOUNT_ADMIN not in _split(actor.permissions):
        raise errors.ActionNotAllowed("manage members", account_id)


def _check_admins_remain(
    everyone: list[StudioMember], user_id: int, after: tuple[str, ...], account_id: str
) -> None:
    """``after`` is the user's permissions once the change is made (() = removed)."""
    admins = [
        m for m in everyone if m.user_id != user_id and ACCOUNT_ADMIN in _split(m.permissions)
    ]
    if not admins and ACCOUNT_ADMIN not in after:
        raise LastAdmin(account_id)


async def _screen_name(session: AsyncSession, user_id: int) -> str:
    screen_name = await session.scalar(select(Account.screen_name).where(Account.id == user_id))
    if screen_name is None:
        raise UserNotFound(user_id)
    return screen_name


async def user_named(session: AsyncSession, screen_name: str) -> int:
    user_id = await session.scalar(select(Account.id).where(Account.screen_name == screen_name))
    if user_id is None:
        raise UserNotFound(screen_name)
    return user_id


async def grant(
    session: AsyncSession,
    *,
    account_id: str,
    user_id: int,
    role: str | None = None,
    permissions: list[str] | None = None,
    actor_id: int | None = None,
    now: datetime,
) -> MemberView:
    """Make ``user_id`` a member, or change its access; ``actor_id`` (the admin asking)
    must still hold ACCOUNT_ADMIN once the account is locked. Commits."""
    role, granted = resolve_grant(role, permissions)
    await _locked_account(session, account_id)
    screen_name = await _screen_name(session, user_id)
    everyone = await _members(session, account_id)
    _check_actor(everyone, actor_id, account_id)
    _check_admins_remain(everyone, user_id, granted, account_id)
    member = next((m for m in everyone if m.user_id == user_id), None)
    if member is None:
        member = StudioMember(account_id=account_id, user_id=user_id, created_at=now)
        session.add(member)
    member.role, member.permissions, member.updated_at = role, ",".join(granted), now
    await session.commit()
    return MemberView(user_id, screen_name, role, granted, member.created_at, now)


async def revoke(
    session: AsyncSession, *, account_id: str, user_id: int, actor_id: int | None = None
) -> MemberView:
    """Remove ``user_id``'s access (``actor_id`` as in ``grant``); answers what it was.
    Commits."""
    account = await _locked_account(session, account_id)
    everyone = await _members(session, account_id)
    _check_actor(everyone, actor_id, account_id)
    member = next((m for m in everyone if m.user_id == user_id), None)
    if member is None:
        raise MemberNotFound(user_id, account_id)
    if user_id == account.owner_id:
        raise OwnerNotRemovable(account_id)
    _check_admins_remain(everyone, user_id, (), account_id)
    screen_name = await _screen_name(session, user_id)
    view = MemberView(
        user_id,
        screen_name,
        member.role,
        _split(member.permissions),
        member.created_at,
        member.updated_at,
    )
    await session.delete(member)
    await session.commit()
    return view


async def list_members(session: AsyncSession, *, account_id: str) -> list[MemberView]:
    """In the order they joined."""
    rows = (
        await session.execute(
            select(StudioMember, Account.screen_name)
            .join(Account, Account.id == StudioMember.user_id)
            .where(StudioMember.account_id == account_id)
            .order_by(StudioMember.created_at, StudioMember.user_id)
        )
    ).all()
    return [
        MemberView(m.user_id, name, m.role, _split(m.permissions), m.created_at, m.updated_at)
        for m, name in rows
    ]
