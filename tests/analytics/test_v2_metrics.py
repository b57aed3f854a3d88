"""v2 media metrics (§12.1): ``public_metrics`` for every caller, ``non_public_metrics``
and ``organic_metrics`` for the owner while the post is younger than 30 days, on every
v2 answer that renders media objects (``GET /2/tweets``, ``/2/tweets/:id``, ``/2/media``,
``/2/media/:key``). Counters are seeded into the rollup tables directly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.core.clock import utcnow
from tests.analytics import scenarios
from tests.analytics.conftest import Analytics
from tests.analytics.seed import age_post, seed_totals
from tests.analytics.test_rollup import base_ms, replay
from tests.conftest import User
from tests.fixtures.entities import post_status, processed
from tests.fixtures.oauth import oauth_header

ALL = "public_metrics,non_public_metrics,organic_metrics"
TOTALS = {
    "starts": 40,
    "views_25": 30,
    "views_50": 20,
    "views_75": 12,
    "views_100": 7,
    "total_views": 25,
    "watch_ms": 123_456,
    "impressions": 90,
}
PLAYBACK = {
    "playback_0_count": 40,
    "playback_25_count": 30,
    "playback_50_count": 20,
    "playback_75_count": 12,
    "playback_100_count": 7,
}


async def _tweet_media(
    analytics: Analytics, user: User | None, fields: str = ALL, *, oauth: bool = False
) -> dict[str, Any]:
    url = (
        f"http://testserver/2/tweets/{analytics.post_id}"
        f"?expansions=attachments.media_keys&media.fields={fields}"
    )
    assert user is not None
    headers = oauth_header(user.credentials, "GET", url) if oauth else user.headers
    response = await analytics.env.client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    [media] = body["includes"]["media"]
    assert media["media_key"] == analytics.video_key
    return dict(media)


class TestPublicMetrics:
    async def test_anyone_sees_the_view_count(self, analytics: Analytics) -> None:
        await seed_totals(analytics.studio.engine, analytics.video_id, **TOTALS)

        media = await _tweet_media(analytics, analytics.studio.outsider, "public_metrics")

        assert media["public_metrics"] == {"view_count": 25}

    async def test_a_video_never_viewed_counts_zero(self, analytics: Analytics) -> None:
        media = await _tweet_media(analytics, analytics.studio.admin)

        assert media["public_metrics"] == {"view_count": 0}
        assert media["non_public_metrics"] == dict.fromkeys(PLAYBACK, 0)
        assert media["organic_metrics"] == {**dict.fromkeys(PLAYBACK, 0), "view_count": 0}

    async def test_metrics_appear_only_when_asked_for(self, analytics: Analytics) -> None:
        await seed_totals(analytics.studio.engine, analytics.video_id, **TOTALS)

        media = await _tweet_media(analytics, analytics.studio.admin, "duration_ms")

        assert set(media) == {"media_key", "type", "duration_ms"}

    async def test_an_animated_gif_counts_views_too(
        self, analytics: Analytics, gif_file: Path
    ) -> None:
        env, alice = analytics.env, analytics.studio.admin
        body = await processed(
            env, alice.headers, gif_file, media_type="image/gif", category="tweet_gif"
        )
        gif_id = str(body["media_id_string"])
        posted = await post_status(env.client, alice.headers, "loop", [gif_id])
        await seed_totals(analytics.studio.engine, int(gif_id), total_views=3, starts=5)

        response = await env.client.get(
            f"/2/tweets/{posted.json()['id_str']}",
            params={"expansions": "attachments.media_keys", "media.fields": ALL},
            headers=alice.headers,
        )

        [media] = response.json()["includes"]["media"]
        assert media["type"] == "animated_gif"
        assert media["public_metrics"] == {"view_count": 3}
        assert media["organic_metrics"]["playback_0_count"] == 5

    async def test_a_photo_has_no_metrics(self, analytics: Analytics) -> None:
        """Views are playback views: photos carry none of the three fields."""
        studio = analytics.studio
        photo = await studio.upload_photo()
        posted = await post_status(
            studio.env.client, studio.admin.headers, "latte", [photo.split("_", 1)[1]]
        )
        await seed_totals(studio.engine, int(photo.split("_", 1)[1]), impressions=4)

        response = await studio.env.client.get(
            f"/2/tweets/{posted.json()['id_str']}",
            params={"expansions": "attachments.media_keys", "media.fields": f"{ALL},url"},
            headers=studio.admin.headers,
        )

        [media] = response.json()["includes"]["media"]
        assert media["type"] == "photo"
        assert set(media) == {"media_key", "type", "url"}


class TestPrivateMetrics:
    @pytest.mark.parametrize("oauth", [False, True], ids=["bearer", "oauth1"])
    async def test_the_owner_sees_playback_counts(self, analytics: Analytics, oauth: bool) -> None:
        """A bearer token stands for its user here (OAuth 2.0 user context), so the owner
        gets the private fields with either credential."""
        await seed_totals(analytics.studio.engine, analytics.video_id, **TOTALS)

        media = await _tweet_media(analytics, analytics.studio.admin, oauth=oauth)

        assert media["public_metrics"] == {"view_count": 25}
        assert media["non_public_metrics"] == PLAYBACK
        assert media["organic_metrics"] == {**PLAYBACK, "view_count": 25}

    @pytest.mark.parametrize("oauth", [False, True], ids=["bearer", "oauth1"])
    async def test_another_user_gets_them_left_out(self, analytics: Analytics, oauth: bool) -> None:
        """Not the owner: the private fields are absent, without an error; the public
        one stays. A member of the owner's studio account is no owner either."""
        await seed_totals(analytics.studio.engine, analytics.video_id, **TOTALS)

        for user in (analytics.studio.outsider, analytics.studio.full):
            media = await _tweet_media(analytics, user, oauth=oauth)

            assert media == {
                "media_key": analytics.video_key,
                "type": "video",
                "public_metrics": {"view_count": 25},
            }

    @pytest.mark.parametrize(
        ("age_days", "private"), [(29, True), (31, False)], ids=["29-days", "31-days"]
    )
    async def test_only_posts_of_the_last_30_days_have_them(
        self, analytics: Analytics, age_days: int, private: bool
    ) -> None:
        await seed_totals(analytics.studio.engine, analytics.video_id, **TOTALS)
        await age_post(
            analytics.studio.engine, int(analytics.post_id), utcnow() - timedelta(days=age_days)
        )

        media = await _tweet_media(analytics, analytics.studio.admin)

        assert media["public_metrics"] == {"view_count": 25}
        assert ("non_public_metrics" in media) is private
        assert ("organic_metrics" in media) is private

    async def test_a_newer_post_of_the_same_video_keeps_them(self, analytics: Analytics) -> None:
        """Media metrics add up over every post carrying the media; the newest post of
        the owner decides the 30 days."""
        studio = analytics.studio
        await seed_totals(studio.engine, analytics.video_id, **TOTALS)
        await age_post(studio.engine, int(analytics.post_id), utcnow() - timedelta(days=60))
        again = await post_status(
            studio.env.client, studio.admin.headers, "again", [str(analytics.video_id)]
        )
        assert again.status_code == 200, again.text

        media = await _tweet_media(analytics, studio.admin)

        assert media["non_public_metrics"] == PLAYBACK


class TestOtherAnswers:
    async def test_media_lookups_carry_them(self, analytics: Analytics) -> None:
        studio = analytics.studio
        await seed_totals(studio.engine, analytics.video_id, **TOTALS)
        client, key = studio.env.client, analytics.video_key

        one = await client.get(
            f"/2/media/{key}", params={"media.fields": ALL}, headers=studio.admin.headers
        )
        many = await client.get(
            "/2/media",
            params={"media_keys": f"{key},{studio.media_key}", "media.fields": ALL},
            headers=studio.outsider.headers,
        )

        assert one.status_code == 200, one.text
        assert one.json()["data"]["organic_metrics"] == {**PLAYBACK, "view_count": 25}
        assert many.status_code == 200, many.text
        [video] = many.json()["data"]  # the unposted photo is not the outsider's to see
        assert video == {"media_key": key, "type": "video", "public_metrics": {"view_count": 25}}

    async def test_a_tweet_list_counts_each_media_once(self, analytics: Analytics) -> None:
        studio = analytics.studio
        await seed_totals(studio.engine, analytics.video_id, **TOTALS)

        response = await studio.env.client.get(
            "/2/tweets",
            params={
                "ids": f"{analytics.post_id},{analytics.post_id}",
                "expansions": "attachments.media_keys",
                "media.fields": "public_metrics",
            },
            headers=studio.outsider.headers,
        )

        assert response.status_code == 200, response.text
        media = response.json()["includes"]["media"]
        assert {m["public_metrics"]["view_count"] for m in media} == {25}

    async def test_an_unknown_field_is_the_v2_400(self, analytics: Analytics) -> None:
        response = await analytics.env.client.get(
            f"/2/tweets/{analytics.post_id}",
            params={"expansions": "attachments.media_keys", "media.fields": "view_count"},
            headers=analytics.studio.admin.headers,
        )

        assert response.status_code == 400, response.text
        assert response.json()["title"] == "Invalid Request"


class TestQueries:
    async def test_one_totals_query_for_every_media_of_the_answer(
        self, analytics: Analytics, gif_file: Path
    ) -> None:
        """Two posts, two media: one read of the lifetime totals, one of owners and post
        times, whatever the number of media."""
        env, alice = analytics.env, analytics.studio.admin
        body = await processed(
            env, alice.headers, gif_file, media_type="image/gif", category="tweet_gif"
        )
        posted = await post_status(env.client, alice.headers, "loop", [body["media_id_string"]])
        await seed_totals(analytics.studio.engine, analytics.video_id, total_views=2)
        await seed_totals(analytics.studio.engine, int(body["media_id_string"]), total_views=9)
        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        event.listen(env.state.engine.sync_engine, "before_cursor_execute", seen)
        try:
            response = await env.client.get(
                "/2/tweets",
                params={
                    "ids": f"{analytics.post_id},{posted.json()['id_str']}",
                    "expansions": "attachments.media_keys",
                    "media.fields": ALL,
                },
                headers=alice.headers,
            )
        finally:
            event.remove(env.state.engine.sync_engine, "before_cursor_execute", seen)

        assert response.status_code == 200, response.text
        views = [m["public_metrics"]["view_count"] for m in response.json()["includes"]["media"]]
        assert views == [2, 9]
        assert sum("analytics_media_totals" in s for s in statements) == 1
        assert sum("max(posts.created_at)" in s for s in statements) == 1


class TestScenarios:
    async def test_replayed_events_give_the_hand_computed_counts(
        self, analytics: Analytics
    ) -> None:
        """Every scenario of tests/analytics/scenarios.py through the ingest endpoint and
        the rollup: the lifetime counts are the hand-computed ones."""
        events = scenarios.events_of(
            scenarios.SCENARIOS, media_key=analytics.video_key, base_ms=base_ms()
        )
        await replay(analytics, events)
        await analytics.roll_up()
        want = scenarios.expected_total(scenarios.SCENARIOS)
        playback = {
            "playback_0_count": want.starts,
            "playback_25_count": want.views_25,
            "playback_50_count": want.views_50,
            "playback_75_count": want.views_75,
            "playback_100_count": want.views_100,
        }

        owner = await _tweet_media(analytics, analytics.studio.admin)
        other = await _tweet_media(analytics, analytics.studio.outsider)

        assert owner["public_metrics"] == {"view_count": want.total_views}
        assert owner["non_public_metrics"] == playback
        assert owner["organic_metrics"] == {**playback, "view_count": want.total_views}
        assert other["public_metrics"] == {"view_count": want.total_views}
        assert want.total_views == 7  # the scenarios' own sum, by hand
