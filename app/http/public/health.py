from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.http.deps import ContextDep, SessionsDep, StoreDep
from app.http.responses import TwitterJSONResponse
from app.infra import health

router = APIRouter(tags=["health"])


@router.get("/livez", operation_id="health-livez")
async def livez() -> Response:
    """200 `{"status":"ok"}` while the process serves requests; touches neither the
    database nor storage (a liveness probe must not restart a server whose database is
    down)."""
    return TwitterJSONResponse({"status": "ok"})


@router.get("/healthz", operation_id="health-healthz")
async def healthz(sessions: SessionsDep, store: StoreDep) -> Response:
    """200 `{"status":"ok"}` when the database answers at the code's schema revision and
    storage takes a write, else 503."""
    checks = await health.check(sessions, store)
    ok = all(checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return TwitterJSONResponse(body, status_code=200 if ok else 503)


@router.get("/readyz", operation_id="health-readyz")
async def readyz(context: ContextDep) -> Response:
    """200 when uploads can be taken: the database answers, its schema is at the code's
    head, storage takes a write (a probe object written and deleted) and the storage
    volume has the free space `storage.min_free_bytes`/`min_free_percent` ask for; else
    503 with `failing` naming the checks that failed (`database`, `schema`, `storage`,
    `storage_space`)."""
    ready = await health.readiness(context.sessions, context.store, context.settings.storage)
    body = {
        "status": "ok" if ready.ready else "unavailable",
        "checks": ready.checks,
        "failing": ready.failing,
        **ready.details,
    }
    return TwitterJSONResponse(body, status_code=200 if ready.ready else 503)
