from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.http.deps import ContextDep, SessionsDep, StoreDep
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


@router.get("/readyz", operation_id="health-readyz")
async def readyz(context: ContextDep) -> Response:
    """200 when uploads can be taken: the database and storage answer and the storage
    volume has the free space `storage.min_free_bytes`/`min_free_percent` ask for; else
    503 with `failing` naming the checks that failed (`storage_space`: low space)."""
    ready = await health.readiness(context.sessions, context.store, context.settings.storage)
    body = {
        "status": "ok" if ready.ready else "unavailable",
        "checks": ready.checks,
        "failing": ready.failing,
        **ready.details,
    }
    return TwitterJSONResponse(body, status_code=200 if ready.ready else 503)
