"""GET /11/stats/accounts/:account_id (§11.1): the numbers of the scenarios, every rule's
error, local days, roles."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.buckets import HOUR_S
from app.infra.db import make_sessionmaker
from app.models.analytics import MediaHourlyStats
from tests.analytics import scenarios
from tests.analytics.conftest import Analytics
from tests.analytics.test_rollup import base_ms, replay
from tests.conftest import User
from tests.fixtures.studio import create_studio_account, grant
from tests.studio.conftest import ads_error

VIDEO = {
    "video_total_views": "total_views",
    "video_views_25": "views_25",
    "video_views_50": "views_50",
    "video_views_75": "views_75",
    "video_views_100": "views_100",
    "video_content_starts": "starts",
    "video_3s100pct_views": "views_3s",
    "video_6s_views": "views_6s",
    "video_15s_views": "views_15s",
}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def stats(
    analytics: Analytics,
    user: User | None = None,
    *,
    account_id: str | None = None,
    version: str = "11",
    **params: Any,
) -> Response:
    query = {
        "entity": "ORGANIC_TWEET",
        "entity_ids": analytics.post_id,
        "granularity": "TOTAL",
        "metric_groups": "VIDEO",
        "placement": "ALL_ON_TWITTER",
        **params,
    }
    who = user if user is not None else analytics.studio.admin
    return await analytics.env.client.get(
        f"/{version}/stats/accounts/{account_id or analytics.studio.account_id}",
        params={k: v for k, v in query.items() if v is not None},
        headers=who.headers,
    )


async def replayed(analytics: Analytics) -> int:
    base = base_ms()
    events = scenarios.events_of(scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base)
    await replay(analytics, events)
    await analytics.roll_up()
    return base


async def test_the_scenarios_per_post_and_per_media_creative(analytics: Analytics) -> None:
    base = await replayed(analytics)
    expected = scenarios.expected_total(scenarios.SCENARIOS)
    start, end = iso(base - 3 * 3_600_000), iso(base + 2 * 3_600_000)
    for entity, entity_id in (
        ("ORGANIC_TWEET", analytics.post_id),
        ("MEDIA_CREATIVE", analytics.video_key),
    ):
        response = await stats(
            analytics, entity=entity, entity_ids=entity_id, start_time=start, end_time=end
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data_type"] == "stats"
        assert body["time_series_length"] == 1
        [item] = body["data"]
        assert item["id"] == entity_id
        [data] = item["id_data"]
        assert data["segment"] is None
        metrics = data["metrics"]
        for wire, counter in VIDEO.items():
            assert metrics[wire] == [getattr(expected, counter)], wire
        assert metrics["video_cta_clicks"] == [expected.cta_url_clicks + expected.cta_watch_clicks]
        assert body["request"]["params"]["entity_ids"] == [entity_id]
        assert body["request"]["params"]["start_time"] == start
    assert response.headers["x-current-api-version"] == "12"


async def test_hourly_series_with_nulls_for_metrics_without_data(analytics: Analytics) -> None:
    base = await replayed(analytics)
    response = await stats(
        analytics,
        granularity="HOUR",
        metric_groups="VIDEO,ENGAGEMENT",
        start_time=iso(base - 3 * 3_600_000),
        end_time=iso(base + 2 * 3_600_000),
        version="12",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["time_series_length"] == 5
    metrics = body["data"][0]["id_data"][0]["metrics"]
    hours = scenarios.expected_hours(scenarios.SCENARIOS)
    expected_starts = [hours[h].starts if h in hours else 0 for h in range(-3, 2)]
    assert metrics["video_content_starts"] == expected_starts
    assert metrics["video_total_views"] == [
        hours[h].total_views if h in hours else 0 for h in range(-3, 2)
    ]
    assert metrics["impressions"] is None  # nothing delivered
    assert metrics["likes"] is None  # not measured


async def test_seven_days_of_hours_is_168_buckets(analytics: Analytics) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=7)
    response = await stats(
        analytics,
        granularity="HOUR",
        start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_time=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["time_series_length"] == 168
    # No data at all: every metric null.
    metrics = response.json()["data"][0]["id_data"][0]["metrics"]
    assert set(metrics.values()) == {None}


async def test_ids_of_other_accounts_and_unknown_ids_are_left_out(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    await replayed(analytics)
    other = await create_studio_account(engine, analytics.studio.outsider.id, name="B")
    response = await stats(
        analytics,
        entity_ids=f"{analytics.post_id},123,abc",
        start_time="2026-01-01T00:00:00Z",
        end_time="2026-01-02T00:00:00Z",
    )
    assert [d["id"] for d in response.json()["data"]] == [analytics.post_id]
    # The outsider's own account: alice's post is not among its entities.
    response = await stats(
        analytics,
        analytics.studio.outsider,
        account_id=other,
        start_time="2026-01-01T00:00:00Z",
        end_time="2026-01-02T00:00:00Z",
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []
    response = await stats(
        analytics, entity="LINE_ITEM", entity_ids="x1", start_time="2026-01-01T00:00:00Z",
        end_time="2026-01-02T00:00:00Z",
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["data"] == []


async def test_day_buckets_follow_the_account_timezone_across_dst(
    analytics: Analytics, engine: AsyncEngine
) -> None:
    """America/Los_Angeles, 2026-10-31 .. 2026-11-03: 1 November has 25 hours (PDT ends).
    One start is seeded in each UTC hour: the days hold 24, 25 and 24."""
    la = await create_studio_account(
        engine, analytics.studio.admin.id, name="LA", timezone="America/Los_Angeles"
    )
    first = int(datetime(2026, 10, 31, 7, tzinfo=UTC).timestamp())  # local midnight, PDT
    last = int(datetime(2026, 11, 3, 8, tzinfo=UTC).timestamp())  # local midnight, PST
    async with make_sessionmaker(engine)() as session, session.begin():
        for hour in range(first - 5 * HOUR_S, last + 5 * HOUR_S, HOUR_S):
            session.add(MediaHourlyStats(media_id=analytics.video_id, hour=hour, starts=1))
    # Bare dates are local midnights; the SDK sends DAY requests this way.
    response = await stats(
        analytics, account_id=la, granularity="DAY", start_time="2026-10-31",
        end_time="2026-11-03",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["time_series_length"] == 3
    assert body["data"][0]["id_data"][0]["metrics"]["video_content_starts"] == [24, 25, 24]
    assert body["request"]["params"]["start_time"] == "2026-10-31T07:00:00Z"
    assert body["request"]["params"]["end_time"] == "2026-11-03T08:00:00Z"
    # The same with offsets given.
    response = await stats(
        analytics, account_id=la, granularity="DAY", start_time="2026-10-31T00:00:00-0700",
        end_time="2026-11-03T00:00:00-08:00",
    )  # fmt: skip
    assert response.json()["data"][0]["id_data"][0]["metrics"]["video_content_starts"] == [
        24, 25, 24,
    ]  # fmt: skip
    # Not a local midnight: refused.
    response = await stats(
        analytics, account_id=la, granularity="DAY", start_time="2026-10-31T00:00:00Z",
        end_time="2026-11-03T00:00:00Z",
    )  # fmt: skip
    assert ads_error(response) == (
        400,
        "INVALID_TIME_WINDOW",
        "Expect time to be midnight in the account's local timezone for day granularity",
    )
    assert response.json()["errors"][0]["parameter"] == ""
    # TOTAL over the range sums every hour; the end is exclusive.
    response = await stats(
        analytics, account_id=la, start_time="2026-10-31T07:00:00Z",
        end_time="2026-10-31T10:00:00Z",
    )  # fmt: skip
    assert response.json()["data"][0]["id_data"][0]["metrics"]["video_content_starts"] == [3]


REFUSALS = [
    ({"entity": None}, "MISSING_PARAMETER", '"entity" is a required parameter'),
    ({"entity_ids": None}, "MISSING_PARAMETER", '"entity_ids" is a required parameter'),
    ({"start_time": None}, "MISSING_PARAMETER", '"start_time" is a required parameter'),
    ({"end_time": None}, "MISSING_PARAMETER", '"end_time" is a required parameter'),
    ({"granularity": None}, "MISSING_PARAMETER", '"granularity" is a required parameter'),
    ({"metric_groups": None}, "MISSING_PARAMETER", '"metric_groups" is a required parameter'),
    ({"placement": None}, "MISSING_PARAMETER", '"placement" is a required parameter'),
    ({"entity": "TWEET"}, "INVALID_PARAMETER", None),
    ({"granularity": "WEEK"}, "INVALID_PARAMETER", None),
    ({"metric_groups": "VIDEO,FUN"}, "INVALID_PARAMETER", None),
    (
        {"placement": "ALL_ON_TWITTER,TREND"},
        "INVALID_PARAMETER",
        "placement takes exactly one value",
    ),
    (
        {"entity_ids": ",".join(str(i) for i in range(21))},
        "INVALID_PARAMETER",
        "entity_ids takes at most 20 ids, got 21",
    ),
    (
        {"entity": "ACCOUNT", "metric_groups": "VIDEO"},
        "INVALID_PARAMETER",
        "Metric group VIDEO is not available for entity ACCOUNT",
    ),
    (
        {"start_time": "2026-01-01T00:30:00Z"},
        "INVALID_TIME_WINDOW",
        "Time cannot be fractional hours",
    ),
    (
        {"end_time": "2026-01-02T00:00:01Z"},
        "INVALID_TIME_WINDOW",
        "Time cannot be fractional hours",
    ),
    (
        {"end_time": "2026-01-01T00:00:00Z"},
        "INVALID_TIME_WINDOW",
        "The end_time must be after the start_time",
    ),
    (
        {"end_time": "2026-01-08T02:00:00Z"},
        "INVALID_TIME_WINDOW",
        "The end_time can be a maximum of 7.days+1.hours after the start_time",
    ),
    ({"start_time": "yesterday"}, "INVALID_PARAMETER", None),
    (
        {"segmentation_type": "AGE"},
        "INVALID_PARAMETER",
        "Segmentation is available for asynchronous jobs only",
    ),
]


@pytest.mark.parametrize(("change", "code", "message"), REFUSALS)
async def test_every_rule_has_its_error(
    analytics: Analytics, change: dict[str, Any], code: str, message: str | None
) -> None:
    params = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-02T00:00:00Z", **change}
    response = await stats(analytics, **params)
    status, got_code, got_message = ads_error(response)
    assert (status, got_code) == (400, code), response.text
    if message is not None:
        assert got_message == message


async def test_seven_days_and_an_hour_is_the_longest_range(analytics: Analytics) -> None:
    response = await stats(
        analytics, start_time="2026-01-01T00:00:00Z", end_time="2026-01-08T01:00:00Z"
    )
    assert response.status_code == 200, response.text


async def test_who_may_read_stats(analytics: Analytics, engine: AsyncEngine) -> None:
    studio = analytics.studio
    window = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-02T00:00:00Z"}
    assert (await stats(analytics, studio.full, **window)).status_code == 200
    status, code, _ = ads_error(await stats(analytics, studio.limited, **window))
    assert (status, code) == (403, "ACTION_NOT_ALLOWED")
    status, code, message = ads_error(await stats(analytics, studio.outsider, **window))
    assert (status, code) == (403, "NOT_FOUND")
    assert message == f"Account {studio.account_id} was not found"
    # An analyst granted explicitly may.
    await grant(engine, studio.account_id, studio.outsider.id, permissions=["ANALYST"])
    assert (await stats(analytics, studio.outsider, **window)).status_code == 200
    response = await analytics.env.client.get(
        f"/11/stats/accounts/{studio.account_id}", params=window
    )
    assert response.status_code == 401


async def test_impressions_count_deliveries_of_the_posted_video(analytics: Analytics) -> None:
    media = await analytics.env.client.get(
        f"/2/tweets/{analytics.post_id}",
        params={"expansions": "attachments.media_keys", "media.fields": "variants"},
        headers=analytics.studio.admin.headers,
    )
    assert media.status_code == 200, media.text
    [item] = media.json()["includes"]["media"]
    urls = [v["url"] for v in item["variants"]]
    for url in urls:
        fetched = await analytics.env.client.get(
            url.split("://", 1)[1].split("/", 1)[1].join("/")
            if False
            else "/" + url.split("://", 1)[1].split("/", 1)[1]
        )
        assert fetched.status_code == 200, url
    await analytics.env.state.playback.writer.close()  # type: ignore[union-attr]
    await analytics.roll_up()
    now = int(time.time()) // HOUR_S * HOUR_S
    response = await stats(
        analytics, metric_groups="ENGAGEMENT", start_time=iso((now - HOUR_S) * 1000),
        end_time=iso((now + HOUR_S) * 1000),
    )  # fmt: skip
    assert response.json()["data"][0]["id_data"][0]["metrics"]["impressions"] == [len(urls)]
