"""The scenarios through HTTP into the rollup tables; the rollup's own guarantees."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.buckets import HOUR_S
from app.analytics.metrics import COUNTERS, Counters
from app.analytics.rollup import prune_once, roll_up_once
from app.infra.db import make_sessionmaker
from app.models.analytics import MediaHourlyStats, MediaTotals, PlaybackEvent, PlaybackSession
from tests.analytics import scenarios
from tests.analytics.conftest import Analytics


def base_ms() -> int:
    """A whole UTC hour three hours ago."""
    return (int(time.time()) // HOUR_S - 3) * HOUR_S * 1000


async def replay(analytics: Analytics, events: list[dict[str, object]], size: int = 100) -> None:
    for start in range(0, len(events), size):
        sent = await analytics.send(events[start : start + size])
        assert sent.status_code == 202, sent.text
        assert sent.json()["data"]["rejected"] == [], sent.text


async def hourly(engine: AsyncEngine, media_id: int) -> dict[int, Counters]:
    async with make_sessionmaker(engine)() as session:
        rows = (
            await session.execute(
                select(MediaHourlyStats).where(MediaHourlyStats.media_id == media_id)
            )
        ).scalars()
        return {
            row.hour: Counters(**{name: getattr(row, name) for name in COUNTERS}) for row in rows
        }


async def test_every_scenario_counts_as_computed_by_hand(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    base = base_ms()
    events = scenarios.events_of(scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base)
    await replay(analytics, events)
    assert await analytics.roll_up() == len(events) - scenarios.DUPLICATES  # dropped at ingest

    expected = {
        base // 1000 + hour * HOUR_S: counters
        for hour, counters in scenarios.expected_hours(scenarios.SCENARIOS).items()
    }
    assert await hourly(engine, analytics.video_id) == expected
    async with make_sessionmaker(engine)() as session:
        total = await session.get(MediaTotals, analytics.video_id)
    assert total is not None
    assert Counters(**{n: getattr(total, n) for n in COUNTERS}) == scenarios.expected_total(
        scenarios.SCENARIOS
    )


async def test_each_scenario_alone(analytics: Analytics, engine: AsyncEngine) -> None:
    """Scenario by scenario, rolled up in between: the increments add up to the same."""
    base = base_ms()
    running = Counters()
    for scenario in scenarios.SCENARIOS:
        events = scenarios.events_of([scenario], media_key=analytics.video_key, base_ms=base)
        await replay(analytics, events, size=3)
        await analytics.roll_up()
        running.add(scenarios.expected_total([scenario]))
        got = Counters.total((await hourly(engine, analytics.video_id)).values())
        assert got == running, scenario.name


async def test_small_batches_count_the_same_as_one(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    base = base_ms()
    events = scenarios.events_of(scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base)
    await replay(analytics, events)
    settings = analytics.env.state.settings.analytics.model_copy(update={"rollup_batch": 2})
    batches = 0
    while await roll_up_once(analytics.env.state.sessions, settings):
        batches += 1
    assert batches > 10
    assert Counters.total((await hourly(engine, analytics.video_id)).values()) == (
        scenarios.expected_total(scenarios.SCENARIOS)
    )


async def test_concurrent_rollups_count_each_event_once(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    base = base_ms()
    events = scenarios.events_of(scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base)
    await replay(analytics, events)
    settings = analytics.env.state.settings.analytics.model_copy(update={"rollup_batch": 3})
    sessions = make_sessionmaker(engine)

    async def worker() -> int:
        total = 0
        for _ in range(200):
            total += await roll_up_once(sessions, settings)
            await asyncio.sleep(0)
        return total

    counted = await asyncio.gather(worker(), worker(), worker())
    assert sum(counted) == len(events) - scenarios.DUPLICATES
    assert Counters.total((await hourly(engine, analytics.video_id)).values()) == (
        scenarios.expected_total(scenarios.SCENARIOS)
    )


async def test_a_session_counts_only_for_its_first_media(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    """Raw rows written directly (a second posted media is not needed for the rule)."""
    now = int(time.time() * 1000)
    async with make_sessionmaker(engine)() as session, session.begin():
        for seq, media_id in ((0, analytics.video_id), (1, analytics.video_id + 1)):
            session.add(
                PlaybackEvent(
                    media_id=media_id,
                    session_id="mixed-session",
                    seq=seq,
                    type="start",
                    ts_ms=now,
                    received_ms=now,
                    position_ms=0,
                )
            )
    assert await analytics.roll_up() == 2
    got = await hourly(engine, analytics.video_id)
    assert Counters.total(got.values()) == Counters(starts=1)
    assert await hourly(engine, analytics.video_id + 1) == {}


async def test_pruning_deletes_only_old_rolled_events(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    base = base_ms()
    events = scenarios.events_of(
        scenarios.SCENARIOS[:2], media_key=analytics.video_key, base_ms=base
    )
    await replay(analytics, events)
    await analytics.roll_up()
    fresh = analytics.event(0, "start", ts_ms=int(time.time() * 1000), session_id="not-rolled")
    await replay(analytics, [fresh])
    settings = analytics.env.state.settings.analytics
    later = int(time.time() * 1000) + (settings.raw_retention_hours + 1) * 3_600_000
    sessions = make_sessionmaker(engine)
    assert await prune_once(sessions, settings, now_ms=int(time.time() * 1000)) == 0
    assert await prune_once(sessions, settings, now_ms=later) > 0
    async with sessions() as session:
        left = (await session.execute(select(PlaybackEvent.session_id))).scalars().all()
        idle = await session.scalar(select(func.count()).select_from(PlaybackSession))
    assert left == ["not-rolled"]  # pending: kept whatever its age
    assert idle == 0
    # The numbers stay.
    assert Counters.total((await hourly(engine, analytics.video_id)).values()) == (
        scenarios.expected_total(scenarios.SCENARIOS[:2])
    )
