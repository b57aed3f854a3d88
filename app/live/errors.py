"""The Producer's expected failures, rendered in the v2 problem form (producer-api.md
§3.7, §4.1): 400 invalid request (naming the parameter), 403 not allowed, 404 not found
(with ``resource_type``/``resource_id``), 409 conflict."""

from __future__ import annotations

from app.core.errors import ApiError
from app.live.rules import LiveRuleError

__all__ = ["LiveConflict", "LiveForbidden", "LiveInvalid", "LiveNotFound", "from_rule"]


class LiveInvalid(ApiError):
    http_status = 400
    twitter_code = 44

    def __init__(self, detail: str, parameter: str | None = None) -> None:
        super().__init__(detail)
        if parameter is not None:
            self.parameter = parameter


class LiveForbidden(ApiError):
    http_status = 403
    twitter_code = 200
    message = "You are not permitted to perform this action."


class LiveNotFound(ApiError):
    http_status = 404
    twitter_code = 34

    def __init__(self, resource_type: str, resource_id: str) -> None:
        super().__init__(
            f"Could not find {resource_type} with id: [{resource_id}].",
            resource_type=resource_type,
            resource_id=resource_id,
        )


class LiveConflict(ApiError):
    http_status = 409
    twitter_code = 409
    message = "The request conflicts with the resource's current state."


def from_rule(error: LiveRuleError) -> ApiError:
    if error.kind == "conflict":
        return LiveConflict(error.message)
    return LiveInvalid(error.message, error.parameter)
