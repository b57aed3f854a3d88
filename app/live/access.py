"""Who may act on a user's sources and broadcasts: that user, or a member of a studio
account the user owns, by role (``Action.VIEW_LIVE``, ``Action.MANAGE_LIVE``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.live.errors import LiveForbidden, LiveInvalid, LiveNotFound
from app.models import StudioAccount, StudioMember
from app.studio.permissions import Action, allowed

__all__ = ["act_for", "may", "may_act_on"]


async def act_for(session: AsyncSession, *, caller: int, owner_id: int, write: bool) -> None:
    """The caller acts for ``owner_id``'s sources and broadcasts: as that user, or as a
    member of a studio account that user owns (admin and full members change them,
    limited members only view). Anyone else: 400, as X answers a token whose user is not
    ``:user_id`` (§3.1); a member without the permission: 403."""
    if caller == owner_id:
        return
    rows = await session.execute(
        select(StudioMember.permissions)
        .join(StudioAccount, StudioAccount.id == StudioMember.account_id)
        .where(
            StudioMember.user_id == caller,
            StudioAccount.owner_id == owner_id,
            StudioAccount.deleted.is_(False),
        )
    )
    grants = [tuple(p for p in permissions.split(",") if p) for (permissions,) in rows]
    if not grants:
        raise LiveInvalid("user_id must be the authenticating user's id.", "user_id")
    action = Action.MANAGE_LIVE if write else Action.VIEW_LIVE
    if not any(allowed(granted, action) for granted in grants):
        raise LiveForbidden()


async def may(session: AsyncSession, *, caller: int, owner_id: int, write: bool) -> bool:
    """``act_for`` as a question: False for anyone it refuses (outsider or role)."""
    try:
        await act_for(session, caller=caller, owner_id=owner_id, write=write)
    except (LiveInvalid, LiveForbidden):
        return False
    return True


async def may_act_on(
    session: AsyncSession, resource: tuple[str, str], user_id: int, *, caller: int,
    owner_id: int | None, write: bool,
) -> None:  # fmt: skip
    """A source or broadcast of ``user_id``: under ``/2/users/:owner_id/`` it must be that
    user's; without an owner in the path, one an outsider asks for is 404, as an unknown
    one. Then the caller's role decides (``act_for``)."""
    if owner_id is not None and user_id != owner_id:
        raise LiveNotFound(*resource)
    if owner_id is None:
        try:
            await act_for(session, caller=caller, owner_id=user_id, write=False)
        except LiveInvalid:
            raise LiveNotFound(*resource) from None
    await act_for(session, caller=caller, owner_id=user_id, write=write)
