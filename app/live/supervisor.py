"""``mediastudio live``: the ingest server (nginx, app/live/nginx.py) and its monitor
(app/live/monitor.py) in one process; ``mediastudio serve`` starts it as a child."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.clock import utcnow
from app.infra.db import make_engine, make_sessionmaker
from app.live import hooks
from app.live.monitor import LiveMonitor
from app.live.nginx import NginxIngest
from app.models import LiveIngest
from app.storage.live import LiveFiles

__all__ = ["hook_base", "reset_ingests", "run_live"]

log = logging.getLogger(__name__)


def hook_base(settings: Settings) -> str:
    return settings.live.hook_url or f"http://127.0.0.1:{settings.port}"


async def reset_ingests(sessions: async_sessionmaker[AsyncSession]) -> int:
    """The ingest server (re)starts: nobody publishes to it yet. Open ingests close (a
    RUNNING broadcast's reconnect window starts now)."""
    now = utcnow()
    async with sessions() as session:
        ingests = list(
            await session.scalars(select(LiveIngest).where(LiveIngest.ended_at.is_(None)))
        )
        for ingest in ingests:
            await hooks.close_ingest(session, ingest, now=now)
        await session.commit()
    return len(ingests)


async def _watch(ingest: NginxIngest) -> None:
    """Raises once nginx is gone (the supervisor then ends: its parent restarts it)."""
    process = ingest.process
    if process is not None:
        await asyncio.to_thread(process.wait)
    ingest.reap()
    raise RuntimeError(f"nginx exited: {ingest.error_log_tail()}")


async def run_live(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Until ``stop`` is set (then cleanly: the monitor's tick finishes, nginx stops, the
    engine closes); raises RuntimeError when nginx cannot start or dies."""
    stop = stop or asyncio.Event()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a stats request every second
    files = LiveFiles.of(settings.data_dir)
    files.prepare()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    ingest = NginxIngest(settings.live, files, hook_base=hook_base(settings))
    watching: asyncio.Task[None] | None = None
    try:
        await reset_ingests(sessions)
        ingest.start()
        await ingest.wait_ready()
        log.info(
            "live ingest on rtmp://%s:%d/x", settings.live.bind, settings.live.rtmp_port,
            extra={"hooks": hook_base(settings)},
        )  # fmt: skip
        monitor = LiveMonitor(sessions, settings.live, files)
        halt = asyncio.Event()
        ticking = asyncio.create_task(monitor.run_forever(halt))
        watching = asyncio.create_task(_watch(ingest))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({ticking, watching, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            halt.set()
            stopping.cancel()
            await ticking
        if watching.done():
            watching.result()  # nginx died: raises
    finally:
        ingest.stop()
        if watching is not None:  # it ends with nginx
            with contextlib.suppress(RuntimeError, asyncio.CancelledError):
                await watching
        await engine.dispose()
