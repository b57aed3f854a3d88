"""Who may act for which account: the membership lookup every studio request makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StudioAccount, StudioMember
from app.studio import errors
from app.studio.permissions import Action, allowed

__all__ = ["Access", "AccountView", "account_view", "load_access", "require"]

# How an action reads in ActionNotAllowed's message.
_WORDING = {
    Action.VIEW_ACCOUNT: "view this account",
    Action.READ_LIBRARY: "read the media library and posts",
    Action.EDIT_LIBRARY: "edit the media library",
    Action.DELETE_MEDIA: "delete media",
    Action.EDIT_DRAFTS: "edit draft posts",
    Action.PUBLISH: "schedule or publish posts",
    Action.VIEW_ANALYTICS: "view analytics",
    Action.MANAGE_MEMBERS: "manage members",
    Action.VIEW_LIVE: "view live sources and broadcasts",
    Action.MANAGE_LIVE: "manage live sources and broadcasts",
}


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    name: str
    timezone: str
    owner_id: int
    promotable_user_id: str
    salt: str
    deleted: bool
    timezone_switch_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Access:
    """The caller (``user_id``) acting for ``account`` with ``permissions``."""

    account: AccountView
    user_id: int
    permissions: tuple[str, ...]

    def may(self, action: Action) -> bool:
        return allowed(self.permissions, action)


def account_view(row: StudioAccount) -> AccountView:
    return AccountView(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        owner_id=row.owner_id,
        promotable_user_id=row.promotable_user_id,
        salt=row.salt,
        deleted=row.deleted,
        timezone_switch_at=row.timezone_switch_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def load_access(session: AsyncSession, *, account_id: str, user_id: int) -> Access:
    """The caller's access to the account; an unknown account and one the caller is no
    member of answer alike (403 NOT_FOUND, §2.3)."""
    row = (
        await session.execute(
            select(StudioAccount, StudioMember.permissions)
            .join(StudioMember, StudioMember.account_id == StudioAccount.id)
            .where(StudioAccount.id == account_id, StudioMember.user_id == user_id)
        )
    ).first()
    if row is None or row[0].deleted:
        raise errors.AccountNotFound(account_id)
    account, permissions = row
    return Access(account_view(account), user_id, tuple(p for p in permissions.split(",") if p))


def require(access: Access, action: Action) -> None:
    if not access.may(action):
        raise errors.ActionNotAllowed(_WORDING[action], access.account.id)
