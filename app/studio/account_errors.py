"""The accounts' and members' own failures (Ads envelope, ``app/studio/errors.py``)."""

from __future__ import annotations

from app.studio.errors import StudioError

__all__ = [
    "LastAdmin",
    "MemberNotFound",
    "OwnerNotRemovable",
    "PromotableUserNotFound",
    "UserNotFound",
]


class PromotableUserNotFound(StudioError):
    """An unknown promotable user id on an account (§6.2)."""

    http_status = 404
    ads_code = "PROMOTABLE_USER_NOT_FOUND"

    def __init__(self, promotable_user_id: str, account_id: str) -> None:
        super().__init__(
            f"Promotable User {promotable_user_id} was not found for Account {account_id}"
        )


class UserNotFound(StudioError):
    """Granting access to a platform user that does not exist."""

    http_status = 404
    ads_code = "USER_NOT_FOUND"

    def __init__(self, user: int | str) -> None:
        super().__init__(f"User {user} was not found", parameter="user_id")


class MemberNotFound(StudioError):
    """Revoking the access of a user who is no member of the account."""

    http_status = 404
    ads_code = "NOT_FOUND"

    def __init__(self, user: int | str, account_id: str) -> None:
        super().__init__(f"User {user} is not a member of Account {account_id}")


class LastAdmin(StudioError):
    """Removing or demoting the account's last member with ACCOUNT_ADMIN: an account
    always keeps someone who can manage its members."""

    http_status = 400
    ads_code = "LAST_ADMIN"

    def __init__(self, account_id: str) -> None:
        super().__init__(
            f"Account {account_id} needs at least one member with ACCOUNT_ADMIN; "
            "grant it to another member first",
            parameter="user_id",
        )


class OwnerNotRemovable(StudioError):
    """Removing the account's owner, its FULL promotable user (the owner may be given
    another role while another admin remains)."""

    http_status = 400
    ads_code = "OWNER_NOT_REMOVABLE"

    def __init__(self, account_id: str) -> None:
        super().__init__(
            f"The owner of Account {account_id} is its FULL promotable user and cannot be removed",
            parameter="user_id",
        )
