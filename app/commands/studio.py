"""``accounts``: the operator's view of studio accounts (create, grant, revoke, list),
through the same services as ``/studio/v1`` (app/studio/accounts.py, members.py), so the
same rules hold: the last admin stays, the owner cannot be removed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from app.commands.admin import JsonFlag, run_with_session
from app.commands.mistakes import Mistake

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.ids import IdGenerator

__all__ = ["accounts"]

_T = TypeVar("_T")

accounts = typer.Typer(
    help="Manage studio accounts (Ads API accounts) and their members", no_args_is_help=True
)


def _run(use: Callable[[AsyncSession, IdGenerator], Awaitable[_T]]) -> _T:
    """``run_with_session``, a studio error being a one-line mistake."""
    from app.studio.errors import StudioError

    async def guarded(session: AsyncSession, ids: IdGenerator) -> _T:
        try:
            return await use(session, ids)
        except StudioError as error:
            raise Mistake(error.detail) from None

    return run_with_session(guarded)


def _emit(values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(values))
    else:
        for key, value in values.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            typer.echo(f"{key}: {shown}")


@accounts.command("create")
def create(
    name: str,
    owner: Annotated[str, typer.Option("--owner", help="screen name of the owning user")],
    timezone: Annotated[str, typer.Option(help="an IANA time zone name")] = "UTC",
    as_json: JsonFlag = False,
) -> None:
    """Create an account owned by --owner (its admin and FULL promotable user)."""
    from app.core.clock import utcnow
    from app.studio import accounts as service
    from app.studio import members

    async def made(session: AsyncSession, ids: IdGenerator) -> dict[str, Any]:
        owner_id = await members.user_named(session, owner)
        view = await service.create_account(
            session, ids, owner_id=owner_id, name=name, timezone=timezone, now=utcnow()
        )
        return {
            "id": view.id,
            "name": view.name,
            "timezone": view.timezone,
            "owner": owner,
            "created_at": view.created_at.isoformat(),
        }

    _emit(_run(made), as_json)


@accounts.command("grant")
def grant(
    account_id: str,
    screen_name: str,
    role: Annotated[str | None, typer.Option(help="admin, full or limited")] = None,
    permission: Annotated[
        list[str] | None,
        typer.Option("--permission", help="an Ads API permission (repeat for several)"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Give a user a role, or an explicit permission list, on an account."""
    from app.core.clock import utcnow
    from app.studio import members

    if (role is None) == (not permission):
        raise Mistake("give exactly one of --role and --permission")

    async def granted(session: AsyncSession, _: IdGenerator) -> dict[str, Any]:
        user_id = await members.user_named(session, screen_name)
        member = await members.grant(
            session,
            account_id=account_id,
            user_id=user_id,
            role=role,
            permissions=permission or None,
            now=utcnow(),
        )
        return {
            "account_id": account_id,
            "screen_name": screen_name,
            "role": member.role,
            "permissions": list(member.permissions),
        }

    _emit(_run(granted), as_json)


@accounts.command("revoke")
def revoke(account_id: str, screen_name: str) -> None:
    """Remove a user's access to an account."""
    from app.studio import members

    async def revoked(session: AsyncSession, _: IdGenerator) -> None:
        user_id = await members.user_named(session, screen_name)
        await members.revoke(session, account_id=account_id, user_id=user_id)

    _run(revoked)
    typer.echo(f"revoked {screen_name}'s access to {account_id}")


@accounts.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """Every account, oldest first: id, name, timezone, owner, members with roles."""
    from app.studio import accounts as service

    async def listed(session: AsyncSession, _: IdGenerator) -> list[service.AccountSummary]:
        return await service.all_accounts(session)

    found = _run(listed)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": a.id,
                        "name": a.name,
                        "timezone": a.timezone,
                        "owner": a.owner,
                        "members": [{"screen_name": n, "role": r} for n, r in a.members],
                    }
                    for a in found
                ]
            )
        )
        return
    if not found:
        typer.echo("(none)")
        return
    rows = [
        [a.id, a.name, a.timezone, a.owner, ", ".join(f"{n} ({r})" for n, r in a.members)]
        for a in found
    ]
    heads = ["id", "name", "timezone", "owner", "members"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    for line in (heads, *rows):
        typer.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
