"""The app factory. Nothing is built at import time; uvicorn runs
``app.main:create_app --factory``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.auth.oauth1 import OAuth1Authenticator
from app.config import Settings, get_settings
from app.db import make_engine, make_read_sessionmaker, make_sessionmaker
from app.deps import BearerAuthenticator
from app.routers import (
    delivery,
    dms,
    health,
    subtitles,
    v2_media,
    v2_tweets,
    v11_account,
    v11_media,
    v11_statuses,
)
from app.routers.errors import install_error_handlers
from app.routers.ratelimits import RateLimitHeaders
from app.schemas.common import TwitterJSONResponse
from app.services.policy import UploadPolicy
from app.statements import Statements
from app.tuning import tune_gc, tune_malloc
from app.upload.ids import IdGenerator
from app.upload.storage import build_store
from app.workers.runner import Runner
from app.workers.sweeper import run_sweeper

__all__ = ["create_app"]


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0] if route.tags else 'default'}-{route.name}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.tune_malloc:
            tune_malloc()
        engine = make_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        app.state.settings = settings
        app.state.sessions = make_sessionmaker(engine)
        app.state.read_sessions = make_read_sessionmaker(engine)
        app.state.statements = Statements(engine)
        app.state.store = build_store(settings.media_root)
        app.state.policy = UploadPolicy.from_settings(settings)
        app.state.ids = IdGenerator(settings.node_id)
        app.state.authenticators = [BearerAuthenticator(), OAuth1Authenticator(settings.oauth)]
        tasks: list[asyncio.Task[None]] = []
        if settings.worker.in_process:
            runner = Runner(app.state.sessions, app.state.store, app.state.policy)
            tasks.append(
                asyncio.create_task(
                    runner.run_forever(poll_interval=settings.worker.poll_interval_secs)
                )
            )
            tasks.append(
                asyncio.create_task(
                    run_sweeper(
                        app.state.sessions,
                        app.state.store,
                        interval=settings.worker.sweep_interval_secs,
                    )
                )
            )
        if settings.tune_gc:
            tune_gc()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.statements.close()
            await engine.dispose()

    app = FastAPI(
        title="Media Studio API",
        version="0.1.0",
        description="Twitter-compatible media upload (v1.1 chunked protocol) and studio.",
        lifespan=lifespan,
        default_response_class=TwitterJSONResponse,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    app.add_middleware(RateLimitHeaders)
    # The upload protocol is the hot path: its routes go straight into the app's route
    # table. An included router is wrapped (FastAPI 0.165's _IncludedRouter) and matches
    # each request twice, ~5% of an INIT or a STATUS (issue #6).
    app.router.routes.extend(v11_media.router.routes)
    app.include_router(v2_media.router)
    app.include_router(health.router)
    app.include_router(delivery.router)
    app.include_router(v11_statuses.router)
    app.include_router(v11_account.router)
    app.include_router(v2_tweets.router)
    app.include_router(dms.router)
    app.include_router(subtitles.router)
    return app
