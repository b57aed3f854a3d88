"""The app factory. Nothing is built at import time; uvicorn runs
``app.main:create_app --factory``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.analytics.rollup import rollup_from_settings
from app.config import Settings, get_settings
from app.context import AppContext
from app.core.ids import IdGenerator
from app.http.auth.oauth1 import OAuth1Authenticator
from app.http.deps import BearerAuthenticator
from app.http.drain import DrainUnreadBody
from app.http.errors import install_error_handlers
from app.http.json_body import document_json_bodies
from app.http.metrics import RequestMetrics
from app.http.openapi import install_openapi
from app.http.public import delivery, docs, health
from app.http.public import live as public_live
from app.http.public import metrics as public_metrics
from app.http.public import posts as public_posts
from app.http.ratelimit import RateLimitHeaders, UploadGate
from app.http.requestlog import install_request_log
from app.http.responses import TwitterJSONResponse
from app.http.startup import QuietStartupRefusal
from app.http.studio.routes import include_studio
from app.http.timeouts import BodyIdleTimeout
from app.http.v2 import dms as v2_dms
from app.http.v2 import live as v2_live
from app.http.v2 import media as v2_media
from app.http.v2 import media_analytics as v2_media_analytics
from app.http.v2 import subtitles as v2_subtitles
from app.http.v2 import tweets as v2_tweets
from app.http.v11 import account as v11_account
from app.http.v11 import dms as v11_dms
from app.http.v11 import media as v11_media
from app.http.v11 import statuses as v11_statuses
from app.http.v11 import subtitles as v11_subtitles
from app.infra import schema
from app.infra.db import make_engines, make_read_sessionmaker, make_sessionmaker
from app.infra.nodes import claim_node
from app.infra.statements import Statements
from app.jobs.runner import Runner
from app.jobs.sweeper import run_sweeper
from app.storage import build_store
from app.studio.scheduler import scheduler_from_settings
from app.uploads.policy import UploadPolicy

__all__ = ["create_app"]


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0] if route.tags else 'default'}-{route.name}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # On SQLite: sessions on a thread-backed engine, the hot statements in the loop.
        engines = make_engines(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        try:  # refuse an unmigrated or newer schema (one line: app/http/startup.py)
            await schema.ensure_current(engines.orm)
        except BaseException:
            await engines.dispose()
            raise
        node = claim_node(settings.node_id, settings.node_slots, settings.data_dir / "run")
        context = AppContext(
            settings=settings,
            engine=engines.orm,
            sessions=make_sessionmaker(engines.orm),
            read_sessions=make_read_sessionmaker(engines.orm),
            statements=Statements(engines.hot),
            store=build_store(settings.media_root),
            policy=UploadPolicy.from_settings(settings),
            ids=IdGenerator(node.node_id),
            authenticators=[
                BearerAuthenticator(ttl=settings.bearer_cache_secs),
                OAuth1Authenticator(settings.oauth),
            ],
        )
        app.state.context = context
        tasks: list[asyncio.Task[None]] = []
        if settings.worker.in_process:
            runner = Runner(context.sessions, context.store, context.policy)
            tasks.append(
                asyncio.create_task(
                    runner.run_forever(poll_interval=settings.worker.poll_interval_secs)
                )
            )
            tasks.append(
                asyncio.create_task(
                    run_sweeper(
                        context.sessions,
                        context.store,
                        interval=settings.worker.sweep_interval_secs,
                        temp_max_age=timedelta(seconds=settings.storage.temp_max_age_secs),
                        temp_interval=settings.storage.temp_sweep_interval_secs,
                    )
                )
            )
            scheduler = scheduler_from_settings(
                context.sessions, context.read_sessions, context.ids, settings.studio
            )
            tasks.append(asyncio.create_task(scheduler))
            rollup = rollup_from_settings(context.sessions, settings.analytics, context.store)
            tasks.append(asyncio.create_task(rollup))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if context.playback is not None:
                await context.playback.writer.close()
            await context.statements.close()
            await engines.dispose()
            node.release()

    app = FastAPI(
        title="Media Studio API",
        version="0.1.0",
        description="Twitter-compatible media upload (v1.1 chunked protocol) and studio.",
        lifespan=lifespan,
        default_response_class=TwitterJSONResponse,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served from local assets (app/http/public/docs.py)
        redoc_url=None,
    )
    install_error_handlers(app)
    install_request_log(app)  # outermost: request ids and access lines (app/http/requestlog.py)
    install_openapi(app)
    document_json_bodies(app)
    uploads = UploadGate(
        per_user=settings.http.uploads_per_user,
        max_bytes=settings.http.upload_bytes_in_flight,
        default_bytes=settings.limits.segment_bytes,
        wait=settings.http.upload_wait_secs,
    )
    # Innermost: its drain reads through the body idle timeout.
    app.add_middleware(DrainUnreadBody, max_bytes=settings.storage.drain_max_bytes)
    app.add_middleware(RateLimitHeaders, uploads=uploads)
    app.add_middleware(
        BodyIdleTimeout,
        timeout=settings.http.body_idle_timeout_secs,
        min_rate=settings.http.body_min_rate,
    )
    app.add_middleware(QuietStartupRefusal)
    if settings.metrics.enabled:
        app.add_middleware(RequestMetrics)  # outside the rest: counts what they answer
    # The upload protocol is the hot path: its routes go straight into the app's route
    # table. An included router is wrapped (FastAPI 0.165's _IncludedRouter) and matches
    # each request twice, ~5% of an INIT or a STATUS (docs/perf/route-table.md).
    app.router.routes.extend(v11_media.router.routes)
    app.include_router(v2_media_analytics.router)
    app.include_router(v2_media.router)
    app.include_router(health.router)
    if settings.metrics.enabled:
        app.include_router(public_metrics.router)
    app.include_router(delivery.router)
    app.include_router(v11_statuses.router)
    app.include_router(v11_account.router)
    app.include_router(v2_tweets.router)
    app.include_router(v11_dms.router)
    app.include_router(v2_dms.router)
    app.include_router(v11_subtitles.router)
    app.include_router(v2_subtitles.router)
    app.include_router(v2_live.router)
    app.include_router(public_live.router)
    app.include_router(public_live.hooks_router)
    include_studio(app)
    if settings.docs_enabled:
        app.include_router(docs.router)
    # Last: its "/{screen_name}/status/{id}" pages must not shadow any other route.
    app.include_router(public_posts.router)
    return app
