"""Posting now, the posts list and previews over HTTP (Ads API §10), on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.http.deps import get_clock
from app.infra.db import make_sessionmaker
from app.models import Media
from tests.conftest import Env, User
from tests.fixtures.entities import photo, processed
from tests.studio.posts_support import Studio, error_code, library_photo, make_studio


@pytest.fixture
async def studio(env: Env, engine: AsyncEngine, alice: User) -> Studio:
    return await make_studio(env, engine, alice)


def later(days: int = 1) -> str:
    moment = utcnow() + timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:00Z")


async def post_now(studio: Studio, user: User | None = None, **params: Any) -> Any:
    return await studio.call("POST", "tweet", user, **params)


class TestPostNow:
    async def test_a_nullcast_post_by_the_full_user(self, studio: Studio) -> None:
        response = await post_now(studio, text="Promoted only", name="promo")

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["text"] == "Promoted only"
        assert data["user"]["screen_name"] == "alice"
        assert data["tweet_id"] == data["id_str"]
        assert (data["tweet_type"], data["nullcast"], data["name"]) == ("PUBLISHED", True, "promo")
        assert data["scheduled_at"] is None

    async def test_the_post_is_visible_through_v11_and_v2(self, studio: Studio) -> None:
        made = (await post_now(studio, text="seen everywhere")).json()["data"]

        v11 = await studio.env.client.get(
            "/1.1/statuses/show.json", params={"id": made["id_str"]}, headers=studio.owner.headers
        )
        v2 = await studio.env.client.get(
            f"/2/tweets/{made['id_str']}", headers=studio.owner.headers
        )

        assert v11.json()["text"] == "seen everywhere"
        assert v2.json()["data"]["text"] == "seen everywhere"

    async def test_nullcast_posts_stay_off_the_timeline_organic_ones_do_not(
        self, studio: Studio
    ) -> None:
        await post_now(studio, text="nullcast")
        await post_now(studio, text="organic", nullcast="false")

        timeline = await studio.env.client.get(
            "/1.1/statuses/user_timeline.json", headers=studio.owner.headers
        )

        assert [s["text"] for s in timeline.json()] == ["organic"]

    async def test_library_media_is_attached(self, studio: Studio, png_file: Path) -> None:
        key = await library_photo(studio, png_file)

        response = await post_now(studio, text="with photo", media_keys=key)

        media = response.json()["data"]["extended_entities"]["media"]
        assert [m["media_key"] for m in media] == [key]

    async def test_own_media_outside_the_library_is_attached(
        self, studio: Studio, png_file: Path
    ) -> None:
        media_id = await photo(studio.env.client, studio.owner.headers, png_file)

        response = await post_now(studio, text="fresh upload", media_keys=media_id)

        assert response.status_code == 200, response.text
        assert response.json()["data"]["extended_entities"]["media"][0]["id_str"] == media_id

    async def test_video_title_and_description_reach_the_post_and_the_library(
        self, studio: Studio, mp4_file: Path
    ) -> None:
        body = await processed(
            studio.env, studio.owner.headers, mp4_file, media_type="video/mp4",
            category="tweet_video",
        )  # fmt: skip
        key = body["media_key"]

        response = await post_now(
            studio, text="a clip", media_keys=key, video_title="Clip", video_description="A test"
        )
        item = await studio.call("GET", f"media_library/{key}")

        assert response.status_code == 200, response.text
        info = response.json()["data"]["extended_entities"]["media"][0]["additional_media_info"]
        assert (info["title"], info["description"]) == ("Clip", "A test")
        assert (item.json()["data"]["title"], item.json()["data"]["description"]) == (
            "Clip",
            "A test",
        )

    async def test_a_video_title_over_70_characters_posts_nothing(self, studio: Studio) -> None:
        response = await post_now(studio, text="titled", video_title="t" * 71)
        listed = await studio.call("GET", "tweets", tweet_type="PUBLISHED")

        assert error_code(response) == "INVALID_PARAMETER"
        assert listed.json()["data"] == []

    async def test_someone_elses_media_is_invalid_media(
        self, studio: Studio, bob: User, png_file: Path
    ) -> None:
        media_id = await photo(studio.env.client, bob.headers, png_file)

        response = await post_now(studio, text="not mine", media_keys=media_id)

        assert (response.status_code, error_code(response)) == (400, "INVALID_MEDIA")

    async def test_deleted_library_media_is_invalid_media(
        self, studio: Studio, engine: AsyncEngine, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        async with make_sessionmaker(engine)() as session:
            await session.execute(
                update(Media).where(Media.media_key == key).values(removed_at=utcnow())
            )
            await session.commit()

        response = await post_now(studio, text="gone", media_keys=key)

        assert error_code(response) == "INVALID_MEDIA"

    async def test_the_same_text_twice_is_duplicate_tweet(self, studio: Studio) -> None:
        await post_now(studio, text="once")

        response = await post_now(studio, text="once")

        assert (response.status_code, error_code(response)) == (400, "DUPLICATE_TWEET")

    async def test_without_text_or_media_is_missing_parameter(self, studio: Studio) -> None:
        response = await post_now(studio, name="nothing")

        assert error_code(response) == "MISSING_PARAMETER"

    async def test_limited_member_may_not_post(self, studio: Studio) -> None:
        response = await post_now(studio, studio.limited, text="no")

        assert (response.status_code, error_code(response)) == (403, "ACTION_NOT_ALLOWED")

    async def test_full_member_posts_as_the_full_user(self, studio: Studio) -> None:
        response = await post_now(studio, studio.full, text="for the account")

        assert response.json()["data"]["user"]["id_str"] == str(studio.owner.id)


class TestTweetsList:
    async def test_published_lists_nullcast_by_default_then_organic_and_all(
        self, studio: Studio
    ) -> None:
        await post_now(studio, text="n1")
        await post_now(studio, text="o1", nullcast="false")
        await post_now(studio, text="n2")

        def texts(body: Any) -> list[str]:
            return [t["text"] for t in body.json()["data"]]

        default = await studio.call("GET", "tweets", tweet_type="PUBLISHED")
        organic = await studio.call(
            "GET", "tweets", tweet_type="PUBLISHED", timeline_type="ORGANIC"
        )
        every = await studio.call("GET", "tweets", tweet_type="PUBLISHED", timeline_type="ALL")

        assert texts(default) == ["n2", "n1"]
        assert texts(organic) == ["o1"]
        assert texts(every) == ["n2", "o1", "n1"]
        assert default.json()["data"][0]["tweet_type"] == "PUBLISHED"

    async def test_published_pages_with_the_cursor(self, studio: Studio) -> None:
        for i in range(3):
            await post_now(studio, text=f"p{i}")

        first = (await studio.call("GET", "tweets", tweet_type="PUBLISHED", count="2")).json()
        rest = (
            await studio.call(
                "GET", "tweets", tweet_type="PUBLISHED", count="2", cursor=first["next_cursor"]
            )
        ).json()

        assert [t["text"] for t in first["data"] + rest["data"]] == ["p2", "p1", "p0"]
        assert rest["next_cursor"] is None

    async def test_tweet_ids_name_prefix_and_trim_user(self, studio: Studio) -> None:
        a = (await post_now(studio, text="a", name="Spring launch")).json()["data"]
        await post_now(studio, text="b", name="summer")
        c = (await post_now(studio, text="c", name="SPRING sale")).json()["data"]

        named = await studio.call("GET", "tweets", tweet_type="PUBLISHED", name="spring")
        by_id = await studio.call(
            "GET", "tweets", tweet_type="PUBLISHED", tweet_ids=a["id_str"], trim_user="true"
        )

        assert [t["id_str"] for t in named.json()["data"]] == [c["id_str"], a["id_str"]]
        assert [t["id_str"] for t in by_id.json()["data"]] == [a["id_str"]]
        assert by_id.json()["data"][0]["user"] == {
            "id": studio.owner.id,
            "id_str": str(studio.owner.id),
        }

    async def test_drafts_and_scheduled_as_post_like_objects(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        draft = (await studio.call("POST", "draft_tweets", text="d", media_keys=key)).json()
        when = later()
        planned = (
            await studio.call("POST", "scheduled_tweets", text="s", scheduled_at=when)
        ).json()

        drafts = (await studio.call("GET", "tweets", tweet_type="DRAFT")).json()["data"]
        scheduled = (await studio.call("GET", "tweets", tweet_type="SCHEDULED")).json()["data"]

        assert [(t["tweet_id"], t["tweet_type"]) for t in drafts] == [
            (draft["data"]["id"], "DRAFT")
        ]
        assert drafts[0]["user"]["screen_name"] == "alice"
        assert drafts[0]["extended_entities"]["media"][0]["media_key"] == key
        assert [(t["tweet_id"], t["scheduled_at"]) for t in scheduled] == [
            (planned["data"]["id"], when)
        ]
        assert scheduled[0]["nullcast"] is True

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({}, "MISSING_PARAMETER"),
            ({"tweet_type": "LIVE"}, "INVALID_PARAMETER"),
            ({"tweet_type": "PUBLISHED", "count": "1001"}, "INVALID_PARAMETER"),
            ({"tweet_type": "PUBLISHED", "timeline_type": "X"}, "INVALID_PARAMETER"),
            ({"tweet_type": "PUBLISHED", "cursor": "abc"}, "INVALID_PARAMETER"),
        ],
    )
    async def test_bad_parameters_are_400(
        self, studio: Studio, params: dict[str, str], code: str
    ) -> None:
        response = await studio.call("GET", "tweets", **params)

        assert (response.status_code, error_code(response)) == (400, code)


def _src(preview: str) -> str:
    match = re.fullmatch(r"<iframe class='tweet-preview' src='([^']+)'></iframe>", preview)
    assert match is not None, preview
    return match.group(1)


class TestPreviews:
    async def test_draft_preview_renders_text_author_and_thumbnail(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        text = "<script>alert(1)</script> & more"
        draft = (await studio.call("POST", "draft_tweets", text=text, media_keys=key)).json()

        response = await studio.call(
            "GET", "tweet_previews", tweet_ids=draft["data"]["id"], tweet_type="DRAFT"
        )
        body = response.json()
        src = _src(body["data"][0]["preview"])
        page = await studio.env.client.get(urlsplit(src).path)
        thumb = re.search(r'<img class="media photo" src="([^"]+)"', page.text)

        assert body["data_type"] == "tweet_previews"
        assert body["data"][0]["tweet_id"] == draft["data"]["id"]
        assert src.startswith("http://testserver/studio/v1/previews/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page.text
        assert "<script>" not in page.text
        assert "@alice" in page.text
        assert thumb is not None
        image = await studio.env.client.get(urlsplit(thumb.group(1).replace("&amp;", "&")).path)
        assert image.status_code == 200
        assert image.headers["content-type"].startswith("image/")

    async def test_scheduled_and_published_previews(self, studio: Studio) -> None:
        planned = (
            await studio.call("POST", "scheduled_tweets", text="later on", scheduled_at=later())
        ).json()["data"]
        posted = (await post_now(studio, text="out now")).json()["data"]

        scheduled = await studio.call(
            "GET", "tweet_previews", tweet_ids=planned["id"], tweet_type="SCHEDULED"
        )
        published = await studio.call(
            "GET", "tweet_previews", tweet_ids=posted["id_str"], tweet_type="PUBLISHED"
        )

        for response, text in ((scheduled, "later on"), (published, "out now")):
            src = _src(response.json()["data"][0]["preview"])
            page = await studio.env.client.get(urlsplit(src).path)
            assert text in page.text

    async def test_ids_not_of_the_type_get_no_preview(self, studio: Studio) -> None:
        planned = (
            await studio.call("POST", "scheduled_tweets", text="s", scheduled_at=later())
        ).json()["data"]
        draft = (await studio.call("POST", "draft_tweets", text="d")).json()["data"]

        response = await studio.call(
            "GET",
            "tweet_previews",
            tweet_ids=f"{planned['id']},{draft['id']},12345",
            tweet_type="DRAFT",
        )

        assert [p["tweet_id"] for p in response.json()["data"]] == [draft["id"]]

    async def test_a_tampered_or_expired_token_is_404(self, studio: Studio) -> None:
        draft = (await studio.call("POST", "draft_tweets", text="d")).json()["data"]
        response = await studio.call(
            "GET", "tweet_previews", tweet_ids=draft["id"], tweet_type="DRAFT"
        )
        path = urlsplit(_src(response.json()["data"][0]["preview"])).path
        tampered = path[:-1] + ("0" if path[-1] != "0" else "1")

        bad = await studio.env.client.get(tampered)

        async def clock() -> Callable[[], datetime]:
            return lambda: utcnow() + timedelta(days=2)

        studio.env.app.dependency_overrides[get_clock] = clock
        expired = await studio.env.client.get(path)

        assert (bad.status_code, error_code(bad)) == (404, "NOT_FOUND")
        assert expired.status_code == 404

    async def test_previews_of_another_account_are_not_given(
        self, studio: Studio, engine: AsyncEngine, bob: User
    ) -> None:
        other = await make_studio(studio.env, engine, bob)
        draft = (await other.call("POST", "draft_tweets", text="theirs")).json()["data"]

        response = await studio.call(
            "GET", "tweet_previews", tweet_ids=draft["id"], tweet_type="DRAFT"
        )

        assert response.json()["data"] == []

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"tweet_type": "DRAFT"}, "MISSING_PARAMETER"),
            ({"tweet_ids": "1"}, "MISSING_PARAMETER"),
            ({"tweet_ids": "1", "tweet_type": "OTHER"}, "INVALID_PARAMETER"),
            ({"tweet_ids": ",".join(["1"] * 201), "tweet_type": "DRAFT"}, "INVALID_PARAMETER"),
            ({"tweet_ids": "x", "tweet_type": "DRAFT"}, "INVALID_PARAMETER"),
        ],
    )
    async def test_bad_parameters_are_400(
        self, studio: Studio, params: dict[str, str], code: str
    ) -> None:
        response = await studio.call("GET", "tweet_previews", **params)

        assert (response.status_code, error_code(response)) == (400, code)

    async def test_outsider_and_anonymous_get_no_previews(self, studio: Studio) -> None:
        outsider = await studio.call(
            "GET", "tweet_previews", studio.outsider, tweet_ids="1", tweet_type="DRAFT"
        )
        anonymous = await studio.env.client.get(
            studio.url("tweet_previews"), params={"tweet_ids": "1", "tweet_type": "DRAFT"}
        )

        assert (outsider.status_code, error_code(outsider)) == (403, "NOT_FOUND")
        assert anonymous.status_code == 401
