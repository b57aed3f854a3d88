from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.http.deps import SessionsDep, StoreDep
from app.http.responses import TwitterJSONResponse
from app.infra import health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health-healthz")
async def healthz(sessions: SessionsDep, store: StoreDep) -> Response:
    """200 `{"status":"ok"}` when the database and storage answer, else 503."""
    checks = await health.check(sessions, store)
    ok = all(checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return TwitterJSONResponse(body, status_code=200 if ok else 503)
