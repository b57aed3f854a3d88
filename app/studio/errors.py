"""The studio's expected failures, each with the Ads API's error ``code`` (§2.3).

They are ``ApiError`` subclasses: the HTTP layer renders every ``ApiError`` on the
studio's paths (``/11/``, ``/12/``, ``/studio/v1/``) in the Ads envelope
``{"errors": [{"code", "message", "parameter"?}], "request": {"params": {}}}``, mapping
the core ones (401, 429, posting rules) onto Ads codes (``app/http/studio/envelope.py``).
"""

from __future__ import annotations

from typing import ClassVar

from app.core.errors import ApiError

__all__ = [
    "AccountNotFound",
    "ActionNotAllowed",
    "ExclusiveParameters",
    "InvalidMedia",
    "InvalidParameter",
    "InvalidTimeWindow",
    "InvalidUser",
    "MissingParameter",
    "NotFound",
    "StudioError",
]


class StudioError(ApiError):
    """An Ads API error: ``ads_code`` is the wire's ``code``; ``parameter`` (when set)
    names the offending parameter."""

    ads_code: ClassVar[str] = "INVALID_PARAMETER"

    def __init__(self, detail: str | None = None, *, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.parameter = parameter


class AccountNotFound(StudioError):
    """Unknown account, or one the caller is no member of: 403 ``NOT_FOUND``, as X
    answers (§2.3, observed), so an outsider cannot tell the two apart."""

    http_status = 403
    ads_code = "NOT_FOUND"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"Account {account_id} was not found")


class ActionNotAllowed(StudioError):
    """A member whose permissions do not cover the action (UNCONFIRMED on X: this
    service's choice, README "Studio roles")."""

    http_status = 403
    ads_code = "ACTION_NOT_ALLOWED"

    def __init__(self, what: str, account_id: str) -> None:
        super().__init__(f"The user is not allowed to {what} for Account {account_id}")


class NotFound(StudioError):
    """An unknown item inside an account (library item, draft, scheduled post...)."""

    http_status = 404
    ads_code = "NOT_FOUND"


class MissingParameter(StudioError):
    ads_code = "MISSING_PARAMETER"

    def __init__(self, name: str) -> None:
        super().__init__(f'"{name}" is a required parameter', parameter=name)


class InvalidParameter(StudioError):
    ads_code = "INVALID_PARAMETER"

    def __init__(self, name: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Invalid value for {name}", parameter=name)


class ExclusiveParameters(StudioError):
    ads_code = "EXCLUSIVE_PARAMETERS"

    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} and {second} are exclusive parameters", parameter=second)


class InvalidMedia(StudioError):
    ads_code = "INVALID_MEDIA"


class InvalidUser(StudioError):
    ads_code = "INVALID_USER"


class InvalidTimeWindow(StudioError):
    """A time range the surface does not take (too long, end not after start, §2.3)."""

    ads_code = "INVALID_TIME_WINDOW"
