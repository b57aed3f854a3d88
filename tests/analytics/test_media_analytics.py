"""``GET /2/media/analytics`` (§12.2): the caller's own media per hour, UTC day or in
total, the field selection, other keys as "resource not found" problems beside
``data``, and the v2 400s. Counters are seeded into the hourly rollup directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response

from app.analytics.metrics import Counters
from app.http.v2 import presenters
from tests.analytics import scenarios
from tests.analytics.conftest import Analytics
from tests.analytics.seed import seed_hour
from tests.analytics.test_rollup import base_ms, replay
from tests.conftest import User
from tests.fixtures.bodies import assert_v2_problem
from tests.fixtures.oauth import oauth_header

URL = "/2/media/analytics"
DAY1 = datetime(2026, 11, 10, tzinfo=UTC)
H5, H6 = DAY1 + timedelta(hours=5), DAY1 + timedelta(hours=6)
H23_DAY2 = DAY1 + timedelta(days=1, hours=23)
ZERO = {
    "cta_url_clicks": 0,
    "cta_watch_clicks": 0,
    "play_from_tap": None,
    "playback25": 0,
    "playback50": 0,
    "playback75": 0,
    "playback_complete": 0,
    "playback_start": 0,
    "video_views": 0,
    "watch_time_ms": 0,
}


def _metrics(**wire: int) -> dict[str, Any]:
    return {**ZERO, **wire}


@pytest.fixture
async def seeded(analytics: Analytics) -> Analytics:
    """Three hours of counters: 05:00 and 06:00 of Nov 10, 23:00 of Nov 11 (UTC)."""
    engine, media_id = analytics.studio.engine, analytics.video_id
    await seed_hour(
        engine, media_id, H5, starts=3, views_25=2, views_50=2, views_75=1, views_100=1,
        total_views=2, watch_ms=9_000, cta_url_clicks=1, impressions=5,
    )  # fmt: skip
    await seed_hour(engine, media_id, H6, starts=1, views_25=1, total_views=1, watch_ms=2_500)
    await seed_hour(
        engine, media_id, H23_DAY2, starts=4, total_views=3, watch_ms=7_000, cta_watch_clicks=2
    )
    return analytics


async def _get(analytics: Analytics, /, *users: User, **params: str) -> Response:
    """``params`` as ``users[0]`` (alice when none is given)."""
    headers = (users[0] if users else analytics.studio.admin).headers
    return await analytics.env.client.get(URL, params=params, headers=headers)


def _range(start: datetime, end: datetime) -> dict[str, str]:
    return {"start_time": start.isoformat(), "end_time": end.isoformat()}


class TestGranularity:
    async def test_daily_is_the_default_with_every_counter(self, seeded: Analytics) -> None:
        response = await _get(
            seeded, media_keys=seeded.video_key, **_range(DAY1, DAY1 + timedelta(days=2))
        )

        assert response.status_code == 200, response.text
        assert response.json() == {
            "data": [
                {
                    "media_key": seeded.video_key,
                    "timestamped_metrics": [
                        {
                            "timestamp": "2026-11-10T00:00:00.000Z",
                            "metrics": _metrics(
                                playback_start=4,
                                playback25=3,
                                playback50=2,
                                playback75=1,
                                playback_complete=1,
                                video_views=3,
                                watch_time_ms=11_500,
                                cta_url_clicks=1,
                            ),
                        },
                        {
                            "timestamp": "2026-11-11T00:00:00.000Z",
                            "metrics": _metrics(
                                playback_start=4,
                                video_views=3,
                                watch_time_ms=7_000,
                                cta_watch_clicks=2,
                            ),
                        },
                    ],
                }
            ]
        }

    async def test_hourly_has_one_bucket_per_hour(self, seeded: Analytics) -> None:
        response = await _get(
            seeded,
            media_keys=seeded.video_key,
            granularity="hourly",
            **_range(H5, H5 + timedelta(hours=3)),
        )

        [item] = response.json()["data"]
        series = item["timestamped_metrics"]
        assert [b["timestamp"] for b in series] == [
            "2026-11-10T05:00:00.000Z",
            "2026-11-10T06:00:00.000Z",
            "2026-11-10T07:00:00.000Z",
        ]
        assert [b["metrics"]["playback_start"] for b in series] == [3, 1, 0]
        assert series[1]["metrics"] == _metrics(
            playback_start=1, playback25=1, video_views=1, watch_time_ms=2_500
        )

    async def test_total_sums_the_range(self, seeded: Analytics) -> None:
        response = await _get(
            seeded,
            media_keys=seeded.video_key,
            granularity="total",
            **_range(DAY1, DAY1 + timedelta(days=3)),
        )

        [item] = response.json()["data"]
        assert item["timestamped_metrics"] == [
            {
                "timestamp": "2026-11-10T00:00:00.000Z",
                "metrics": _metrics(
                    playback_start=8,
                    playback25=3,
                    playback50=2,
                    playback75=1,
                    playback_complete=1,
                    video_views=6,
                    watch_time_ms=18_500,
                    cta_url_clicks=1,
                    cta_watch_clicks=2,
                ),
            }
        ]

    async def test_the_range_widens_to_whole_buckets(self, seeded: Analytics) -> None:
        """05:30 to 06:10 hourly: the hours 05:00 and 06:00; daily: the whole UTC day."""
        hourly = await _get(
            seeded,
            media_keys=seeded.video_key,
            granularity="hourly",
            start_time="2026-11-10T05:30:00Z",
            end_time="2026-11-10T06:10:00Z",
        )
        daily = await _get(
            seeded,
            media_keys=seeded.video_key,
            start_time="2026-11-10T05:30:00+01:00",
            end_time="2026-11-10T06:10:00.250Z",
        )

        assert [b["metrics"]["playback_start"] for b in _series(hourly)] == [3, 1]
        assert [b["timestamp"] for b in _series(daily)] == ["2026-11-10T00:00:00.000Z"]
        assert _series(daily)[0]["metrics"]["playback_start"] == 4

    async def test_a_range_without_counts_answers_zeros(self, seeded: Analytics) -> None:
        response = await _get(
            seeded,
            media_keys=seeded.video_key,
            granularity="daily",
            **_range(DAY1 - timedelta(days=2), DAY1),
        )

        assert [b["metrics"] for b in _series(response)] == [ZERO, ZERO]


def _series(response: Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    [item] = response.json()["data"]
    return list(item["timestamped_metrics"])


class TestFields:
    async def test_named_counters_are_sums_over_the_range(self, seeded: Analytics) -> None:
        response = await _get(
            seeded,
            media_keys=seeded.video_key,
            **{"media_analytics.fields": "video_views,watch_time_ms,play_from_tap"},
            **_range(DAY1, DAY1 + timedelta(days=2)),
        )

        assert response.json()["data"] == [
            {
                "media_key": seeded.video_key,
                "video_views": 6,
                "watch_time_ms": 18_500,
                "play_from_tap": None,
            }
        ]

    async def test_timestamped_metrics_hold_the_named_counters(self, seeded: Analytics) -> None:
        response = await _get(
            seeded,
            media_keys=seeded.video_key,
            **{"media_analytics.fields": "timestamped_metrics,playback_start,timestamp"},
            **_range(DAY1, DAY1 + timedelta(days=2)),
        )

        assert response.json()["data"] == [
            {
                "media_key": seeded.video_key,
                "timestamp": "2026-11-10T00:00:00.000Z",
                "playback_start": 8,
                "timestamped_metrics": [
                    {"timestamp": "2026-11-10T00:00:00.000Z", "metrics": {"playback_start": 4}},
                    {"timestamp": "2026-11-11T00:00:00.000Z", "metrics": {"playback_start": 4}},
                ],
            }
        ]

    @pytest.mark.parametrize(
        ("fields", "keys"),
        [
            ("media_key", {"media_key"}),
            ("timestamped_metrics", {"media_key", "timestamped_metrics"}),
            (
                "cta_url_clicks,cta_watch_clicks",
                {"media_key", "cta_url_clicks", "cta_watch_clicks"},
            ),
        ],
    )
    async def test_each_selection(self, seeded: Analytics, fields: str, keys: set[str]) -> None:
        response = await _get(
            seeded,
            media_keys=seeded.video_key,
            **{"media_analytics.fields": fields},
            **_range(DAY1, DAY1 + timedelta(days=2)),
        )

        [item] = response.json()["data"]
        assert set(item) == keys


class TestWhoseMedia:
    async def test_other_keys_are_problems_beside_data(self, seeded: Analytics) -> None:
        foreign = await seeded.studio.upload_photo(seeded.studio.outsider)

        response = await _get(
            seeded,
            media_keys=f"{seeded.video_key},7_1234567,{foreign}",
            granularity="total",
            **_range(DAY1, DAY1 + timedelta(days=2)),
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert [item["media_key"] for item in body["data"]] == [seeded.video_key]
        assert body["errors"] == [_not_found("7_1234567"), _not_found(foreign)]

    async def test_someone_elses_media_answers_like_an_unknown_key(self, seeded: Analytics) -> None:
        """Even a member of the owner's studio account: the endpoint is per user."""
        for user in (seeded.studio.outsider, seeded.studio.full):
            response = await _get(seeded, user, media_keys=seeded.video_key, **_range(DAY1, H6))

            assert response.status_code == 200, response.text
            assert response.json() == {"errors": [_not_found(seeded.video_key)]}

    async def test_oauth1_user_context_works(self, seeded: Analytics) -> None:
        url = (
            f"http://testserver{URL}?media_keys={seeded.video_key}&granularity=total"
            "&start_time=2026-11-10T00:00:00Z&end_time=2026-11-12T00:00:00Z"
            "&media_analytics.fields=playback_start"
        )
        headers = oauth_header(seeded.studio.admin.credentials, "GET", url)

        response = await seeded.env.client.get(url, headers=headers)

        assert response.status_code == 200, response.text
        assert response.json()["data"] == [{"media_key": seeded.video_key, "playback_start": 8}]

    async def test_no_credentials_is_401(self, seeded: Analytics) -> None:
        response = await seeded.env.client.get(
            URL, params={"media_keys": seeded.video_key, **_range(DAY1, H6)}
        )

        assert response.status_code == 401, response.text


def _not_found(key: str) -> dict[str, Any]:
    """The lookups' "resource not found" entry (its wire shape is pinned by
    tests/http/test_visibility_attach.py)."""
    [entry] = presenters.not_found_v2([key], resource_type="media", parameter="media_keys")
    return entry


_GOOD = {"start_time": "2026-11-10T00:00:00Z", "end_time": "2026-11-12T00:00:00Z"}


class TestBadParameters:
    @pytest.mark.parametrize(
        ("changes", "parameter"),
        [
            ({"granularity": "weekly"}, "granularity"),
            ({"granularity": "DAILY"}, "granularity"),
            ({"media_keys": "abc"}, "media_keys"),
            ({"media_keys": "7_1,,7_2"}, "media_keys"),
            ({"media_keys": ",".join(f"7_{i}" for i in range(101))}, "media_keys"),
            ({"start_time": "2026-11-10"}, "start_time"),
            ({"start_time": "2026-11-10T00:00:00"}, "start_time"),
            ({"end_time": "2026-13-10T00:00:00Z"}, "end_time"),
            ({"end_time": "2026-11-10T00:00:00Z"}, "end_time"),
            ({"end_time": "2027-02-09T00:00:01Z"}, "end_time"),
            ({"granularity": "hourly", "end_time": "2026-11-17T00:00:01Z"}, "end_time"),
            ({"media_analytics.fields": "views"}, "media_analytics.fields"),
            ({"media_analytics.fields": "media_key,"}, "media_analytics.fields"),
            ({"start_time": "0001-01-01T00:30:00+01:00"}, "start_time"),
        ],
    )
    async def test_is_the_v2_400(
        self, analytics: Analytics, changes: dict[str, str], parameter: str
    ) -> None:
        params = {"media_keys": analytics.video_key, **_GOOD, **changes}

        response = await _get(analytics, **params)

        assert response.status_code == 400, response.text
        body = response.json()
        assert_v2_problem(body, status=400)
        assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
        assert list(body["errors"][0]["parameters"]) in ([parameter], ["end_time"])

    @pytest.mark.parametrize("missing", ["media_keys", "start_time", "end_time"])
    async def test_a_missing_parameter_is_the_v2_400(
        self, analytics: Analytics, missing: str
    ) -> None:
        params = {"media_keys": analytics.video_key, **_GOOD}
        del params[missing]

        response = await _get(analytics, **params)

        assert response.status_code == 400, response.text
        assert_v2_problem(response.json(), status=400)
        assert missing in response.text

    async def test_ninety_days_is_the_longest_range(self, analytics: Analytics) -> None:
        response = await _get(
            analytics,
            media_keys=analytics.video_key,
            granularity="total",
            **_range(DAY1, DAY1 + timedelta(days=90)),
        )

        assert response.status_code == 200, response.text

    async def test_a_hundred_keys_are_allowed(self, analytics: Analytics) -> None:
        keys = [analytics.video_key, *(f"7_{i}" for i in range(1, 100))]

        response = await _get(analytics, media_keys=",".join(keys), **_GOOD)

        assert response.status_code == 200, response.text
        assert [item["media_key"] for item in response.json()["data"]] == [analytics.video_key]
        assert len(response.json()["errors"]) == 99


class TestScenarios:
    async def test_replayed_events_per_hour_and_in_total(self, analytics: Analytics) -> None:
        """Every scenario of tests/analytics/scenarios.py through the ingest endpoint and
        the rollup; hours -2 .. +1 of their base, as computed by hand."""
        base = base_ms()
        events = scenarios.events_of(
            scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base
        )
        await replay(analytics, events)
        await analytics.roll_up()
        start = datetime.fromtimestamp(base / 1000, UTC) - timedelta(hours=2)
        hours = scenarios.expected_hours(scenarios.SCENARIOS)

        hourly = await _get(
            analytics,
            media_keys=analytics.video_key,
            granularity="hourly",
            **_range(start, start + timedelta(hours=4)),
        )
        total = await _get(
            analytics,
            media_keys=analytics.video_key,
            granularity="total",
            **{"media_analytics.fields": ",".join(ZERO)},
            **_range(start, start + timedelta(hours=4)),
        )

        assert [b["metrics"] for b in _series(hourly)] == [
            _wire(hours.get(hour, Counters())) for hour in (-2, -1, 0, 1)
        ]
        [item] = total.json()["data"]
        assert item == {
            "media_key": analytics.video_key,
            **_wire(scenarios.expected_total(scenarios.SCENARIOS)),
        }


def _wire(c: Counters) -> dict[str, int | None]:
    """The v2 names of the counters (README's table, written out here)."""
    return {
        "cta_url_clicks": c.cta_url_clicks,
        "cta_watch_clicks": c.cta_watch_clicks,
        "play_from_tap": None,
        "playback25": c.views_25,
        "playback50": c.views_50,
        "playback75": c.views_75,
        "playback_complete": c.views_100,
        "playback_start": c.starts,
        "video_views": c.total_views,
        "watch_time_ms": c.watch_ms,
    }
