"""Reference apps the service is compared with, served by the same uvicorn settings.

``sink``: a minimal raw ASGI app. ``POST`` writes the request body with ``os.write`` to a
file under ``BENCH_SINK_DIR`` (the same disk as the service's data dir) and answers 204;
``GET`` answers a tiny JSON body (the raw ASGI ping). This is the upload ceiling.

``bare``: a bare FastAPI app with one ``async def`` GET and one urlencoded ``async def``
POST and no auth or database: the small-request ceiling for INIT and STATUS.

Both set glibc's malloc thresholds at start-up exactly as the service does
(``app.infra.tuning.tune_malloc``, docs/perf/malloc-thresholds.md), and ``bare`` also
freezes its start-up objects out of the cyclic GC (``app.infra.tuning.tune_gc``,
docs/perf/gc-freeze.md): the ceiling must run with what the service gets for free.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from app.infra.tuning import tune_gc, tune_malloc

_SINK_DIR = os.environ.get("BENCH_SINK_DIR", ".")
_counter = itertools.count()
_PING = b'{"ok":true}'

Scope = dict[str, Any]


async def sink(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                tune_malloc()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        # Reuse a few names so repeated runs do not fill the disk.
        path = os.path.join(_SINK_DIR, f"body-{os.getpid()}-{next(_counter) % 64}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            more = True
            while more:
                message = await receive()
                body = message.get("body", b"")
                if body:
                    os.write(fd, body)
                more = message.get("more_body", False)
        finally:
            os.close(fd)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_PING))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _PING})


@asynccontextmanager
async def _bare_lifespan(_: FastAPI) -> AsyncIterator[None]:
    tune_malloc()
    tune_gc()
    yield


bare = FastAPI(lifespan=_bare_lifespan)


@bare.get("/1.1/media/upload.json")
async def bare_status(command: str, media_id: int) -> JSONResponse:
    return JSONResponse(
        {"media_id": media_id, "media_id_string": str(media_id), "command": command},
        status_code=200,
    )


@bare.post("/1.1/media/upload.json")
async def bare_init(request: Request) -> JSONResponse:
    params = dict(parse_qsl((await request.body()).decode()))
    return JSONResponse(
        {"media_id": 1, "media_id_string": "1", "expires_after_secs": 86400, **params},
        status_code=202,
    )
