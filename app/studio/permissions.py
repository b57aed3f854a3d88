"""Roles, permissions and what each studio action needs: pure rules.

Roles are sets of the Ads API's permission names (§5). An admin may also grant an
explicit list (role ``custom``). ``allowed(permissions, action)`` is the one check every
studio endpoint makes; the matrix below is the documented one (README, "Studio roles").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Action",
    "allowed",
    "parse_permissions",
    "role_of",
]

ACCOUNT_ADMIN = "ACCOUNT_ADMIN"
AD_MANAGER = "AD_MANAGER"
CREATIVE_MANAGER = "CREATIVE_MANAGER"
CAMPAIGN_ANALYST = "CAMPAIGN_ANALYST"
ANALYST = "ANALYST"
PARTNER_AUDIENCE_MANAGER = "PARTNER_AUDIENCE_MANAGER"
TWEET_COMPOSER = "TWEET_COMPOSER"

# In the order the Ads API lists them.
PERMISSIONS = (
    ACCOUNT_ADMIN,
    AD_MANAGER,
    CREATIVE_MANAGER,
    CAMPAIGN_ANALYST,
    ANALYST,
    PARTNER_AUDIENCE_MANAGER,
    TWEET_COMPOSER,
)

ROLES: dict[str, tuple[str, ...]] = {
    "admin": (ACCOUNT_ADMIN, TWEET_COMPOSER),
    "full": (AD_MANAGER, TWEET_COMPOSER),
    "limited": (CREATIVE_MANAGER,),
}


class Action(StrEnum):
    """Everything a member may be allowed to do on an account."""

    VIEW_ACCOUNT = "view_account"  # the account, its promotable users, one's own access
    READ_LIBRARY = "read_library"  # library, drafts, scheduled posts, previews, posts
    EDIT_LIBRARY = "edit_library"  # add to the library, edit names, titles, descriptions
    DELETE_MEDIA = "delete_media"  # the trash can: bytes and variants go
    EDIT_DRAFTS = "edit_drafts"
    PUBLISH = "publish"  # schedule, edit or delete scheduled posts, post now
    VIEW_ANALYTICS = "view_analytics"
    MANAGE_MEMBERS = "manage_members"
    VIEW_LIVE = "view_live"  # the Producer's sources and broadcasts, the preview
    MANAGE_LIVE = "manage_live"  # create, rename, delete; publish and end broadcasts


_MANAGERS = frozenset({ACCOUNT_ADMIN, AD_MANAGER})
_CREATIVE = _MANAGERS | {CREATIVE_MANAGER}
# Each action: the permissions of which the member needs one, and (for publishing) one
# more that is needed as well.
_NEEDS: dict[Action, tuple[frozenset[str], frozenset[str]]] = {
    Action.VIEW_ACCOUNT: (frozenset(PERMISSIONS), frozenset()),
    Action.READ_LIBRARY: (_CREATIVE | {CAMPAIGN_ANALYST}, frozenset()),
    Action.EDIT_LIBRARY: (_CREATIVE, frozenset()),
    Action.DELETE_MEDIA: (_MANAGERS, frozenset()),
    Action.EDIT_DRAFTS: (_CREATIVE, frozenset()),
    Action.PUBLISH: (_MANAGERS, frozenset({TWEET_COMPOSER})),
    Action.VIEW_ANALYTICS: (_MANAGERS | {CAMPAIGN_ANALYST, ANALYST}, frozenset()),
    Action.MANAGE_MEMBERS: (frozenset({ACCOUNT_ADMIN}), frozenset()),
    Action.VIEW_LIVE: (_CREATIVE, frozenset()),
    Action.MANAGE_LIVE: (_MANAGERS, frozenset()),
}


def allowed(permissions: Collection[str], action: Action) -> bool:
    any_of, also = _NEEDS[action]
    return bool(any_of.intersection(permissions)) and also.issubset(permissions)


def parse_permissions(values: Iterable[str]) -> tuple[str, ...]:
    """An explicit list, upper-cased, deduplicated, in the API's order. Raises
    ValueError naming the first unknown one, or when the list grants no base permission
    (TWEET_COMPOSER is an add-on: only with ACCOUNT_ADMIN, AD_MANAGER or
    CREATIVE_MANAGER, §5)."""
    given = {v.strip().upper() for v in values if v.strip()}
    unknown = sorted(given.difference(PERMISSIONS))
    if unknown:
        raise ValueError(f"Unknown permission {unknown[0]}.")
    if not given:
        raise ValueError("At least one permission is needed.")
    if TWEET_COMPOSER in given and not given & {ACCOUNT_ADMIN, AD_MANAGER, CREATIVE_MANAGER}:
        raise ValueError(
            "TWEET_COMPOSER is granted only with ACCOUNT_ADMIN, AD_MANAGER or CREATIVE_MANAGER."
        )
    return tuple(p for p in PERMISSIONS if p in given)


def role_of(permissions: Collection[str]) -> str:
    """The role whose set this is exactly, else ``custom``."""
    for role, granted in ROLES.items():
        if set(granted) == set(permissions):
            return role
    return "custom"
