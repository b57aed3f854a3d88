"""``GET /metrics``: the Prometheus exposition text (app/infra/metrics_scrape.py).

Open by default; with ``metrics.token`` set, only ``Authorization: Bearer <token>``
gets it (else 401 code 32); with ``metrics.enabled`` false the route is not mounted
(404). Left out of the OpenAPI document: it is for the scraper, not the API's clients.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from app.core import errors
from app.core.clock import utcnow
from app.http.deps import context_of
from app.infra.metrics_scrape import scrape

__all__ = ["router"]

router = APIRouter(tags=["health"])


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    context = context_of(request)
    token = context.settings.metrics.token
    if token and not _authorized(request, token):
        raise errors.NotAuthenticated()
    body = await scrape(context.read_sessions, now=utcnow())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
