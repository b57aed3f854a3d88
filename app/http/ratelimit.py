"""Rate limits: the per-route dependency, the hand-called ``count`` for the hot upload
routes, and the middleware that writes ``x-rate-limit-*`` headers. Also the upload gate
(``UploadGate``): requests carrying media bytes in flight per user, and their bytes per
process, checked by ``count`` for the ``UPLOADS`` endpoints and released by the
middleware when the response is done.

Windows are counted in the database (``app.accounts.ratelimit``), so they hold across
processes. To keep that off the hot path, a process reserves several requests of a
window in one write (a lease: ``limit // 100``, at most 4096, at least 1) and hands
them out from memory until they run out or the window ends; the next reservation is
made when half is used, while the other half is handed out. So a window is never exceeded;
what a process reserved and did not use is lost when the window ends (at most 1% of the
limit per process). Limits under 200 reserve one request at a time: exact.

``settings.rate_limits`` (``MEDIASTUDIO_RATE_LIMITS``) overrides the numbers by endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import ratelimit
from app.accounts.ratelimit import RateLimitExceeded, RateRule, RateState
from app.core import errors
from app.http.deps import ClockDep, CurrentUser, context_of
from app.infra import metrics

__all__ = [
    "DM_CREATE",
    "SUBTITLES",
    "THREE_HOURS",
    "UPLOADS",
    "UPLOAD_V11",
    "Limit",
    "RateLimitHeaders",
    "UploadGate",
    "count",
    "limited",
    "rate_limited",
]

log = logging.getLogger(__name__)

THREE_HOURS = 3 * 3600
_DAY = 86_400
_STATE_KEY = "rate_limit"
_GATE_KEY = "upload_gate"
_HELD_KEY = "upload_held"
_RETRY_KEY = "retry_after"
_MAX_LEASE = 4096
_MAX_LEASES = 10_000


@dataclass(frozen=True, slots=True)
class Limit:
    """An endpoint's default windows: (limit, window seconds) per user and per app."""

    endpoint: str
    per_user: tuple[int, int]
    per_app: tuple[int, int] | None = None


# v1.1 media/upload: Twitter published no numbers (spec §9). Each command gets the
# numbers of its v2 endpoint, in windows of its own.
UPLOAD_V11 = {
    "INIT": Limit("media/upload:INIT", (1875, 900), (180_000, _DAY)),
    "APPEND": Limit("media/upload:APPEND", (1875, 900), (180_000, _DAY)),
    "FINALIZE": Limit("media/upload:FINALIZE", (1875, 900), (180_000, _DAY)),
    "STATUS": Limit("media/upload:STATUS", (1000, 900), (100_000, _DAY)),
    "upload": Limit("media/upload", (500, 900), (50_000, _DAY)),
}
# The endpoints whose requests carry media bytes: v1.1 APPEND and simple upload, v2
# append and POST /2/media/upload (one-shot, or the deprecated command form; its
# endpoint names are declared in app/http/v2/media.py).
UPLOADS = frozenset(
    {UPLOAD_V11["APPEND"].endpoint, UPLOAD_V11["upload"].endpoint, "media:append", "media:upload"}
)
# Shared by a v1.1 and a v2 route each: one window per use case (spec §9).
DM_CREATE = Limit("dm:create", (1000, _DAY), (15_000, _DAY))
SUBTITLES = Limit("media/subtitles", (100, 900), (10_000, _DAY))


@dataclass(slots=True)
class _Lease:
    left: int  # reserved, not yet handed out
    state: RateState  # as the database counted it at the last reservation
    size: int  # requests reserved at a time
    checks: list[tuple[str, RateRule]]  # (subject, rule) pairs it counts in
    refreshing: asyncio.Future[None] | None = None  # a reservation in flight
    spent: bool = False  # a reservation was refused: the rest one at a time


# endpoint, user, app (or None), the user's and the app's numbers as configured now
_LeaseKey = tuple[str, int, Any, tuple[int, ...], tuple[int, ...] | None]
_leases: weakref.WeakKeyDictionary[Any, dict[_LeaseKey, _Lease]] = weakref.WeakKeyDictionary()


def _rule(numbers: Any) -> RateRule:
    limit, seconds = numbers
    return RateRule(int(limit), timedelta(seconds=int(seconds)))


def _key(request: Request, user: int, limit: Limit) -> _LeaseKey:
    overrides = context_of(request).settings.rate_limits.get(limit.endpoint, {})
    app_id = request.scope.get("state", {}).get("client_app_id")  # set by the authenticators
    app_numbers = overrides.get("app", limit.per_app) if app_id is not None else None
    user_numbers = tuple(overrides.get("user", limit.per_user))
    return (limit.endpoint, user, app_id, user_numbers, app_numbers and tuple(app_numbers))


def _checks(key: _LeaseKey) -> list[tuple[str, RateRule]]:
    _, user, app_id, user_numbers, app_numbers = key
    checks = [(f"user:{user}", _rule(user_numbers))]
    if app_numbers is not None:
        checks.append((f"app:{app_id}", _rule(app_numbers)))
    return checks


def _lease_size(checks: list[tuple[str, RateRule]]) -> int:
    return max(1, min(_MAX_LEASE, *(rule.limit // 100 for _, rule in checks)))


async def count(request: Request, *, user: int, limit: Limit, now: datetime) -> None:
    """Count this request against ``limit``; raises RateLimitExceeded (429) when a
    window ran out. Called by hand on the hot routes, through ``rate_limited`` elsewhere.

    Requests are handed out from the process's lease; when half of it is used, the
    request that noticed reserves the next part while the others go on with the rest, so
    requests wait for the database only at the start of a window (or when the lease
    runs dry before the next part arrives)."""
    if limit.endpoint in UPLOADS:
        await _enter_upload(request, user)
    key = _key(request, user, limit)
    leases = _leases.get(request.app)
    if leases is None:
        leases = _leases[request.app] = {}
    state_dict = request.scope.setdefault("state", {})
    while (lease := leases.get(key)) is not None:
        if lease.left > 0 and now < (lease.state.soonest_reset or now):
            lease.left -= 1
            state = lease.state
            state_dict[_STATE_KEY] = RateState(state.limit, state.used - lease.left, state.reset)
            if lease.left * 2 < lease.size and lease.refreshing is None and not lease.spent:
                await _refresh(request, lease, limit, now)  # the others go on meanwhile
            return
        if lease.refreshing is None:
            break
        await asyncio.shield(lease.refreshing)  # one reservation at a time per window
    if len(leases) >= _MAX_LEASES:
        leases.clear()  # what they held is not handed out: never over a limit
    checks = _checks(key)
    size = _lease_size(checks)
    lease = leases[key] = _Lease(left=0, state=RateState(0, 0, now), size=size, checks=checks)
    lease.refreshing = asyncio.get_running_loop().create_future()
    try:
        state, size = await _reserve(request, checks, limit, now, size)
    except BaseException as exc:
        leases.pop(key, None)
        if isinstance(exc, RateLimitExceeded):
            metrics.RATE_LIMIT_REFUSALS.labels(limit.endpoint).inc()
            state_dict[_STATE_KEY] = exc.state
            _log_limited(limit, checks, exc.state)
        raise
    finally:
        lease.refreshing.set_result(None)
        lease.refreshing = None
    lease.left, lease.state, lease.spent = size - 1, state, size == 1
    state_dict[_STATE_KEY] = RateState(state.limit, state.used - (size - 1), state.reset)


def _log_limited(limit: Limit, checks: list[tuple[str, RateRule]], state: RateState) -> None:
    subject, rule = next(((s, r) for s, r in checks if r.limit == state.limit), checks[0])
    log.info(
        "rate limited",
        extra={
            "endpoint": limit.endpoint,
            "subject": subject.partition(":")[0],  # "user" or "app"
            "limit": state.limit,
            "window_secs": int(rule.window.total_seconds()),
            "reset": state.reset.isoformat(),
        },
    )


async def _refresh(request: Request, lease: _Lease, limit: Limit, now: datetime) -> None:
    """Reserve the next part of a lease while the rest of it is still handed out."""
    refreshing = lease.refreshing = asyncio.get_running_loop().create_future()
    try:
        state = await ratelimit.hit(
            context_of(request).sessions,
            checks=lease.checks,
            endpoint=limit.endpoint,
            now=now,
            cost=lease.size,
        )
        if state.reset != lease.state.reset:
            lease.left = 0  # a new window: what is left of the old one is not its
        lease.left += lease.size
        lease.state = state
    except RateLimitExceeded:
        lease.spent = True  # hand out the rest, then count one at a time
    finally:
        refreshing.set_result(None)
        lease.refreshing = None


async def _reserve(
    request: Request,
    checks: list[tuple[str, RateRule]],
    limit: Limit,
    now: datetime,
    size: int,
) -> tuple[RateState, int]:
    sessions = context_of(request).sessions
    try:
        state = await ratelimit.hit(
            sessions, checks=checks, endpoint=limit.endpoint, now=now, cost=size
        )
    except RateLimitExceeded:
        if size == 1:
            raise
        size = 1  # near the end of a window: the requests one at a time
        state = await ratelimit.hit(sessions, checks=checks, endpoint=limit.endpoint, now=now)
    return state, size


def rate_limited(
    endpoint: str, *, per_user: tuple[int, int], per_app: tuple[int, int] | None = None
) -> Any:
    """A dependency counting this request against (limit, window seconds) windows."""
    return limited(Limit(endpoint, per_user, per_app))


def limited(limit: Limit) -> Any:
    """``rate_limited`` for a declared ``Limit``."""

    async def dependency(request: Request, user: CurrentUser, clock: ClockDep) -> None:
        await count(request, user=user, limit=limit, now=clock())

    return Depends(dependency)


class UploadGate:
    """One process's uploads in flight: how many per user (``per_user``) and how many
    bytes in all (``max_bytes``, as their Content-Length declares; a body without one
    counts as ``default_bytes``). A request over either waits up to ``wait`` seconds for
    a place (a client sending its segments a few at a time is queued, not refused), then
    is refused before its media bytes are read: 429 code 88 (``TooManyUploads``) for the
    user's count, 503 code 130 with ``Retry-After`` (``OverCapacity``) for the bytes. A
    request larger than ``max_bytes`` counts as ``max_bytes``: alone, it gets in."""

    def __init__(
        self, *, per_user: int, max_bytes: int, default_bytes: int, wait: float = 0.0
    ) -> None:
        self.per_user = per_user
        self.max_bytes = max_bytes
        self.default_bytes = default_bytes
        self.wait = wait
        self.users: dict[int, int] = {}
        self.bytes = 0
        self._waiters: list[asyncio.Future[None]] = []

    def _refusal(self, user: int, size: int) -> errors.ApiError | None:
        if self.users.get(user, 0) >= self.per_user:
            return errors.TooManyUploads()
        if self.bytes + size > self.max_bytes:
            return errors.OverCapacity()
        return None

    async def enter(self, user: int, declared: int | None) -> int:
        """Take a place for ``user``; returns the bytes held, for ``leave``."""
        size = min(self.max_bytes, self.default_bytes if declared is None else declared)
        if (refusal := self._refusal(user, size)) is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.wait
            while refusal is not None:
                if self.wait <= 0:
                    raise refusal
                waiter = loop.create_future()
                self._waiters.append(waiter)
                try:
                    async with asyncio.timeout_at(deadline):
                        await waiter
                except TimeoutError:
                    raise refusal from None
                finally:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                refusal = self._refusal(user, size)
        self.users[user] = self.users.get(user, 0) + 1
        self.bytes += size
        return size

    def leave(self, user: int, size: int) -> None:
        self.bytes -= size
        left = self.users[user] - 1
        if left:
            self.users[user] = left
        else:
            del self.users[user]
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:  # each looks again; the ones still refused wait on
            if not waiter.done():
                waiter.set_result(None)


async def _enter_upload(request: Request, user: int) -> None:
    state = request.scope.get("state", {})
    gate: UploadGate | None = state.get(_GATE_KEY)
    if gate is None or _HELD_KEY in state:
        return  # no middleware to release it, or counted already
    length = request.headers.get("content-length")
    declared = int(length) if length is not None and length.isdigit() else None
    try:
        state[_HELD_KEY] = (user, await gate.enter(user, declared))
    except errors.TooManyUploads:
        metrics.UPLOAD_GATE_REFUSALS.labels("per_user").inc()
        log.info("upload gate refused", extra={"reason": "uploads in flight per user"})
        raise
    except errors.OverCapacity:
        metrics.UPLOAD_GATE_REFUSALS.labels("bytes").inc()
        log.warning("upload gate refused", extra={"reason": "upload bytes in flight"})
        state[_RETRY_KEY] = b"1"
        raise


class RateLimitHeaders:
    """Pure ASGI (never touches the body): adds the window of this request, if any, and
    ``Retry-After`` to a refusal for capacity; releases the request's place in
    ``uploads`` once it is answered."""

    def __init__(self, app: ASGIApp, uploads: UploadGate | None = None) -> None:
        self.app = app
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope_state = scope.setdefault("state", {})
        if self.uploads is not None:
            scope_state[_GATE_KEY] = self.uploads

        async def send_with_headers(message: Message) -> None:
            state: RateState | None = scope_state.get(_STATE_KEY)
            if message["type"] == "http.response.start":
                headers = None
                if state is not None:
                    headers = list(message.get("headers", []))
                    headers += [
                        (b"x-rate-limit-limit", str(state.limit).encode()),
                        (b"x-rate-limit-remaining", str(state.remaining).encode()),
                        (b"x-rate-limit-reset", str(int(state.reset.timestamp())).encode()),
                    ]
                if _RETRY_KEY in scope_state:
                    headers = headers or list(message.get("headers", []))
                    headers.append((b"retry-after", scope_state[_RETRY_KEY]))
                if headers is not None:
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            held = scope_state.pop(_HELD_KEY, None)
            if held is not None and self.uploads is not None:
                self.uploads.leave(*held)
