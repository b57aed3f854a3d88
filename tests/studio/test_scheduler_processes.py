"""Exactly once across processes: 200 posts due in the same second, two real
``mediastudio worker`` processes, one SIGKILLed while they publish and then restarted,
on SQLite and on PostgreSQL (a database of the test's own each): 200 posts exist, each
once, and every scheduled row is SUCCESS with a distinct ``tweet_id``."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from app.core.clock import utcnow
from app.infra.db import make_engine, make_read_sessionmaker, make_sessionmaker
from app.migrate import upgrade_to_head
from app.models import Post, ScheduledTweet
from tests.cli.conftest import BIN
from tests.conftest import create_user
from tests.fixtures.scratch_db import blank_database_url
from tests.fixtures.studio import create_studio_account
from tests.studio.test_scheduler import schedule

__all__ = ["blank_database_url"]

pytestmark = pytest.mark.slow

POSTS = 200
KILL_AFTER = 50


async def _count(engine: AsyncEngine, status: str) -> int:
    async with make_read_sessionmaker(engine)() as session:  # never waits for the writers
        query = select(func.count()).where(ScheduledTweet.status == status)
        return int(await session.scalar(query) or 0)


class Workers:
    """``mediastudio worker`` processes on one database, each logging to its own file."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "MEDIASTUDIO_DATABASE_URL": database_url,
            "MEDIASTUDIO_DATA_DIR": str(folder / "data"),
            "MEDIASTUDIO_ENV_FILE": "",
            "MEDIASTUDIO_LOG_FORMAT": "text",
            # Small transactions, so that many commit while the kill comes.
            "MEDIASTUDIO_STUDIO__SCHEDULER_BATCH": "1",
            "MEDIASTUDIO_STUDIO__SCHEDULER_POLL_SECS": "0.1",
        }
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, node: int) -> asyncio.subprocess.Process:
        with (self.folder / f"worker-{node}.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                str(BIN / "mediastudio"), "worker", "--no-sweep",
                env={**self.env, "MEDIASTUDIO_NODE_ID": str(node)}, stdout=log, stderr=log,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def log(self, node: int) -> str:
        return (self.folder / f"worker-{node}.log").read_text()

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs:
            await asyncio.wait_for(proc.wait(), 20)


async def test_200_due_posts_two_workers_one_killed_each_published_once(
    blank_database_url: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(upgrade_to_head, blank_database_url)
    engine = make_engine(blank_database_url, poolclass=NullPool)
    workers = Workers(blank_database_url, tmp_path)
    try:
        user = await create_user(engine, "scheduler")
        account = await create_studio_account(engine, user.id)
        # All due in one second, a few seconds ahead: both workers are up by then.
        due = (utcnow() + timedelta(seconds=8)).replace(microsecond=0)
        texts = [f"exactly once #{i}" for i in range(POSTS)]
        await schedule(engine, account_id=account, user_id=user.id, texts=texts, at=due)
        first, second = await workers.start(1), await workers.start(2)

        for _ in range(6000):  # 120 s
            published_at_kill = await _count(engine, "SUCCESS")
            if published_at_kill >= KILL_AFTER:
                break
            await asyncio.sleep(0.02)
        # The victim is the busier publisher (SQLite's lock may favour one of the two).
        busier = max((1, 2), key=lambda node: workers.log(node).count("published as"))
        victim = first if busier == 1 else second
        published_at_kill = await _count(engine, "SUCCESS")
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        assert KILL_AFTER <= published_at_kill < POSTS, "the kill must land mid-publishing"
        assert "published as" in workers.log(busier), "the killed worker had been publishing"
        await workers.start(3)  # the restarted worker
        for _ in range(6000):
            if await _count(engine, "SCHEDULED") == 0:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail(workers.log(2)[-3000:] + workers.log(3)[-3000:])
        await workers.stop()

        async with make_sessionmaker(engine)() as session:
            per_text = dict(
                (await session.execute(select(Post.text, func.count()).group_by(Post.text))).all()
            )
            scheduled = (await session.scalars(select(ScheduledTweet))).all()
            post_ids = set(await session.scalars(select(Post.id)))
        assert per_text == dict.fromkeys(texts, 1)  # 200 posts, each once
        assert {row.status for row in scheduled} == {"SUCCESS"}
        assert {row.tweet_id for row in scheduled} == post_ids
        assert len(post_ids) == POSTS
        assert all(row.completed_at is not None for row in scheduled)
        assert all(row.completed_at >= row.scheduled_at for row in scheduled if row.completed_at)
    finally:
        await workers.stop()
        await engine.dispose()
