"""The ``twitter-ads`` 11.0.0 SDK reads the analytics (§11, §13.7) from a real uvicorn
over a real socket: synchronous stats (``Analytics.all_stats`` with
``entity=ORGANIC_TWEET``, ``MediaCreative.all_stats``; TOTAL, HOUR, and DAY, which the SDK
sends as bare dates) and an asynchronous job queued, polled and downloaded through the
SDK. The numbers are the hand-computed scenarios of tests/analytics/scenarios.py, sent
as a player sends them and rolled up by the server's own worker. SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from twitter_ads.analytics import Analytics
from twitter_ads.campaign import Tweet
from twitter_ads.creative import MediaCreative, MediaLibrary
from twitter_ads.enum import ENTITY, GRANULARITY, METRIC_GROUP

from app.analytics.buckets import HOUR_S
from tests.analytics import scenarios
from tests.compat.ads import Raw, client_of, pointed_at, upload_chunked
from tests.compat.conftest import LiveServer
from tests.conftest import _truncate
from tests.fixtures import media

pytestmark = [pytest.mark.slow]

EVENTS = "/studio/v1/playback/events"


def wait_for(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def send_scenarios(base_url: str, media_key: str, base_ms: int) -> None:
    """Every scenario's events, as a player sends them (no credentials)."""
    events = scenarios.events_of(scenarios.SCENARIOS, media_key=media_key, base_ms=base_ms)
    with httpx.Client(base_url=base_url) as http:
        for start in range(0, len(events), 100):
            sent = http.post(EVENTS, json={"events": events[start : start + 100]})
            assert sent.status_code == 202, sent.text


@pytest.fixture
async def live(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, Any, str, str, int]]:
    served = LiveServer(tmp_path / "data", database_url)
    served.start()
    try:
        with pointed_at(served.base):
            alice = served.user("alice")
            raw = Raw(served.base, alice)
            made = raw.data("POST", "/studio/v1/accounts", json={"name": "Stats"})
            client = client_of(alice)
            account = client.accounts(made["id"])
            video = media.make_clip(tmp_path / "clip.mp4", size="160x120", rate=10, seconds=20)
            body = upload_chunked(
                client, served.base, video, media_type="video/mp4", category="tweet_video"
            )
            key = body["media_key"]
            item = MediaLibrary(account)
            item.media_key = key
            item.add()
            posted = Tweet.create(
                account, text="watch", as_user_id=str(alice.user_id), media_keys=[key]
            )
            post_id = str(posted["id_str"] if "id_str" in posted else posted["id"])
            base = (int(time.time()) // HOUR_S - 3) * HOUR_S * 1000
            send_scenarios(served.base, key, base)
            yield served, account, post_id, key, base
            raw.close()
    finally:
        served.stop()
        await _truncate(engine)


def video_metrics(data: list[dict[str, Any]]) -> dict[str, Any]:
    [item] = data
    [entry] = item["id_data"]
    return dict(entry["metrics"])


def test_synchronous_and_asynchronous_stats_through_the_sdk(live: Any) -> None:
    _served, account, post_id, key, base = live
    expected = scenarios.expected_total(scenarios.SCENARIOS)
    start = datetime.fromtimestamp(base / 1000 - 3 * HOUR_S, UTC).replace(tzinfo=None)
    end = datetime.fromtimestamp(base / 1000 + 2 * HOUR_S, UTC).replace(tzinfo=None)

    def total() -> dict[str, Any] | None:
        data = Analytics.all_stats(
            account, [post_id], [METRIC_GROUP.VIDEO], entity=ENTITY.ORGANIC_TWEET,
            granularity=GRANULARITY.TOTAL, start_time=start, end_time=end,
        )  # fmt: skip
        metrics = video_metrics(data)
        counted = metrics["video_content_starts"] == [expected.starts]
        return metrics if counted else None

    metrics = wait_for(total)  # the server's worker rolls the events up
    assert metrics["video_total_views"] == [expected.total_views]
    assert metrics["video_views_25"] == [expected.views_25]
    assert metrics["video_views_100"] == [expected.views_100]
    assert metrics["video_6s_views"] == [expected.views_6s]
    assert metrics["video_15s_views"] == [expected.views_15s]
    assert metrics["video_cta_clicks"] == [expected.cta_url_clicks + expected.cta_watch_clicks]

    hourly = video_metrics(
        MediaCreative.all_stats(
            account, [key], [METRIC_GROUP.VIDEO], granularity=GRANULARITY.HOUR,
            start_time=start, end_time=end,
        )
    )  # fmt: skip
    hours = scenarios.expected_hours(scenarios.SCENARIOS)
    assert hourly["video_content_starts"] == [
        hours[h].starts if h in hours else 0 for h in range(-3, 2)
    ]

    # DAY: the SDK sends dates; the account is UTC, so they are UTC midnights.
    day = datetime.fromtimestamp(base / 1000, UTC).replace(tzinfo=None, hour=0)
    daily = Analytics.all_stats(
        account, [post_id], [METRIC_GROUP.VIDEO], entity=ENTITY.ORGANIC_TWEET,
        granularity=GRANULARITY.DAY, start_time=day - timedelta(days=1),
        end_time=day + timedelta(days=1),
    )  # fmt: skip
    assert sum(video_metrics(daily)["video_content_starts"]) == expected.starts

    job = Analytics.queue_async_stats_job(
        account, [post_id], [METRIC_GROUP.VIDEO], entity=ENTITY.ORGANIC_TWEET,
        granularity=GRANULARITY.TOTAL, start_time=start, end_time=end,
    )  # fmt: skip
    assert job.status == "PROCESSING"
    assert job.url is None
    assert job.concurrent_job_limit == "100"
    assert job.concurrent_job_limit_remaining == "99"

    def finished() -> Any:
        [result] = list(Analytics.async_stats_job_result(account, job_ids=[job.id]))
        return result if result.status == "SUCCESS" else None

    done = wait_for(finished)
    assert done.url.endswith(".json.gz")
    data = Analytics.async_stats_job_data(account, url=done.url)
    assert video_metrics(data["data"]) == metrics
    assert data["request"]["params"]["entity"] == "ORGANIC_TWEET"
