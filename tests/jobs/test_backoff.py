"""Background loops back off on repeated errors and log a summary, not a traceback per
poll (app/jobs/backoff.py). The loops run against a real database without tables, with
the sleep and the clock injected, so many failures take no time; migrating the database
mid-run shows the recovery."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from app.infra.db import make_engine, make_sessionmaker
from app.jobs.backoff import LoopHealth, delay
from app.jobs.runner import Runner
from app.jobs.sweeper import run_sweeper
from app.migrate import upgrade_to_head
from app.storage import build_store
from app.uploads.policy import UploadPolicy
from tests.conftest import make_settings
from tests.fixtures.scratch_db import blank_database_url

__all__ = ["blank_database_url"]

FAILURES = 40


class Stop(BaseException):
    """Ends a loop from its injected sleep (``except Exception`` does not catch it)."""


class FakeTime:
    """A clock that moves only when the loop sleeps; migrates the database after
    ``FAILURES`` failing sleeps and stops the loop at its first normal sleep after."""

    def __init__(self, database_url: str, normal: float) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.database_url, self.normal = database_url, normal
        self.migrated = False

    def clock(self) -> float:
        return self.now

    async def sleep(self, secs: float) -> None:
        self.sleeps.append(secs)
        self.now += secs
        if self.migrated:
            raise Stop
        if len(self.sleeps) == FAILURES:
            await asyncio.to_thread(upgrade_to_head, self.database_url)
            self.migrated = True


def test_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    steps = [delay(n, base=1.0) for n in range(10)]

    assert steps == [1.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert delay(3, base=120.0, cap=120.0) == 120.0  # never less than the base
    assert delay(5, base=0.0) > 0  # a zero poll interval still waits: no busy loop
    assert delay(10_000, base=1.0) == 60.0


def test_many_failures_make_a_few_lines_and_one_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    health = LoopHealth(
        "job runner", base=1.0, logger=logging.getLogger("test.loop"), clock=lambda: now[0]
    )
    caplog.set_level(logging.INFO, logger="test.loop")

    for _ in range(500):  # 500 errors: about 8 hours at the cap
        now[0] += health.failed(RuntimeError("no such table: jobs"))
    health.succeeded()

    records = [r for r in caplog.records if r.name == "test.loop"]
    # the 7 steps up to the cap, then one line per 10 minutes (about 50), one recovery
    assert 50 < len(records) < 70
    assert [r.exc_info is not None for r in records].count(True) == 1
    assert (
        records[0].getMessage()
        == "job runner failing: RuntimeError: no such table: jobs; next try in 1.0 s"
    )
    assert records[2].getMessage() == (
        "job runner failing for 3.0 s (3 errors): RuntimeError: no such table: jobs; "
        "next try in 4.0 s"
    )
    assert records[-1].getMessage().startswith("job runner recovered after ")
    assert records[-1].getMessage().endswith("(500 errors)")


def _loop_records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


async def test_the_runner_backs_off_against_a_database_without_tables_and_recovers(
    blank_database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(blank_database_url, tmp_path / "data")
    engine = make_engine(blank_database_url)
    runner = Runner(
        make_sessionmaker(engine),
        build_store(tmp_path / "data" / "media"),
        UploadPolicy.from_settings(settings),
    )
    fake = FakeTime(blank_database_url, normal=0.5)
    caplog.set_level(logging.INFO, logger="app.jobs.runner")
    try:
        with pytest.raises(Stop):
            await runner.run_forever(poll_interval=0.5, sleep=fake.sleep, monotonic=fake.clock)
    finally:
        await engine.dispose()

    assert len(fake.sleeps) == FAILURES + 1
    assert fake.sleeps[:4] == [0.5, 1.0, 2.0, 4.0]  # backing off
    assert max(fake.sleeps) == 60.0
    assert fake.sleeps[-1] == 0.5  # working again: the normal poll interval
    records = _loop_records(caplog, "app.jobs.runner")
    assert len(records) < 15  # not one per failure
    assert [r.exc_info is not None for r in records].count(True) == 1
    assert records[0].getMessage().startswith("job runner failing: ")
    assert "jobs" in records[0].getMessage()  # names the missing table
    assert "errors): " in records[-2].getMessage()  # the last summary line before it
    assert records[-2].getMessage().endswith("next try in 60 s")
    assert records[-1].getMessage().startswith("job runner recovered after ")
    assert records[-1].getMessage().endswith(f"({FAILURES} errors)")


async def test_the_sweeper_backs_off_against_a_database_without_tables_and_recovers(
    blank_database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(blank_database_url)
    fake = FakeTime(blank_database_url, normal=5.0)
    caplog.set_level(logging.INFO, logger="app.jobs.sweeper")
    try:
        with pytest.raises(Stop):
            await run_sweeper(
                make_sessionmaker(engine),
                build_store(tmp_path / "data" / "media"),
                interval=5.0,
                temp_max_age=timedelta(hours=1),
                temp_interval=3600.0,
                sleep=fake.sleep,
                monotonic=fake.clock,
            )
    finally:
        await engine.dispose()

    assert fake.sleeps[:5] == [5.0, 10.0, 20.0, 40.0, 60.0]
    assert fake.sleeps[-1] == 5.0
    records = [r for r in _loop_records(caplog, "app.jobs.sweeper") if "sweeper" in r.getMessage()]
    assert len(records) < 12
    assert [r.exc_info is not None for r in records].count(True) == 1
    assert records[0].getMessage().startswith("sweeper failing: ")
    assert records[-1].getMessage().startswith("sweeper recovered after ")
