"""The studio's report ``GET /studio/v1/accounts/{id}/analytics``: one media or the whole
account, per hour, local day or in total, the seed's numbers with their rates, JSON and
CSV alike, roles, and the Ads envelope's 400/403/404. Counters are seeded into the
hourly rollup directly."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import update

from app.analytics.metrics import Counters
from app.infra.db import make_sessionmaker
from app.models import StudioAccount
from tests.analytics import scenarios
from tests.analytics.conftest import Analytics
from tests.analytics.seed import seed_hour
from tests.analytics.test_rollup import base_ms, replay
from tests.conftest import User, create_user
from tests.fixtures.entities import post_status
from tests.fixtures.studio import grant
from tests.studio.conftest import ads_error

DAY1 = datetime(2026, 11, 10, tzinfo=UTC)
H5, H6 = DAY1 + timedelta(hours=5), DAY1 + timedelta(hours=6)
VIDEO_H5 = {
    "starts": 4, "views_25": 3, "views_50": 2, "views_75": 2, "views_100": 1,
    "total_views": 2, "watch_ms": 95_000, "cta_url_clicks": 1, "cta_watch_clicks": 2,
    "impressions": 10,
}  # fmt: skip
VIDEO_H6 = {"starts": 1, "views_25": 1, "total_views": 1, "watch_ms": 5_000, "impressions": 3}


def _url(analytics: Analytics, account_id: str | None = None) -> str:
    return f"/studio/v1/accounts/{account_id or analytics.studio.account_id}/analytics"


async def _get(
    analytics: Analytics,
    /,
    *users: User | None,
    accept: str | None = None,
    **params: str,
) -> Response:
    """``params`` as ``users[0]`` (alice when none is given; None: no credentials)."""
    user = users[0] if users else analytics.studio.admin
    sent = dict(user.headers) if user is not None else {}
    if accept is not None:
        sent["Accept"] = accept
    return await analytics.env.client.get(_url(analytics), params=params, headers=sent)


def _ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"request", "data"}, body
    return dict(body["data"])


def _row(**counters: int) -> dict[str, Any]:
    """The report columns as hand-computed from ``counters``."""
    c = {
        "starts": 0, "views_25": 0, "views_50": 0, "views_75": 0, "views_100": 0,
        "total_views": 0, "watch_ms": 0, "cta_url_clicks": 0, "cta_watch_clicks": 0,
        "impressions": 0, **counters,
    }  # fmt: skip

    def share(num: int, den: int) -> float | None:
        return round(num / den, 4) if den else None

    return {
        "starts": c["starts"],
        **{f"views_{q}": c[f"views_{q}"] for q in (25, 50, 75, 100)},
        **{f"retention_rate_{q}": share(c[f"views_{q}"], c["starts"]) for q in (25, 50, 75, 100)},
        **{
            f"completion_rate_{q}": share(c[f"views_{q}"], c["total_views"])
            for q in (25, 50, 75, 100)
        },
        "minutes_viewed": round(c["watch_ms"] / 60_000, 2),
        "watch_ms": c["watch_ms"],
        "cta_url_clicks": c["cta_url_clicks"],
        "cta_watch_clicks": c["cta_watch_clicks"],
        "total_views": c["total_views"],
        "impressions": c["impressions"],
    }


def _sum(*rows: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        for name, value in row.items():
            out[name] = out.get(name, 0) + value
    return out


@pytest.fixture
async def seeded(analytics: Analytics) -> Analytics:
    await seed_hour(analytics.studio.engine, analytics.video_id, H5, **VIDEO_H5)
    await seed_hour(analytics.studio.engine, analytics.video_id, H6, **VIDEO_H6)
    return analytics


class TestOneMedia:
    async def test_daily_rows_and_total(self, seeded: Analytics) -> None:
        data = _ok(
            await _get(seeded, media_key=seeded.video_key, start="2026-11-09", end="2026-11-11")
        )

        assert data["media_key"] == seeded.video_key
        assert data["granularity"] == "day"
        assert data["timezone"] == "UTC"
        assert (data["start"], data["end"]) == (
            "2026-11-09T00:00:00+00:00",
            "2026-11-11T00:00:00+00:00",
        )
        assert data["media_count"] == 1
        both = _row(**_sum(VIDEO_H5, VIDEO_H6))
        assert data["buckets"] == [
            {"start": "2026-11-09T00:00:00+00:00", "end": "2026-11-10T00:00:00+00:00", **_row()},
            {"start": "2026-11-10T00:00:00+00:00", "end": "2026-11-11T00:00:00+00:00", **both},
        ]
        assert data["total"] == both

    async def test_the_numbers_by_hand(self, seeded: Analytics) -> None:
        """starts 5, views 4/2/2/1, total views 3, 100 s watched: retention = views/starts,
        completion = views/total views, minutes to 2 places."""
        data = _ok(
            await _get(
                seeded,
                media_key=seeded.video_key,
                start="2026-11-10",
                end="2026-11-11",
                granularity="total",
            )
        )

        total = data["total"]
        assert total["starts"] == 5
        assert [total[f"retention_rate_{q}"] for q in (25, 50, 75, 100)] == [0.8, 0.4, 0.4, 0.2]
        assert [total[f"completion_rate_{q}"] for q in (25, 50, 75, 100)] == [
            1.3333, 0.6667, 0.6667, 0.3333,
        ]  # fmt: skip
        assert total["minutes_viewed"] == 1.67
        assert total["watch_ms"] == 100_000
        assert (total["cta_url_clicks"], total["cta_watch_clicks"]) == (1, 2)
        assert (total["total_views"], total["impressions"]) == (3, 13)
        assert [b["starts"] for b in data["buckets"]] == [5]

    async def test_hourly_rows(self, seeded: Analytics) -> None:
        data = _ok(
            await _get(
                seeded,
                media_key=seeded.video_key,
                granularity="hour",
                start="2026-11-10T04:30:00Z",
                end="2026-11-10T07:00:00Z",
            )
        )

        assert [b["start"] for b in data["buckets"]] == [
            "2026-11-10T04:00:00+00:00",
            "2026-11-10T05:00:00+00:00",
            "2026-11-10T06:00:00+00:00",
        ]
        assert [b["starts"] for b in data["buckets"]] == [0, 4, 1]
        assert data["buckets"][1] == {
            "start": "2026-11-10T05:00:00+00:00",
            "end": "2026-11-10T06:00:00+00:00",
            **_row(**VIDEO_H5),
        }

    async def test_rates_are_null_without_starts(self, seeded: Analytics) -> None:
        data = _ok(await _get(seeded, start="2026-11-01", end="2026-11-02", granularity="total"))

        assert data["total"]["retention_rate_25"] is None
        assert data["total"]["completion_rate_100"] is None
        assert data["total"]["minutes_viewed"] == 0


async def _set_timezone(analytics: Analytics, timezone: str) -> None:
    studio = analytics.studio
    async with make_sessionmaker(studio.engine).begin() as session:
        await session.execute(
            update(StudioAccount)
            .where(StudioAccount.id == studio.account_id)
            .values(timezone=timezone)
        )


class TestLocalDays:
    async def test_days_are_the_account_timezone(self, seeded: Analytics) -> None:
        """Los Angeles (UTC-8 in November): 05:00Z and 06:00Z are Nov 9, 21:00 and 22:00
        local; an event at 08:00Z is midnight Nov 10."""
        await _set_timezone(seeded, "America/Los_Angeles")
        await seed_hour(seeded.studio.engine, seeded.video_id, DAY1 + timedelta(hours=8), starts=7)

        data = _ok(await _get(seeded, start="2026-11-09", end="2026-11-11"))

        assert data["timezone"] == "America/Los_Angeles"
        assert [(b["start"], b["starts"]) for b in data["buckets"]] == [
            ("2026-11-09T00:00:00-08:00", 5),
            ("2026-11-10T00:00:00-08:00", 7),
        ]
        assert data["total"]["starts"] == 12

    async def test_the_day_daylight_saving_ends_has_25_hours(self, analytics: Analytics) -> None:
        """Nov 1 2026 in Los Angeles runs from 07:00Z to 08:00Z the next day."""
        await _set_timezone(analytics, "America/Los_Angeles")
        first = datetime(2026, 11, 1, 7, tzinfo=UTC)
        engine, media_id = analytics.studio.engine, analytics.video_id
        await seed_hour(engine, media_id, first - timedelta(hours=1), starts=1000)
        await seed_hour(engine, media_id, first, starts=1)
        await seed_hour(engine, media_id, first + timedelta(hours=24), starts=10)
        await seed_hour(engine, media_id, first + timedelta(hours=25), starts=100)

        data = _ok(await _get(analytics, start="2026-11-01", end="2026-11-03"))

        assert [(b["start"], b["end"], b["starts"]) for b in data["buckets"]] == [
            ("2026-11-01T00:00:00-07:00", "2026-11-02T00:00:00-08:00", 11),
            ("2026-11-02T00:00:00-08:00", "2026-11-03T00:00:00-08:00", 100),
        ]


class TestWholeAccount:
    async def test_library_and_posted_media_add_up(self, seeded: Analytics) -> None:
        """The library's photo, a photo alice posted outside the library, the video;
        not media of another user."""
        studio = seeded.studio
        posted_key = await studio.upload_photo()
        posted_id = posted_key.split("_", 1)[1]
        assert (
            await post_status(studio.env.client, studio.admin.headers, "p", [posted_id])
        ).status_code == 200
        foreign_key = await studio.upload_photo(studio.outsider)
        library_id = int(studio.media_key.split("_", 1)[1])
        await seed_hour(studio.engine, library_id, H5, impressions=20)
        await seed_hour(studio.engine, int(posted_id), H6, impressions=300)
        await seed_hour(studio.engine, int(foreign_key.split("_", 1)[1]), H5, impressions=4000)

        data = _ok(await _get(seeded, start="2026-11-10", end="2026-11-11"))

        assert data["media_key"] is None
        assert data["media_count"] == 3  # the library photo, the video, the posted photo
        assert data["total"]["impressions"] == 10 + 3 + 20 + 300
        assert data["total"]["starts"] == 5


class TestCsv:
    @pytest.mark.parametrize("how", ["format", "accept"])
    async def test_csv_matches_the_json(self, seeded: Analytics, how: str) -> None:
        params = {
            "start": "2026-11-10T04:00:00Z",
            "end": "2026-11-10T08:00:00Z",
            "granularity": "hour",
        }
        as_json = _ok(await _get(seeded, **params))

        if how == "format":
            response = await _get(seeded, format="csv", **params)
        else:
            response = await _get(seeded, accept="text/csv", **params)

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        assert disposition.endswith('.csv"')
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == len(as_json["buckets"]) == 4
        for row, bucket in zip(rows, as_json["buckets"], strict=True):
            assert list(row) == list(bucket)
            assert row == {k: "" if v is None else str(v) for k, v in bucket.items()}

    async def test_format_json_wins_over_accept(self, seeded: Analytics) -> None:
        response = await _get(
            seeded,
            accept="text/csv",
            format="json",
            start="2026-11-10",
            end="2026-11-11",
        )

        assert _ok(response)["total"]["starts"] == 5


class TestRoles:
    @pytest.mark.parametrize("member", ["admin", "full", "ANALYST", "CAMPAIGN_ANALYST"])
    async def test_analytics_roles_read_it(self, seeded: Analytics, member: str) -> None:
        studio = seeded.studio
        if member.isupper():  # a member granted just that permission
            user = await create_user(studio.engine, "counter")
            await grant(studio.engine, studio.account_id, user.id, permissions=[member])
        else:
            user = studio.members[member]

        data = _ok(await _get(seeded, user, start="2026-11-10", end="2026-11-11"))

        assert data["total"]["starts"] == 5

    async def test_a_limited_member_is_refused(self, seeded: Analytics) -> None:
        response = await _get(seeded, seeded.studio.limited, start="2026-11-10", end="2026-11-11")

        assert ads_error(response)[:2] == (403, "ACTION_NOT_ALLOWED")

    async def test_an_outsider_sees_no_account(self, seeded: Analytics) -> None:
        response = await _get(seeded, seeded.studio.outsider, start="2026-11-10", end="2026-11-11")

        assert ads_error(response)[:2] == (403, "NOT_FOUND")

    async def test_no_credentials_is_401(self, seeded: Analytics) -> None:
        response = await _get(seeded, None, start="2026-11-10", end="2026-11-11")

        assert ads_error(response)[:2] == (401, "UNAUTHORIZED_ACCESS")


_GOOD = {"start": "2026-11-10", "end": "2026-11-11"}


class TestBadParameters:
    @pytest.mark.parametrize(
        ("changes", "code", "parameter"),
        [
            ({"start": "10/11/2026"}, "INVALID_PARAMETER", "start"),
            ({"end": "2026-11-31"}, "INVALID_PARAMETER", "end"),
            ({"end": "2026-11-11T25:00"}, "INVALID_PARAMETER", "end"),
            ({"granularity": "week"}, "INVALID_PARAMETER", "granularity"),
            ({"format": "xml"}, "INVALID_PARAMETER", "format"),
            ({"media_key": "abc"}, "INVALID_PARAMETER", "media_key"),
            ({"end": "2026-11-10"}, "INVALID_TIME_WINDOW", "end"),
            ({"end": "2026-11-09"}, "INVALID_TIME_WINDOW", "end"),
            ({"end": "2026-12-12", "granularity": "hour"}, "INVALID_TIME_WINDOW", "end"),
            ({"end": "2027-11-12"}, "INVALID_TIME_WINDOW", "end"),
            ({"start": "0001-01-01T00:30+01:00"}, "INVALID_TIME_WINDOW", "end"),
        ],
    )
    async def test_is_a_400(
        self, analytics: Analytics, changes: dict[str, str], code: str, parameter: str
    ) -> None:
        response = await _get(analytics, **{**_GOOD, **changes})

        assert ads_error(response)[:2] == (400, code)
        assert response.json()["errors"][0]["parameter"] == parameter

    @pytest.mark.parametrize("missing", ["start", "end"])
    async def test_a_missing_bound_is_a_400(self, analytics: Analytics, missing: str) -> None:
        params = dict(_GOOD)
        del params[missing]

        response = await _get(analytics, **params)

        assert ads_error(response)[:2] == (400, "MISSING_PARAMETER")

    async def test_another_users_media_is_not_found(self, analytics: Analytics) -> None:
        foreign = await analytics.studio.upload_photo(analytics.studio.outsider)

        for key in (foreign, "7_999999"):
            response = await _get(analytics, media_key=key, **_GOOD)

            assert ads_error(response)[:2] == (404, "NOT_FOUND")

    async def test_the_longest_ranges_are_allowed(self, analytics: Analytics) -> None:
        hourly = await _get(analytics, start="2026-11-01", end="2026-12-02", granularity="hour")
        daily = await _get(analytics, start="2026-01-01", end="2027-01-02")

        assert len(_ok(hourly)["buckets"]) == 31 * 24
        assert len(_ok(daily)["buckets"]) == 366


_V2_COLUMNS = {
    "playback_start": "starts",
    "playback25": "views_25",
    "playback50": "views_50",
    "playback75": "views_75",
    "playback_complete": "views_100",
    "video_views": "total_views",
    "watch_time_ms": "watch_ms",
    "cta_url_clicks": "cta_url_clicks",
    "cta_watch_clicks": "cta_watch_clicks",
}


class TestAgreement:
    async def test_the_v2_analytics_total_is_the_reports(self, seeded: Analytics) -> None:
        """The same hourly rows, read by both surfaces."""
        v2 = await seeded.env.client.get(
            "/2/media/analytics",
            params={
                "media_keys": seeded.video_key,
                "granularity": "total",
                "start_time": "2026-11-10T00:00:00Z",
                "end_time": "2026-11-11T00:00:00Z",
                "media_analytics.fields": ",".join(_V2_COLUMNS),
            },
            headers=seeded.studio.admin.headers,
        )
        report = _ok(await _get(seeded, media_key=seeded.video_key, granularity="total", **_GOOD))

        [item] = v2.json()["data"]
        assert {name: item[name] for name in _V2_COLUMNS} == {
            name: report["total"][column] for name, column in _V2_COLUMNS.items()
        }
        assert item["playback_start"] == 5


class TestScenarios:
    async def test_replayed_events_and_a_delivery(self, analytics: Analytics) -> None:
        """Every scenario of tests/analytics/scenarios.py through the ingest endpoint, one
        delivery of the video's mp4 (an impression, counted now), then the rollup: the
        hourly rows and the total are the hand-computed ones, JSON and CSV alike."""
        base = base_ms()
        events = scenarios.events_of(
            scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base
        )
        await replay(analytics, events)
        await _deliver_once(analytics)
        delivered = (int(time.time()) // 3600 * 3600 * 1000 - base) // 3_600_000  # hour 3
        counted = 0
        for _ in range(50):  # the impression's write is asynchronous
            counted += await analytics.roll_up()
            if counted == len(events) - scenarios.DUPLICATES + 1:
                break
            await asyncio.sleep(0.1)
        start = datetime.fromtimestamp(base / 1000, UTC) - timedelta(hours=2)
        params = {
            "start": start.strftime("%Y-%m-%dT%H:%MZ"),
            "end": (start + timedelta(hours=2 + delivered + 1)).strftime("%Y-%m-%dT%H:%MZ"),
            "granularity": "hour",
        }
        hours = scenarios.expected_hours(scenarios.SCENARIOS)
        total = scenarios.expected_total(scenarios.SCENARIOS)

        data = _ok(await _get(analytics, media_key=analytics.video_key, **params))
        csv_rows = list(
            csv.DictReader(io.StringIO((await _get(analytics, format="csv", **params)).text))
        )

        assert counted == len(events) - scenarios.DUPLICATES + 1
        assert len(data["buckets"]) == delivered + 3  # hours -2 .. the delivery's
        expected = [_row(**hours.get(h, Counters()).as_dict()) for h in range(-2, delivered + 1)]
        expected[-1]["impressions"] += 1
        assert [{k: b[k] for k in expected[0]} for b in data["buckets"]] == expected
        assert data["total"] == _row(**{**total.as_dict(), "impressions": 1})
        assert data["total"]["retention_rate_25"] == round(3 / 9, 4)  # by hand: 3 of 9 starts
        assert [int(row["starts"]) for row in csv_rows] == [b["starts"] for b in data["buckets"]]


async def _deliver_once(analytics: Analytics) -> None:
    media = await analytics.env.client.get(
        f"/2/media/{analytics.video_key}",
        params={"media.fields": "variants"},
        headers=analytics.studio.admin.headers,
    )
    mp4 = next(
        v["url"] for v in media.json()["data"]["variants"] if v["content_type"] == "video/mp4"
    )
    delivered = await analytics.env.client.get(mp4)
    assert delivered.status_code == 200, delivered.status_code
