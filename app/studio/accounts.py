"""Studio accounts: creating one (its owner becomes its first admin and its FULL
promotable user), listing the caller's accounts and their promotable users with the Ads
API's keyset pages (§3, ``app/studio/sorting.py``), changing name and industry type."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.ids import IdGenerator
from app.models import Account, StudioAccount, StudioMember
from app.studio import errors, members
from app.studio.access import AccountView, account_view
from app.studio.permissions import ROLES
from app.studio.sorting import Keyset, Kind, SortKey, decode_cursor, encode_cursor

__all__ = [
    "ACCOUNT_SORTS",
    "INDUSTRY_TYPES",
    "NAME_MAX",
    "PROMOTABLE_USER_SORTS",
    "AccountEntry",
    "AccountSummary",
    "Page",
    "PageQuery",
    "PromotableUser",
    "all_accounts",
    "base36",
    "check_name",
    "check_timezone",
    "create_account",
    "get_account",
    "list_accounts",
    "list_promotable_users",
    "set_member",
    "update_account",
]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
NAME_MAX = 255
# PUT accounts/:account_id ``industry_type`` (§4.3).
INDUSTRY_TYPES = (
    "AGENCY",
    "BUSINESS_TO_BUSINESS",
    "ONLINE_SERVICES",
    "EDUCATION",
    "FINANCIAL",
    "HEALTH",
    "GOVERNMENT",
    "MEDIA",
    "MOBILE",
    "RESTAURANT",
    "RETAIL",
    "TECHNOLOGY",
    "TRAVEL",
    "OTHER",
)
ACCOUNT_SORTS: dict[str, Kind] = {
    "created_at": "time",
    "updated_at": "time",
    "deleted": "bool",
    "name": "text",
}
PROMOTABLE_USER_SORTS: dict[str, Kind] = {
    "created_at": "time",
    "updated_at": "time",
    "deleted": "bool",
}
_DEFAULT_SORT = (SortKey("created_at", False),)
_T = TypeVar("_T")


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


def check_name(name: str) -> str:
    if not name.strip() or len(name) > NAME_MAX:
        raise errors.InvalidParameter(
            "name", f"name must be 1 to {NAME_MAX} characters, not only spaces"
        )
    return name


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of ``now``'s day in ``timezone``, in UTC (``timezone_switch_at``)."""
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """An account as one member sees it: the §4.2 fields and the member's access."""

    account: AccountView
    industry_type: str | None
    role: str
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PromotableUser:
    """The account's FULL promotable user (§6.2): its owner."""

    id: str
    user_id: int
    account_id: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A list request: ``count`` items after ``cursor`` in ``sort`` order (oldest first
    without one); ``cursor`` and ``with_total_count`` are exclusive (§3)."""

    count: int
    sort: tuple[SortKey, ...] = ()
    cursor: str | None = None
    with_total_count: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[_T]):
    items: list[_T]
    next_cursor: str | None
    total_count: int | None


def _entry(row: Any) -> AccountEntry:
    account, role, permissions = row
    granted = tuple(p for p in permissions.split(",") if p)
    return AccountEntry(account_view(account), account.industry_type, role, granted)


async def create_account(
    session: AsyncSession,
    ids: IdGenerator,
    *,
    owner_id: int,
    name: str,
    timezone: str,
    now: datetime,
) -> AccountView:
    """A new account owned by ``owner_id`` (its admin and FULL promotable user);
    ``timezone_switch_at`` is the local midnight of the day it was made."""
    account = StudioAccount(
        id=base36(ids.next_id()),
        name=check_name(name),
        timezone=check_timezone(timezone),
        owner_id=owner_id,
        promotable_user_id=base36(ids.next_id()),
        salt=secrets.token_hex(16),
        deleted=False,
        timezone_switch_at=local_midnight(now, timezone),
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


def _member_accounts(user_id: int) -> Select[StudioAccount, str, str]:
    return select(StudioAccount, StudioMember.role, StudioMember.permissions).join(
        StudioMember,
        and_(StudioMember.account_id == StudioAccount.id, StudioMember.user_id == user_id),
    )


async def get_account(session: AsyncSession, *, account_id: str, user_id: int) -> AccountEntry:
    """One account of the caller's (403 NOT_FOUND otherwise, as ``load_access``)."""
    statement = _member_accounts(user_id).where(StudioAccount.id == account_id)
    row = (await session.execute(statement)).first()
    if row is None or row[0].deleted:
        raise errors.AccountNotFound(account_id)
    return _entry(row)


def _after(
    columns: Sequence[tuple[InstrumentedAttribute[Any], bool]],
    keyset: Keyset,
    id_column: InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    """Rows strictly after the keyset in the order (columns..., id ascending)."""
    terms: list[ColumnElement[bool]] = []
    for index, (column, descending) in enumerate(columns):
        equal = [c == v for (c, _), v in zip(columns[:index], keyset.values, strict=False)]
        value = keyset.values[index]
        terms.append(and_(*equal, column < value if descending else column > value))
    equal = [c == v for (c, _), v in zip(columns, keyset.values, strict=True)]
    terms.append(and_(*equal, id_column > keyset.last_id))
    return or_(*terms)


async def _page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    page: PageQuery,
    *,
    fields: dict[str, Kind],
    id_column: InstrumentedAttribute[str],
    shape: Callable[[Any], _T],
) -> Page[_T]:
    """One keyset page of ``statement`` (rows whose first column is a StudioAccount)."""
    if page.cursor is not None and page.with_total_count:
        raise errors.ExclusiveParameters("cursor", "with_total_count")
    sort = page.sort or _DEFAULT_SORT
    columns = [(getattr(StudioAccount, key.field), key.descending) for key in sort]
    total = None
    if page.with_total_count:
        total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    if page.cursor is not None:
        keyset = decode_cursor(page.cursor, sort, fields)
        statement = statement.where(_after(columns, keyset, id_column))
    order = [c.desc() if descending else c.asc() for c, descending in columns]
    rows = (
        await session.execute(statement.order_by(*order, id_column.asc()).limit(page.count + 1))
    ).all()
    next_cursor = None
    if len(rows) > page.count:
        rows = rows[: page.count]
        last = rows[-1][0]
        values = [getattr(last, key.field) for key in sort]
        next_cursor = encode_cursor(sort, values, getattr(last, id_column.key))
    return Page([shape(row) for row in rows], next_cursor, total)


def _prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


async def list_accounts(
    session: AsyncSession,
    *,
    user_id: int,
    page: PageQuery,
    account_ids: Sequence[str] = (),
    q: str | None = None,
    with_deleted: bool = False,
) -> Page[AccountEntry]:
    """The accounts ``user_id`` is a member of; ``q`` is a case-insensitive prefix of
    the name."""
    statement = _member_accounts(user_id)
    if account_ids:
        statement = statement.where(StudioAccount.id.in_(account_ids))
    if not with_deleted:
        statement = statement.where(StudioAccount.deleted.is_(False))
    if q:
        statement = statement.where(func.lower(StudioAccount.name).like(_prefix(q), escape="\\"))
    return await _page(
        session, statement, page, fields=ACCOUNT_SORTS, id_column=StudioAccount.id, shape=_entry
    )


def _promotable(row: Any) -> PromotableUser:
    account = row[0]
    return PromotableUser(
        id=account.promotable_user_id,
        user_id=account.owner_id,
        account_id=account.id,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


async def list_promotable_users(
    session: AsyncSession,
    *,
    account_id: str,
    page: PageQuery,
    promotable_user_ids: Sequence[str] = (),
) -> Page[PromotableUser]:
    """The account's promotable users: its FULL one, the owner (no RETWEETS_ONLY users
    exist here)."""
    statement = select(StudioAccount).where(StudioAccount.id == account_id)
    if promotable_user_ids:
        statement = statement.where(StudioAccount.promotable_user_id.in_(promotable_user_ids))
    return await _page(
        session,
        statement,
        page,
        fields=PROMOTABLE_USER_SORTS,
        id_column=StudioAccount.promotable_user_id,
        shape=_promotable,
    )


async def update_account(
    session: AsyncSession,
    *,
    account_id: str,
    user_id: int,
    name: str | None = None,
    industry_type: str | None = None,
    unset_industry_type: bool = False,
    now: datetime,
) -> AccountEntry:
    """Change the name and/or the industry type (``unset_industry_type`` clears it)."""
    account = await session.get(StudioAccount, account_id)
    if account is None or account.deleted:
        raise errors.AccountNotFound(account_id)
    if name is not None:
        account.name = check_name(name)
    if industry_type is not None:
        if industry_type not in INDUSTRY_TYPES:
            raise errors.InvalidParameter(
                "industry_type", f"Expected one of {', '.join(INDUSTRY_TYPES)} for industry_type"
            )
        account.industry_type = industry_type
    elif unset_industry_type:
        account.industry_type = None
    if name is not None or industry_type is not None or unset_industry_type:
        account.updated_at = now
    await session.commit()
    return await get_account(session, account_id=account_id, user_id=user_id)


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One row of ``mediastudio accounts list``."""

    id: str
    name: str
    timezone: str
    owner: str
    members: list[tuple[str, str]]  # (screen_name, role), in the order they joined


async def all_accounts(session: AsyncSession) -> list[AccountSummary]:
    """Every account (the operator's view), oldest first, with its members."""
    owners = (
        await session.execute(
            select(StudioAccount, Account.screen_name)
            .join(Account, Account.id == StudioAccount.owner_id)
            .order_by(StudioAccount.created_at, StudioAccount.id)
        )
    ).all()
    rows = (
        await session.execute(
            select(StudioMember.account_id, Account.screen_name, StudioMember.role)
            .join(Account, Account.id == StudioMember.user_id)
            .order_by(StudioMember.created_at, StudioMember.user_id)
        )
    ).all()
    by_account: dict[str, list[tuple[str, str]]] = {}
    for account_id, screen_name, role in rows:
        by_account.setdefault(account_id, []).append((screen_name, role))
    return [
        AccountSummary(a.id, a.name, a.timezone, owner, by_account.get(a.id, []))
        for a, owner in owners
    ]


# Kept for the callers of the first version (tests/fixtures/studio.py): grants a role
# or a permission list under the members' rules.
set_member = members.grant
