"""Accounts, promotable users and members on the wire (Ads API §4-§6, ``/studio/v1``):
their objects, and the list parameters both surfaces share (§3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from app.http.studio.envelope import data_response
from app.http.studio.params import AdsParams, count, flag
from app.schemas import openapi as oa
from app.studio.accounts import AccountEntry, Page, PageQuery, PromotableUser
from app.studio.members import MemberView
from app.studio.sorting import Kind, parse_sort

__all__ = [
    "account_object",
    "ads_time",
    "list_query",
    "member_object",
    "page_query",
    "page_response",
    "promotable_user_object",
]

_STRING: dict[str, Any] = {"type": "string"}


def list_query(sorts: Iterable[str], *, with_deleted: bool = True) -> list[dict[str, Any]]:
    """The documented query of an Ads list sorted by one of ``sorts`` (``with_deleted``
    where the list takes it)."""
    documented = [
        oa.query("count", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}),
        oa.query("cursor", {"type": "string", "description": "next_cursor of the previous page"}),
        oa.query("sort_by", oa.sort_by(sorts)),
        oa.query("with_deleted", oa.ADS_FLAG),
        oa.query("with_total_count", {**oa.ADS_FLAG, "description": "exclusive with cursor"}),
    ]
    return [p for p in documented if with_deleted or p["name"] != "with_deleted"]


def ads_time(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` (§1 "Times")."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_object(entry: AccountEntry) -> dict[str, Any]:
    """The §4.2 account object."""
    account = entry.account
    return {
        "name": account.name,
        "business_name": None,
        "timezone": account.timezone,
        "timezone_switch_at": ads_time(account.timezone_switch_at),
        "id": account.id,
        "created_at": ads_time(account.created_at),
        "updated_at": ads_time(account.updated_at),
        "industry_type": entry.industry_type,
        "business_id": None,
        "approval_status": "ACCEPTED",
        "deleted": account.deleted,
        "salt": account.salt,
    }


def promotable_user_object(user: PromotableUser) -> dict[str, Any]:
    """The §6.2 object (the owner: always ``FULL``)."""
    return {
        "user_id": str(user.user_id),
        "id": user.id,
        "created_at": ads_time(user.created_at),
        "updated_at": ads_time(user.updated_at),
        "deleted": False,
        "promotable_user_type": "FULL",
        "account_id": user.account_id,
    }


def member_object(member: MemberView) -> dict[str, Any]:
    return {
        "user_id": str(member.user_id),
        "screen_name": member.screen_name,
        "role": member.role,
        "permissions": list(member.permissions),
        "created_at": ads_time(member.created_at),
        "updated_at": ads_time(member.updated_at),
    }


def page_query(params: AdsParams, fields: dict[str, Kind]) -> tuple[PageQuery, dict[str, Any]]:
    """``count`` (1-1000, default 200), ``cursor``, ``sort_by``, ``with_total_count``,
    and what ``request.params`` echoes of them (``sort_by`` as an array)."""
    echo: dict[str, Any] = {}
    size = count(params, default=200, high=1000)
    if params.present("count"):
        echo["count"] = size
    sort_values = params.many("sort_by")
    sort = parse_sort(sort_values, fields)
    if sort:
        echo["sort_by"] = [key.wire for key in sort]
    cursor = params.one("cursor") or None
    if cursor is not None:
        echo["cursor"] = cursor
    with_total = flag(params, "with_total_count", default=False)
    if params.present("with_total_count"):
        echo["with_total_count"] = with_total
    return PageQuery(size, sort, cursor, with_total), echo


def page_response(
    page: Page[Any], data: list[dict[str, Any]], *, params: dict[str, Any], data_type: str
) -> Response:
    return data_response(
        data,
        params=params,
        data_type=data_type,
        next_cursor=page.next_cursor,
        total_count=page.total_count,
    )
