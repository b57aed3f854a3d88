"""What the library changes in the media platform: posting adds to it, its media never
expire, titles and descriptions reach the posts' media, and the trash can removes the
bytes while the posts stay and say their media is unavailable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.http.deps import get_clock
from app.jobs.sweeper import sweep_once
from app.storage import keys
from tests.conftest import Env, User
from tests.fixtures.entities import post_status
from tests.fixtures.studio import create_studio_account
from tests.studio.library_fixtures import add, error_code, library, upload_photo, upload_video


@pytest.fixture
async def account(env: Env, engine: AsyncEngine, alice: User) -> str:
    return await create_studio_account(engine, alice.id)


async def _items(env: Env, user: User, account: str) -> list[dict[str, Any]]:
    response = await env.client.get(library(account), params={"count": 50}, headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


class TestPostingAddsToTheLibrary:
    async def test_a_v11_post_adds_its_media_to_every_account_of_the_author(
        self, env: Env, engine: AsyncEngine, alice: User, account: str, png_file: Path,
        jpeg_file: Path,
    ) -> None:  # fmt: skip
        second = await create_studio_account(engine, alice.id, name="Second")
        photos = [await upload_photo(env, alice, p) for p in (png_file, jpeg_file)]

        posted = await post_status(
            env.client, alice.headers, "two photos", [p["media_id_string"] for p in photos]
        )
        again = await post_status(
            env.client, alice.headers, "again", [photos[0]["media_id_string"]]
        )

        assert posted.status_code == 200, posted.text
        assert again.status_code == 200, again.text
        for each in (account, second):
            items = await _items(env, alice, each)
            assert sorted(i["media_key"] for i in items) == sorted(p["media_key"] for p in photos)
            assert all(i["tweeted"] is True for i in items)

    async def test_a_v2_post_adds_too_and_an_item_already_there_stays_one(
        self, env: Env, alice: User, account: str, png_file: Path, mp4_file: Path
    ) -> None:
        video = await upload_video(env, alice, mp4_file)
        photo = await upload_photo(env, alice, png_file)
        added = await add(env, alice, account, photo["media_key"])
        assert added.json()["data"]["tweeted"] is False

        v2 = await env.client.post(
            "/2/tweets",
            json={"text": "a video", "media": {"media_ids": [video["media_id_string"]]}},
            headers=alice.headers,
        )
        v11 = await post_status(env.client, alice.headers, "a photo", [photo["media_id_string"]])

        assert v2.status_code == 201, v2.text
        assert v11.status_code == 200
        items = await _items(env, alice, account)
        assert [i["media_key"] for i in items] == [video["media_key"], photo["media_key"]]
        assert [i["tweeted"] for i in items] == [True, True]

    async def test_posts_of_a_user_without_an_account_add_nowhere(
        self, env: Env, alice: User, bob: User, account: str, png_file: Path
    ) -> None:
        photo = await upload_photo(env, bob, png_file)

        posted = await post_status(env.client, bob.headers, "bob's", [photo["media_id_string"]])

        assert posted.status_code == 200
        assert await _items(env, alice, account) == []


class TestNeverExpires:
    async def test_the_sweep_skips_library_media(
        self, env: Env, alice: User, account: str, png_file: Path, jpeg_file: Path
    ) -> None:
        kept = await upload_photo(env, alice, png_file)
        loose = await upload_photo(env, alice, jpeg_file)
        await add(env, alice, account, kept["media_key"])

        removed = await sweep_once(
            env.state.sessions, env.state.store, now=utcnow() + timedelta(days=30)
        )

        assert removed == 1  # the photo outside the library
        item = (await _items(env, alice, account))[0]
        assert item["media_key"] == kept["media_key"]
        assert (await env.client.get(item["media_url"])).status_code == 200
        gone = await env.client.get(
            "/1.1/media/upload.json",
            params={"command": "STATUS", "media_id": loose["media_id_string"]},
            headers=alice.headers,
        )
        assert gone.status_code in (400, 404)

    async def test_library_media_can_be_posted_long_after_upload(
        self, env: Env, alice: User, account: str, png_file: Path
    ) -> None:
        photo = await upload_photo(env, alice, png_file)
        await add(env, alice, account, photo["media_key"])
        later = utcnow() + timedelta(days=30)

        async def clock():  # type: ignore[no-untyped-def]
            return lambda: later

        env.app.dependency_overrides[get_clock] = clock
        posted = await post_status(env.client, alice.headers, "late", [photo["media_id_string"]])

        assert posted.status_code == 200, posted.text


class TestTitlesReachPosts:
    async def test_title_and_description_on_video_entities(
        self, env: Env, alice: User, account: str, mp4_file: Path, png_file: Path
    ) -> None:
        video = await upload_video(env, alice, mp4_file)
        await add(env, alice, account, video["media_key"], title="Buildings", description="at dusk")

        posted = await post_status(env.client, alice.headers, "watch", [video["media_id_string"]])
        shown = await env.client.get(
            "/1.1/statuses/show.json", params={"id": posted.json()["id_str"]}, headers=alice.headers
        )

        for status in (posted.json(), shown.json()):
            entity = status["extended_entities"]["media"][0]
            assert entity["additional_media_info"] == {
                "title": "Buildings",
                "description": "at dusk",
                "embeddable": True,
                "monetizable": False,
            }
            assert entity["ext_media_availability"] == {"status": "Available"}

    async def test_a_title_changed_later_shows_and_a_photo_has_none(
        self, env: Env, alice: User, account: str, gif_file: Path, png_file: Path
    ) -> None:
        gif = await upload_video(env, alice, gif_file, category="tweet_gif", media_type="image/gif")
        photo = await upload_photo(env, alice, png_file)
        gif_post = await post_status(env.client, alice.headers, "gif", [gif["media_id_string"]])
        photo_post = await post_status(env.client, alice.headers, "pic", [photo["media_id_string"]])
        await env.client.put(
            library(account, gif["media_key"]), params={"title": "Cat"}, headers=alice.headers
        )
        await env.client.put(
            library(account, photo["media_key"]), params={"title": "Ignored"}, headers=alice.headers
        )

        async def entity(post: Any) -> dict[str, Any]:
            shown = await env.client.get(
                "/1.1/statuses/show.json",
                params={"id": post.json()["id_str"]},
                headers=alice.headers,
            )
            found: dict[str, Any] = shown.json()["extended_entities"]["media"][0]
            return found

        gif_entity, photo_entity = await entity(gif_post), await entity(photo_post)
        assert gif_entity["additional_media_info"]["title"] == "Cat"
        assert gif_entity["additional_media_info"]["description"] is None
        assert "additional_media_info" not in photo_entity


class TestDelete:
    async def test_the_trash_can(
        self, env: Env, engine: AsyncEngine, alice: User, account: str, mp4_file: Path
    ) -> None:
        second = await create_studio_account(engine, alice.id, name="Second")
        video = await upload_video(env, alice, mp4_file)
        media_id = int(video["media_id_string"])
        posted = await post_status(
            env.client, alice.headers, "soon gone", [video["media_id_string"]]
        )
        post_id = posted.json()["id_str"]
        item = (await _items(env, alice, account))[0]
        urls = [item["media_url"], item["poster_media_url"]]
        assert [(await env.client.get(u)).status_code for u in urls] == [200, 200]
        assert await env.state.store.list(keys.variants_prefix(media_id))

        deleted = await env.client.delete(
            library(account, video["media_key"]), headers=alice.headers
        )

        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["data"]["deleted"] is True
        assert deleted.json()["data"]["media_key"] == video["media_key"]
        for each in (account, second):  # it left every library
            got = await env.client.get(library(each, video["media_key"]), headers=alice.headers)
            assert got.status_code == 404
            assert error_code(got) == "NOT_FOUND"
        assert await env.state.store.list(keys.variants_prefix(media_id)) == []
        assert await env.state.store.blob_size(keys.media(media_id)) is None
        assert [(await env.client.get(u)).status_code for u in urls] == [404, 404]

        shown = await env.client.get(
            "/1.1/statuses/show.json", params={"id": post_id}, headers=alice.headers
        )
        assert shown.status_code == 200
        entity = shown.json()["extended_entities"]["media"][0]
        assert entity["ext_media_availability"] == {"status": "Unavailable", "reason": "Deleted"}
        assert entity["media_key"] == video["media_key"]
        assert "media_url_https" not in entity
        assert "video_info" not in entity
        v2 = await env.client.get(
            f"/2/tweets/{post_id}",
            params={"expansions": "attachments.media_keys", "media.fields": "url,variants"},
            headers=alice.headers,
        )
        assert v2.status_code == 200
        assert v2.json()["includes"]["media"] == [
            {"media_key": video["media_key"], "type": "video"}
        ]
        page = await env.client.get(f"/alice/status/{post_id}")
        assert page.status_code == 200
        again = await post_status(env.client, alice.headers, "re-post", [video["media_id_string"]])
        assert again.status_code == 400

    async def test_someone_elses_media_only_leaves_the_library(
        self, env: Env, alice: User, bob: User, account: str, png_file: Path
    ) -> None:
        bobs = await upload_photo(env, bob, png_file, additional_owners=str(alice.id))
        item = (await add(env, alice, account, bobs["media_key"])).json()["data"]

        deleted = await env.client.delete(
            library(account, bobs["media_key"]), headers=alice.headers
        )
        twice = await env.client.delete(library(account, bobs["media_key"]), headers=alice.headers)

        assert deleted.status_code == 200
        assert deleted.json()["data"]["deleted"] is True
        assert twice.status_code == 404
        assert (await env.client.get(item["media_url"])).status_code == 200
        again = await add(env, alice, account, bobs["media_key"])
        assert again.status_code == 201
