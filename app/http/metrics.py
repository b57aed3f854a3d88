"""``RequestMetrics``: the pure-ASGI middleware counting requests by method, route
template and status, and timing them (app/infra/metrics.py).

The route label is the matched route's template (``/2/media/{media_id}``), never the
raw path; a request no route matched counts as ``route="unmatched"``, and a method
outside the standard ones as ``method="other"``: the labels have as many values as there
are routes. Per request: one ``send`` wrapper reading the status, two ``perf_counter``
calls, one dict lookup for the labelled children (``labels()`` takes a lock and builds
its key every time), one counter and one histogram update; the body streams through
untouched.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.infra.metrics import REQUEST_SECONDS, REQUESTS

__all__ = ["UNMATCHED", "RequestMetrics"]

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# (method, route, status) -> (counter, histogram) children; bounded as the labels are.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _observe(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    found = _children.get(key)
    if found is None:
        if method not in _METHODS:
            method = "other"
        found = REQUESTS.labels(method, route, str(status)), REQUEST_SECONDS.labels(method, route)
        if len(_children) < 10_000:
            _children[key] = found
    found[0].inc()
    found[1].observe(seconds)


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # nothing answered: the server answers 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            _observe(scope["method"], route, status, time.perf_counter() - start)
