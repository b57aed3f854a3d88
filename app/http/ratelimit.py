"""Rate-limit dependencies and the middleware that writes ``x-rate-limit-*`` headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import ratelimit
from app.accounts.ratelimit import RateLimitExceeded, RateRule, RateState
from app.http.deps import ClockDep, CurrentUser, SessionsDep, context_of

__all__ = ["THREE_HOURS", "RateLimitHeaders", "rate_limited"]

THREE_HOURS = 3 * 3600

_STATE_KEY = "rate_limit"


def rate_limited(
    endpoint: str, *, per_user: tuple[int, int], per_app: tuple[int, int] | None = None
) -> Any:
    """A dependency counting this request against (limit, window seconds) windows.

    ``settings.rate_limits`` may override the numbers by endpoint.
    """

    async def dependency(
        request: Request, user: CurrentUser, sessions: SessionsDep, clock: ClockDep
    ) -> None:
        overrides = context_of(request).settings.rate_limits.get(endpoint, {})
        user_rule = RateRule(*_rule(overrides.get("user", per_user)))
        checks = [(f"user:{user}", user_rule)]
        app_id = getattr(request.state, "client_app_id", None)
        app_numbers = overrides.get("app", per_app)
        if app_id is not None and app_numbers is not None:
            checks.append((f"app:{app_id}", RateRule(*_rule(app_numbers))))
        try:
            state = await ratelimit.hit(sessions, checks=checks, endpoint=endpoint, now=clock())
        except RateLimitExceeded as exc:
            request.scope.setdefault("state", {})[_STATE_KEY] = exc.state
            raise
        request.scope.setdefault("state", {})[_STATE_KEY] = state

    return Depends(dependency)


def _rule(numbers: Any) -> tuple[int, timedelta]:
    limit, seconds = numbers
    return int(limit), timedelta(seconds=int(seconds))


class RateLimitHeaders:
    """Pure ASGI (never touches the body): adds the window of this request, if any."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            state: RateState | None = scope.get("state", {}).get(_STATE_KEY)
            if message["type"] == "http.response.start" and state is not None:
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-rate-limit-limit", str(state.limit).encode()),
                    (b"x-rate-limit-remaining", str(state.remaining).encode()),
                    (b"x-rate-limit-reset", str(int(state.reset.timestamp())).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
