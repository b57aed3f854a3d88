"""The app ``mediastudio serve`` runs: ``create_app`` plus the process tuning of
``app/infra/tuning.py``, applied in each server process, and the uvicorn options every
server of the service takes (``server_options``: the header timeout's protocol class,
keep-alive, connection limit).

``uvicorn app.serve:create_served_app --factory`` gets the same app; for the header
timeout, add ``--http app.infra.http_protocol:TimedHttpToolsProtocol`` (uvicorn chooses
the protocol before it calls the factory). The body idle timeout is in every app
(``create_app``). This module stays apart from ``app/cli.py`` so the served process does
not import the CLI's libraries (typer, click: ~2 MiB and ~3,600 objects more on its heap).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.config import Settings, get_settings
from app.infra.metrics_process import mark_dead
from app.infra.tuning import tune_gc, tune_malloc
from app.logging import configure_logging
from app.main import create_app

__all__ = ["PROTOCOL", "create_served_app", "server_options"]

# By name, so that uvicorn's worker processes import it (a class is not always picklable);
# it reads MEDIASTUDIO_HTTP__* there, as create_served_app reads the settings.
PROTOCOL = "app.infra.http_protocol:TimedHttpToolsProtocol"


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config`` that every server of the
    service takes (``mediastudio serve``, tests, bench)."""
    return {
        "http": PROTOCOL,
        "timeout_keep_alive": settings.http.keep_alive_secs,
        "limit_concurrency": settings.http.max_connections,
        # X-Forwarded-* are honoured by the app, from settings.oauth.trusted_proxies only.
        "proxy_headers": False,
    }


def create_served_app(settings: Settings | None = None) -> object:
    """``create_app`` with glibc's malloc thresholds set before start-up and the start-up
    heap frozen out of the cyclic GC once start-up is done (``MEDIASTUDIO_TUNE_MALLOC``,
    ``MEDIASTUDIO_TUNE_GC``; docs/perf/malloc-thresholds.md, docs/perf/gc-freeze.md).

    Both change the whole process, so ``create_app`` itself never applies them: tests,
    embedders and ``uvicorn app.main:create_app --factory`` keep the interpreter's
    defaults.
    """
    settings = settings or get_settings()
    # Here, not in create_app: logging is the process's (app/logging.py), like the tuning.
    configure_logging(settings.log_format, settings.log_level)
    served = create_app(settings)
    start_up = served.router.lifespan_context

    @asynccontextmanager
    async def lifespan(asgi_app: Any) -> AsyncIterator[Any]:
        if settings.tune_malloc:
            tune_malloc()
        try:
            async with start_up(asgi_app) as state:
                if settings.tune_gc:
                    tune_gc()
                yield state
        finally:
            mark_dead()  # multiprocess mode: this process's live gauges leave /metrics

    served.router.lifespan_context = lifespan
    return served
