"""``RequestMetrics``: the pure-ASGI middleware counting requests by method, route
template and status, and timing them (app/infra/metrics.py).

The route label is the matched route's template (``/2/media/{media_id}``), never the
raw path; a request no route matched counts as ``route="unmatched"``: the label has as
many values as there are routes. Per request: one ``send`` wrapper reading the status,
two ``perf_counter`` calls, one counter and one histogram update; the body streams
through untouched.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.infra.metrics import REQUEST_SECONDS, REQUESTS

__all__ = ["UNMATCHED", "RequestMetrics"]

UNMATCHED = "unmatched"


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
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - start)
