"""Ads API accounts (§4), authenticated user access (§5), promotable users (§6).

Any member may read these (``Action.VIEW_ACCOUNT``); changing the account's name or
industry type is a setting, for ACCOUNT_ADMIN (``Action.MANAGE_MEMBERS``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from starlette.responses import Response

from app.http.deps import ClockDep, CurrentUser, ReadSessionDep, SessionDep
from app.http.studio import account_wire as wire
from app.http.studio.deps import AccountIdPath, ParamsDep, studio_access
from app.http.studio.envelope import data_response
from app.http.studio.params import AdsParams, flag, one_of, text
from app.schemas import openapi as oa
from app.studio import accounts, errors
from app.studio.access import Access
from app.studio.account_errors import PromotableUserNotFound
from app.studio.permissions import Action

router = APIRouter(tags=["studio-accounts"])

_MAX_IDS = 200
_IDS: dict[str, Any] = {"type": "string", "description": "comma-separated ids (or repeated)"}


def _ids(params: AdsParams, name: str) -> list[str]:
    values = params.many(name)
    if len(values) > _MAX_IDS:
        raise errors.InvalidParameter(name, f"At most {_MAX_IDS} ids for {name}")
    return values


@router.get(
    "/accounts",
    openapi_extra={
        "parameters": [
            oa.query("account_ids", _IDS),
            oa.query("q", {"type": "string", "description": "case-insensitive name prefix"}),
            *wire.list_query(accounts.ACCOUNT_SORTS),
        ]
    },
)
async def list_accounts(user: CurrentUser, params: ParamsDep, session: ReadSessionDep) -> Response:
    """The accounts the caller is a member of (§4.1), oldest first unless `sort_by`."""
    page, echo = wire.page_query(params, accounts.ACCOUNT_SORTS)
    account_ids = _ids(params, "account_ids")
    q = text(params, "q", max_length=accounts.NAME_MAX) or None
    with_deleted = flag(params, "with_deleted", default=False)
    found = await accounts.list_accounts(
        session, user_id=user, page=page, account_ids=account_ids, q=q, with_deleted=with_deleted
    )
    if account_ids:
        echo["account_ids"] = account_ids
    if q is not None:
        echo["q"] = q
    if params.present("with_deleted"):
        echo["with_deleted"] = with_deleted
    return wire.page_response(
        found,
        [wire.account_object(entry) for entry in found.items],
        params=echo,
        data_type="account",
    )


def _echo(access: Access, params: ParamsDep) -> dict[str, Any]:
    echo: dict[str, Any] = {"account_id": access.account.id}
    if params.present("with_deleted"):
        echo["with_deleted"] = flag(params, "with_deleted", default=False)
    return echo


@router.get(
    "/accounts/{account_id}", openapi_extra={"parameters": [oa.query("with_deleted", oa.ADS_FLAG)]}
)
async def get_account(
    account_id: AccountIdPath,
    access: Annotated[Access, studio_access(Action.VIEW_ACCOUNT)],
    params: ParamsDep,
    session: ReadSessionDep,
) -> Response:
    """One account (§4.2)."""
    echo = _echo(access, params)
    entry = await accounts.get_account(session, account_id=account_id, user_id=access.user_id)
    return data_response(wire.account_object(entry), params=echo, data_type="account")


@router.put(
    "/accounts/{account_id}",
    openapi_extra={
        "parameters": [
            oa.query("name", {"type": "string", "minLength": 1, "maxLength": accounts.NAME_MAX}),
            oa.query(
                "industry_type",
                {
                    "type": "string",
                    "description": f"one of {', '.join(accounts.INDUSTRY_TYPES)}; empty unsets",
                },
            ),
        ]
    },
)
async def update_account(
    account_id: AccountIdPath,
    access: Annotated[Access, studio_access(Action.MANAGE_MEMBERS)],
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Change `name` and/or `industry_type` (§4.3; other parameters are ignored, as the
    SDK echoes read-only ones)."""
    name = text(params, "name", max_length=accounts.NAME_MAX)
    industry_type = one_of(params, "industry_type", accounts.INDUSTRY_TYPES)
    unset = params.present("industry_type") and industry_type is None
    entry = await accounts.update_account(
        session,
        account_id=account_id,
        user_id=access.user_id,
        name=name,
        industry_type=industry_type,
        unset_industry_type=unset,
        now=clock(),
    )
    echo: dict[str, Any] = {"account_id": account_id}
    if name is not None:
        echo["name"] = name
    if params.present("industry_type"):
        echo["industry_type"] = industry_type
    return data_response(wire.account_object(entry), params=echo, data_type="account")


@router.get(
    "/accounts/{account_id}/features",
    openapi_extra={"parameters": [oa.query("feature_keys", _IDS)]},
)
async def features(access: Annotated[Access, studio_access(Action.VIEW_ACCOUNT)]) -> Response:
    """The account's beta features (§4.5): none here."""
    return data_response([], params={"account_id": access.account.id}, data_type="features")


@router.get("/accounts/{account_id}/authenticated_user_access")
async def authenticated_user_access(
    access: Annotated[Access, studio_access(Action.VIEW_ACCOUNT)],
) -> Response:
    """The caller's permissions on the account (§5)."""
    data = {"user_id": str(access.user_id), "permissions": list(access.permissions)}
    return data_response(data, params={"account_id": access.account.id})


@router.get(
    "/accounts/{account_id}/promotable_users",
    openapi_extra={
        "parameters": [
            oa.query("promotable_user_ids", _IDS),
            *wire.list_query(accounts.PROMOTABLE_USER_SORTS),
        ]
    },
)
async def list_promotable_users(
    access: Annotated[Access, studio_access(Action.VIEW_ACCOUNT)],
    params: ParamsDep,
    session: ReadSessionDep,
) -> Response:
    """The account's promotable users (§6.1): its FULL one, the owner."""
    page, echo = wire.page_query(params, accounts.PROMOTABLE_USER_SORTS)
    wanted = _ids(params, "promotable_user_ids")
    echo = {**_echo(access, params), **echo}
    found = await accounts.list_promotable_users(
        session, account_id=access.account.id, page=page, promotable_user_ids=wanted
    )
    if wanted:
        echo["promotable_user_ids"] = wanted
    return wire.page_response(
        found,
        [wire.promotable_user_object(user) for user in found.items],
        params=echo,
        data_type="promotable_user",
    )


@router.get(
    "/accounts/{account_id}/promotable_users/{promotable_user_id}",
    openapi_extra={"parameters": [oa.query("with_deleted", oa.ADS_FLAG)]},
)
async def get_promotable_user(
    promotable_user_id: str,
    access: Annotated[Access, studio_access(Action.VIEW_ACCOUNT)],
    params: ParamsDep,
    session: ReadSessionDep,
) -> Response:
    """One promotable user (§6.2); an unknown id is 404 PROMOTABLE_USER_NOT_FOUND."""
    echo = {**_echo(access, params), "promotable_user_id": promotable_user_id}
    found = await accounts.list_promotable_users(
        session,
        account_id=access.account.id,
        page=accounts.PageQuery(1),
        promotable_user_ids=[promotable_user_id],
    )
    if not found.items:
        raise PromotableUserNotFound(promotable_user_id, access.account.id)
    return data_response(
        wire.promotable_user_object(found.items[0]), params=echo, data_type="promotable_user"
    )
