"""The service's own surface (``/studio/v1/``): creating accounts, listing one's own, and
an account's members (the Ads API has no call for either). JSON, form or query
parameters alike (``params.read_params``); answers in the Ads envelope.

Members are managed by admins only (``Action.MANAGE_MEMBERS``); the last admin cannot be
removed or demoted (400 ``LAST_ADMIN``), the owner cannot be removed (400
``OWNER_NOT_REMOVABLE``): ``app/studio/members.py``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from app.http.deps import ClockDep, CurrentUser, IdsDep, ReadSessionDep, SessionDep
from app.http.studio import account_wire as wire
from app.http.studio.deps import AccountIdPath, ParamsDep, studio_access
from app.http.studio.envelope import data_response
from app.http.studio.params import AdsParams, text
from app.schemas import openapi as oa
from app.studio import accounts, errors, members
from app.studio.access import Access
from app.studio.permissions import PERMISSIONS, ROLES, Action

router = APIRouter(prefix="/studio/v1", tags=["studio-members"])

UserIdPath = Annotated[str, Path(description="a platform user id", json_schema_extra=oa.SNOWFLAKE)]
_MAX_USER_ID = 2**63 - 1
_CREATE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": accounts.NAME_MAX},
        "timezone": {
            "type": ["string", "null"],
            "description": "an IANA name; absent, null or empty: UTC",
            "default": "UTC",
        },
    },
}
_GRANT_BODY: dict[str, Any] = {
    "type": "object",
    "description": "exactly one of role and permissions",
    "properties": {
        "role": {"type": "string", "enum": list(ROLES)},
        "permissions": {"type": "array", "items": {"type": "string", "enum": list(PERMISSIONS)}},
    },
}


def _with_access(entry: accounts.AccountEntry) -> dict[str, Any]:
    return {
        **wire.account_object(entry),
        "role": entry.role,
        "permissions": list(entry.permissions),
    }


@router.post("/accounts", status_code=201, openapi_extra=oa.json_body(_CREATE_BODY))
async def create_account(
    user: CurrentUser, params: ParamsDep, session: SessionDep, ids: IdsDep, clock: ClockDep
) -> Response:
    """Create an account the caller owns (as its admin and FULL promotable user): 201."""
    name = text(params, "name", max_length=accounts.NAME_MAX)
    if not name:
        raise errors.MissingParameter("name")
    timezone = params.one("timezone") or "UTC"
    view = await accounts.create_account(
        session, ids, owner_id=user, name=name, timezone=timezone, now=clock()
    )
    entry = await accounts.get_account(session, account_id=view.id, user_id=user)
    return data_response(
        _with_access(entry),
        params={"name": name, "timezone": timezone},
        data_type="account",
        status_code=201,
    )


_MINE_QUERY = wire.list_query(accounts.ACCOUNT_SORTS, with_deleted=False)


@router.get("/accounts", openapi_extra={"parameters": _MINE_QUERY})
async def list_accounts(user: CurrentUser, params: ParamsDep, session: ReadSessionDep) -> Response:
    """The caller's accounts, each with the caller's `role` and `permissions`."""
    page, echo = wire.page_query(params, accounts.ACCOUNT_SORTS)
    found = await accounts.list_accounts(session, user_id=user, page=page)
    return wire.page_response(
        found, [_with_access(entry) for entry in found.items], params=echo, data_type="account"
    )


def _user_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= _MAX_USER_ID:
        raise errors.InvalidParameter("user_id", f"Expected a user id, got {raw!r}")
    return int(raw)


@router.get("/accounts/{account_id}/members")
async def list_members(
    access: Annotated[Access, studio_access(Action.MANAGE_MEMBERS)], session: ReadSessionDep
) -> Response:
    """The account's members, in the order they joined (admins only)."""
    found = await members.list_members(session, account_id=access.account.id)
    return data_response(
        [wire.member_object(m) for m in found],
        params={"account_id": access.account.id},
        data_type="member",
    )


def _grant(params: AdsParams) -> tuple[str | None, list[str] | None]:
    role = params.one("role")
    permissions = params.many("permissions") if params.present("permissions") else None
    return (role.strip().lower() if role is not None else None), permissions


@router.put("/accounts/{account_id}/members/{user_id}", openapi_extra=oa.json_body(_GRANT_BODY))
async def put_member(
    user_id: UserIdPath,
    access: Annotated[Access, studio_access(Action.MANAGE_MEMBERS)],
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Grant a `role` (admin, full, limited) or an explicit `permissions` list."""
    role, permissions = _grant(params)
    member = await members.grant(
        session,
        account_id=access.account.id,
        user_id=_user_id(user_id),
        role=role,
        permissions=permissions,
        actor_id=access.user_id,
        now=clock(),
    )
    return data_response(
        wire.member_object(member),
        params={"account_id": access.account.id, "user_id": user_id},
        data_type="member",
    )


@router.delete("/accounts/{account_id}/members/{user_id}")
async def delete_member(
    account_id: AccountIdPath,
    user_id: UserIdPath,
    access: Annotated[Access, studio_access(Action.MANAGE_MEMBERS)],
    session: SessionDep,
) -> Response:
    """Revoke a member's access; answers the removed member with `deleted: true`."""
    member = await members.revoke(
        session, account_id=account_id, user_id=_user_id(user_id), actor_id=access.user_id
    )
    return data_response(
        {**wire.member_object(member), "deleted": True},
        params={"account_id": access.account.id, "user_id": user_id},
        data_type="member",
    )
