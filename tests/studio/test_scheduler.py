"""The scheduler (app/studio/scheduler.py) on SQLite and PostgreSQL: a due post becomes a
real post (v1.1 and v2 over HTTP), once; the loop wakes at the due time, on ``wake()``
and at start for overdue posts; go-live refusals end FAILED for good; database errors
are retried and counted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.core.ids import IdGenerator
from app.infra.db import make_read_sessionmaker, make_sessionmaker
from app.models import Media, Post, ScheduledTweet
from app.studio import scheduler
from tests.conftest import Env, User
from tests.fixtures.entities import photo, post_status
from tests.fixtures.studio import create_studio_account


async def schedule(
    engine: AsyncEngine,
    *,
    account_id: str,
    user_id: int,
    texts: list[str],
    at: datetime,
    media_keys: str = "",
    nullcast: bool = True,
) -> list[int]:
    """SCHEDULED rows as the scheduled_tweets endpoints store them; returns their ids."""
    ids = IdGenerator()
    rows = [
        ScheduledTweet(
            id=ids.next_id(), account_id=account_id, user_id=user_id, created_by=user_id,
            text=text, media_keys=media_keys, nullcast=nullcast, scheduled_at=at,
            name=f"label {text}"[:80],
        )
        for text in texts
    ]  # fmt: skip
    async with make_sessionmaker(engine)() as session:
        session.add_all(rows)
        await session.commit()
    return [row.id for row in rows]


async def rows(engine: AsyncEngine, ids: list[int]) -> list[ScheduledTweet]:
    async with make_sessionmaker(engine)() as session:
        query = select(ScheduledTweet).where(ScheduledTweet.id.in_(ids))
        found = {row.id: row for row in await session.scalars(query)}
    return [found[i] for i in ids]


async def post_count(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)) or 0)


@pytest.fixture
async def account(env: Env, alice: User, engine: AsyncEngine) -> str:
    return await create_studio_account(engine, alice.id)


@contextlib.asynccontextmanager
async def running(env: Env, *, poll: float, max_attempts: int = 5) -> AsyncIterator[None]:
    task = asyncio.create_task(
        scheduler.run_scheduler(
            env.state.sessions,
            make_read_sessionmaker(env.state.engine),
            env.state.ids,
            poll_interval=poll,
            max_attempts=max_attempts,
        )
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def settled(engine: AsyncEngine, row_id: int, *, within: float = 20.0) -> ScheduledTweet:
    """The row once it is no longer SCHEDULED (the test fails after ``within`` seconds)."""
    for _ in range(int(within / 0.05)):
        (row,) = await rows(engine, [row_id])
        if row.status != scheduler.SCHEDULED:
            return row
        await asyncio.sleep(0.05)
    pytest.fail(f"scheduled post {row_id} still SCHEDULED")


class TestPublishing:
    async def test_a_due_post_is_a_real_post_on_v11_and_v2(
        self, env: Env, alice: User, engine: AsyncEngine, account: str, png_file: Path
    ) -> None:
        media_id = await photo(env.client, alice.headers, png_file)
        async with env.state.sessions() as session:
            key = await session.scalar(select(Media.media_key).where(Media.id == int(media_id)))
        assert key is not None
        due = utcnow() - timedelta(seconds=1)
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["going live"], at=due,
            media_keys=key,
        )  # fmt: skip

        settled_count = await scheduler.publish_due(env.state.sessions, env.state.ids)

        assert settled_count == 1
        (row,) = await rows(engine, [row_id])
        assert row.status == "SUCCESS"
        assert row.tweet_id is not None
        assert row.completed_at is not None
        assert row.completed_at >= due
        assert row.failure_reason is None
        shown = await env.client.get(
            "/1.1/statuses/show.json", params={"id": row.tweet_id}, headers=alice.headers
        )
        assert shown.status_code == 200, shown.text
        assert shown.json()["id_str"] == str(row.tweet_id)
        assert shown.json()["text"].startswith("going live")
        assert shown.json()["extended_entities"]["media"][0]["id_str"] == media_id
        v2 = await env.client.get(
            f"/2/tweets/{row.tweet_id}",
            params={"expansions": "attachments.media_keys"},
            headers=alice.headers,
        )
        assert v2.status_code == 200, v2.text
        assert v2.json()["data"]["id"] == str(row.tweet_id)
        assert v2.json()["data"]["attachments"]["media_keys"] == [key]
        assert v2.json()["includes"]["media"][0]["media_key"] == key
        async with env.state.sessions() as session:
            post = await session.get(Post, row.tweet_id)
        assert post is not None
        assert (post.nullcast, post.name, post.author_id) == (True, "label going live", alice.id)
        assert await scheduler.publish_due(env.state.sessions, env.state.ids) == 0

    async def test_a_post_not_yet_due_waits(
        self, env: Env, alice: User, engine: AsyncEngine, account: str
    ) -> None:
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["later"],
            at=utcnow() + timedelta(minutes=5),
        )  # fmt: skip

        assert await scheduler.publish_due(env.state.sessions, env.state.ids) == 0

        (row,) = await rows(engine, [row_id])
        assert (row.status, row.tweet_id, row.completed_at) == ("SCHEDULED", None, None)
        assert await post_count(engine) == 0

    async def test_schedulers_at_once_publish_each_post_once(
        self, env: Env, alice: User, engine: AsyncEngine, account: str
    ) -> None:
        texts = [f"race {i}" for i in range(60)]
        ids = await schedule(engine, account_id=account, user_id=alice.id, texts=texts, at=utcnow())

        counts = await asyncio.gather(
            *(
                scheduler.publish_due(env.state.sessions, IdGenerator(node), batch=7)
                for node in (1, 2, 3)
            )
        )

        assert sum(counts) == 60
        found = await rows(engine, ids)
        assert {row.status for row in found} == {"SUCCESS"}
        assert len({row.tweet_id for row in found}) == 60
        assert await post_count(engine) == 60


class TestTheLoop:
    async def test_it_sleeps_until_the_earliest_due_post(
        self, env: Env, alice: User, engine: AsyncEngine, account: str
    ) -> None:
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["on time"],
            at=utcnow() + timedelta(seconds=0.5),
        )  # fmt: skip

        async with running(env, poll=600):  # only the due time can wake it in time
            row = await settled(engine, row_id)

        assert row.status == "SUCCESS"
        assert row.completed_at is not None
        assert row.completed_at >= row.scheduled_at

    async def test_wake_cuts_the_sleep_short(
        self, env: Env, alice: User, engine: AsyncEngine, account: str
    ) -> None:
        async with running(env, poll=600):
            await asyncio.sleep(0.2)  # the loop found nothing and sleeps for 600 s
            (row_id,) = await schedule(
                engine, account_id=account, user_id=alice.id, texts=["woken"], at=utcnow()
            )
            scheduler.wake()
            row = await settled(engine, row_id)

        assert row.status == "SUCCESS"

    async def test_an_overdue_post_is_published_at_start_with_its_real_time(
        self, env: Env, alice: User, engine: AsyncEngine, account: str
    ) -> None:
        due = utcnow() - timedelta(hours=2)  # fell due while the service was down
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["overdue"], at=due
        )
        started = utcnow()

        async with running(env, poll=600):
            row = await settled(engine, row_id)

        assert row.status == "SUCCESS"
        assert row.completed_at is not None
        assert row.completed_at >= started
        async with env.state.sessions() as session:
            post = await session.get(Post, row.tweet_id)
        assert post is not None
        assert post.created_at == row.completed_at

    async def test_the_in_process_scheduler_of_the_app_publishes(
        self, database_url: str, alice: User, engine: AsyncEngine, account: str, tmp_path: Path
    ) -> None:
        from app.config import Settings, StudioSettings, WorkerSettings
        from app.main import create_app

        settings = Settings(
            _env_file=None, environment="test", database_url=database_url,
            data_dir=tmp_path / "served", worker=WorkerSettings(in_process=True),
            studio=StudioSettings(scheduler_poll_secs=0.1),
        )  # fmt: skip
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["served"], at=utcnow()
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            row = await settled(engine, row_id)

        assert row.status == "SUCCESS"


class TestGoLiveFailures:
    async def test_media_deleted_from_the_library_fails_it_for_good(
        self, env: Env, alice: User, engine: AsyncEngine, account: str, png_file: Path
    ) -> None:
        media_id = int(await photo(env.client, alice.headers, png_file))
        async with env.state.sessions() as session:
            key = await session.scalar(select(Media.media_key).where(Media.id == media_id))
            await session.execute(
                update(Media).where(Media.id == media_id).values(removed_at=utcnow())
            )
            await session.commit()
        assert key is not None
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["with photo"], at=utcnow(),
            media_keys=key,
        )  # fmt: skip

        assert await scheduler.publish_due(env.state.sessions, env.state.ids) == 1
        assert await scheduler.publish_due(env.state.sessions, env.state.ids) == 0

        (row,) = await rows(engine, [row_id])
        assert row.status == "FAILED"
        assert row.failure_reason == f"Media {key} is no longer available"
        assert row.completed_at is not None
        assert (row.tweet_id, row.attempts) == (None, 0)
        assert await post_count(engine) == 0

    async def test_media_gone_and_a_duplicate_text_fail_with_their_reason(
        self, env: Env, alice: User, engine: AsyncEngine, account: str
    ) -> None:
        posted = await post_status(env.client, alice.headers, "said it already", [])
        assert posted.status_code == 200, posted.text
        gone, duplicate = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["gone", "x"], at=utcnow(),
            media_keys="3_1234567890",
        )  # fmt: skip
        async with env.state.sessions() as session:
            await session.execute(
                update(ScheduledTweet)
                .where(ScheduledTweet.id == duplicate)
                .values(text="said it already", media_keys="")
            )
            await session.commit()

        assert await scheduler.publish_due(env.state.sessions, env.state.ids) == 2

        first, second = await rows(engine, [gone, duplicate])
        assert (first.status, first.failure_reason) == (
            "FAILED",
            "Media 3_1234567890 is no longer available",
        )
        assert (second.status, second.failure_reason) == ("FAILED", "Status is a duplicate.")
        assert await post_count(engine) == 1  # the one posted over HTTP


class CollidingIds(IdGenerator):
    """Real ids, except that the first ``times`` are an existing post's: the database
    refuses those posts (a real IntegrityError, not a posting rule)."""

    def __init__(self, taken: int, times: int) -> None:
        super().__init__()
        self.taken, self.times = taken, times

    def next_id(self) -> int:
        if self.times > 0:
            self.times -= 1
            return self.taken
        return super().next_id()


class TestDatabaseErrors:
    @pytest.fixture
    async def taken(self, env: Env, alice: User) -> int:
        posted = await post_status(env.client, alice.headers, "an existing post", [])
        return int(posted.json()["id_str"])

    async def test_an_error_is_retried_and_counted_and_the_others_go_on(
        self, env: Env, alice: User, engine: AsyncEngine, account: str, taken: int
    ) -> None:
        now = utcnow()
        first, = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["unlucky"],
            at=now - timedelta(seconds=1),
        )  # fmt: skip
        (second,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["fine"], at=now
        )
        ids = CollidingIds(taken, times=2)  # the batch's try, then the row's own

        with pytest.raises(IntegrityError):
            await scheduler.publish_due(env.state.sessions, ids)

        unlucky, fine = await rows(engine, [first, second])
        assert (unlucky.status, unlucky.attempts, unlucky.tweet_id) == ("SCHEDULED", 1, None)
        assert (fine.status, fine.attempts) == ("SUCCESS", 0)
        assert await scheduler.publish_due(env.state.sessions, ids) == 1
        (unlucky,) = await rows(engine, [first])
        assert (unlucky.status, unlucky.attempts) == ("SUCCESS", 1)
        assert await post_count(engine) == 3

    async def test_after_max_attempts_it_ends_failed(
        self, env: Env, alice: User, engine: AsyncEngine, account: str, taken: int
    ) -> None:
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["doomed"], at=utcnow()
        )
        ids = CollidingIds(taken, times=1000)

        for _ in range(3):
            with pytest.raises(IntegrityError):
                await scheduler.publish_due(env.state.sessions, ids, max_attempts=3)
        assert await scheduler.publish_due(env.state.sessions, ids, max_attempts=3) == 0

        (row,) = await rows(engine, [row_id])
        assert row.status == "FAILED"
        assert row.attempts == 3
        assert row.failure_reason == "Internal error after 3 attempts (IntegrityError)"
        assert row.completed_at is not None
        assert row.tweet_id is None
        assert await post_count(engine) == 1

    async def test_the_loop_backs_off_and_recovers(
        self, env: Env, alice: User, engine: AsyncEngine, account: str, taken: int
    ) -> None:
        (row_id,) = await schedule(
            engine, account_id=account, user_id=alice.id, texts=["eventually"], at=utcnow()
        )
        env.state.ids = CollidingIds(taken, times=4)  # 2 passes fail (batch + row each)

        async with running(env, poll=0.05):
            row = await settled(engine, row_id)

        assert (row.status, row.attempts) == ("SUCCESS", 2)
