from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from app.core.clock import utcnow
from app.http.deps import get_clock
from app.jobs.sweeper import sweep_once
from tests.conftest import Env, User
from tests.fixtures.entities import photo, post_status, processed
from tests.fixtures.protocol import init


@pytest.fixture
async def photos(env: Env, alice: User, png_file: Path, jpeg_file: Path) -> list[str]:
    return [
        await photo(env.client, alice.headers, png_file if i % 2 else jpeg_file) for i in range(5)
    ]


@pytest.fixture
async def gif(env: Env, alice: User, gif_file: Path) -> str:
    body = await processed(
        env, alice.headers, gif_file, media_type="image/gif", category="tweet_gif"
    )
    return str(body["media_id_string"])


@pytest.fixture
async def video(env: Env, alice: User, mp4_file: Path) -> str:
    body = await processed(
        env, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
    )
    return str(body["media_id_string"])


def _code(response: object) -> int:
    return int(response.json()["errors"][0]["code"])  # type: ignore[attr-defined]


class TestAttachmentMatrix:
    @pytest.mark.parametrize("count", [1, 2, 3, 4])
    async def test_one_to_four_photos(
        self, env: Env, alice: User, photos: list[str], count: int
    ) -> None:
        response = await post_status(env.client, alice.headers, f"{count} photos", photos[:count])

        assert response.status_code == 200, response.text
        status = response.json()
        assert [m["id_str"] for m in status["extended_entities"]["media"]] == photos[:count]
        assert {m["type"] for m in status["extended_entities"]["media"]} == {"photo"}
        assert len(status["entities"]["media"]) == 1
        assert set(status["entities"]["media"][0]["sizes"]) >= {"thumb", "small", "medium", "large"}
        assert parsedate_to_datetime(status["created_at"]).tzinfo is not None

    async def test_five_photos_are_refused(self, env: Env, alice: User, photos: list[str]) -> None:
        response = await post_status(env.client, alice.headers, "too many", photos)

        assert response.status_code == 400
        assert _code(response) == 324

    async def test_gif_alone_is_an_animated_gif(self, env: Env, alice: User, gif: str) -> None:
        response = await post_status(env.client, alice.headers, "a gif", [gif])

        media = response.json()["extended_entities"]["media"][0]
        assert media["type"] == "animated_gif"
        assert media["video_info"]["variants"][0]["bitrate"] == 0
        assert response.json()["entities"]["media"][0]["type"] == "photo"

    async def test_gif_with_a_photo_is_323(
        self, env: Env, alice: User, gif: str, photos: list[str]
    ) -> None:
        response = await post_status(env.client, alice.headers, "mixed", [photos[0], gif])

        assert response.status_code == 400
        assert _code(response) == 323

    async def test_video_alone(self, env: Env, alice: User, video: str) -> None:
        response = await post_status(env.client, alice.headers, "a video", [video])

        media = response.json()["extended_entities"]["media"][0]
        assert media["type"] == "video"
        assert media["video_info"]["duration_millis"] > 0
        assert any(v["content_type"] == "video/mp4" for v in media["video_info"]["variants"])

    async def test_video_with_a_photo_is_386(
        self, env: Env, alice: User, video: str, photos: list[str]
    ) -> None:
        response = await post_status(env.client, alice.headers, "mixed", [video, photos[0]])

        assert response.status_code == 403
        assert _code(response) == 386

    async def test_pending_media_is_324(self, env: Env, alice: User, mp4_file: Path) -> None:
        from tests.fixtures.protocol import upload_file

        body = await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )

        response = await post_status(
            env.client, alice.headers, "too soon", [body["media_id_string"]]
        )

        assert _code(response) == 324

    async def test_failed_media_is_324(
        self, env: Env, alice: User, mp4_file: Path, tmp_path: Path
    ) -> None:
        broken = tmp_path / "broken.mp4"
        broken.write_bytes(mp4_file.read_bytes()[:3000])
        body = await processed(
            env, alice.headers, broken, media_type="video/mp4", category="tweet_video"
        )

        response = await post_status(env.client, alice.headers, "broken", [body["media_id_string"]])

        assert _code(response) == 324

    async def test_expired_media_is_324(self, env: Env, alice: User, photos: list[str]) -> None:
        later = utcnow() + timedelta(days=2)

        async def clock():  # type: ignore[no-untyped-def]
            return lambda: later

        env.app.dependency_overrides[get_clock] = clock
        response = await post_status(env.client, alice.headers, "stale", photos[:1])

        assert _code(response) == 324

    async def test_someone_elses_media_is_324(self, env: Env, bob: User, photos: list[str]) -> None:
        """As for an id never issued (tests/http/test_visibility_attach.py)."""
        response = await post_status(env.client, bob.headers, "not mine", photos[:1])

        assert response.status_code == 400
        assert _code(response) == 324

    async def test_additional_owner_may_post_it(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        shared = await photo(env.client, alice.headers, png_file, additional_owners=str(bob.id))

        response = await post_status(env.client, bob.headers, "uploaded by alice", [shared])

        assert response.status_code == 200
        assert response.json()["user"]["id"] == bob.id

    async def test_attached_media_no_longer_expires(
        self, env: Env, alice: User, photos: list[str]
    ) -> None:
        await post_status(env.client, alice.headers, "keep it", photos[:1])

        removed = await sweep_once(
            env.state.sessions, env.state.store, now=utcnow() + timedelta(days=30)
        )

        assert removed == 4  # the four photos never posted
        shown = await env.client.get("/1.1/statuses/user_timeline.json", headers=alice.headers)
        assert shown.json()[0]["extended_entities"]["media"][0]["id_str"] == photos[0]


class TestText:
    @pytest.mark.parametrize(
        ("text", "ok"),
        [
            ("a" * 280, True),
            ("a" * 281, False),
            ("あ" * 140, True),
            ("あ" * 141, False),
            ("https://example.com/" + "x" * 300 + " " + "a" * 256, True),  # a URL counts 23
            ("https://example.com/x " + "a" * 258, False),
        ],
    )
    async def test_weighted_length(self, env: Env, alice: User, text: str, ok: bool) -> None:
        response = await post_status(env.client, alice.headers, text, [])

        if ok:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 403
            assert _code(response) == 186

    async def test_duplicate_status_is_187(self, env: Env, alice: User) -> None:
        first = await post_status(env.client, alice.headers, "same words", [])

        second = await post_status(env.client, alice.headers, "same words", [])

        assert first.status_code == 200
        assert second.status_code == 403
        assert _code(second) == 187

    async def test_empty_status_without_media_is_refused(self, env: Env, alice: User) -> None:
        response = await env.client.post("/1.1/statuses/update.json", headers=alice.headers)

        assert response.status_code == 400

    async def test_parameters_in_the_body_work_too(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            "/1.1/statuses/update.json",
            data={"status": "from the body", "trim_user": "false", "tweet_mode": "extended"},
            headers=alice.headers,
        )

        assert response.json()["text"] == "from the body"


class TestAltText:
    async def test_alt_text_round_trip_in_both_shapes(
        self, env: Env, alice: User, photos: list[str]
    ) -> None:
        created = await env.client.post(
            "/1.1/media/metadata/create.json",
            content=f'{{"media_id": {photos[0]}, "alt_text": {{"text": "a red square"}}}}',
            headers=alice.headers,  # no Content-Type at all, as twython sends it
        )
        posted = await post_status(env.client, alice.headers, "described", photos[:1])
        status_id = posted.json()["id_str"]

        shown = await env.client.get(
            "/1.1/statuses/show.json",
            params={"id": status_id, "include_ext_alt_text": "true"},
            headers=alice.headers,
        )
        v2 = await env.client.get(
            f"/2/tweets/{status_id}",
            params={"expansions": "attachments.media_keys", "media.fields": "alt_text,url"},
            headers=alice.headers,
        )

        assert created.status_code == 204
        assert created.content == b""
        assert shown.json()["extended_entities"]["media"][0]["ext_alt_text"] == "a red square"
        assert v2.json()["includes"]["media"][0]["alt_text"] == "a red square"

    async def test_alt_text_over_1000_characters_is_refused(
        self, env: Env, alice: User, photos: list[str]
    ) -> None:
        response = await env.client.post(
            "/2/media/metadata",
            json={"id": photos[0], "metadata": {"alt_text": {"text": "x" * 1001}}},
            headers=alice.headers,
        )

        assert response.status_code == 400

    async def test_v2_metadata_sets_alt_text(
        self, env: Env, alice: User, photos: list[str]
    ) -> None:
        response = await env.client.post(
            "/2/media/metadata",
            json={"id": photos[0], "metadata": {"alt_text": {"text": "hello"}}},
            headers=alice.headers,
        )

        assert response.json() == {
            "data": {"id": photos[0], "associated_metadata": {"alt_text": {"text": "hello"}}}
        }


class TestV2Tweets:
    async def test_create_get_delete(self, env: Env, alice: User, video: str) -> None:
        created = await env.client.post(
            "/2/tweets", json={"media": {"media_ids": [video]}}, headers=alice.headers
        )
        tweet_id = created.json()["data"]["id"]
        fetched = await env.client.get(
            f"/2/tweets/{tweet_id}",
            params={"expansions": "attachments.media_keys", "media.fields": "variants,duration_ms"},
            headers=alice.headers,
        )
        media_key = fetched.json()["includes"]["media"][0]["media_key"]
        media = await env.client.get(f"/2/media/{media_key}", headers=alice.headers)
        deleted = await env.client.delete(f"/2/tweets/{tweet_id}", headers=alice.headers)
        gone = await env.client.get(f"/2/tweets/{tweet_id}", headers=alice.headers)

        assert created.status_code == 201
        assert created.headers["location"].endswith(f"/2/tweets/{tweet_id}")
        assert set(created.json()["data"]) == {"id", "text", "edit_history_tweet_ids"}
        assert fetched.json()["data"]["attachments"]["media_keys"] == [f"7_{video}"]
        assert fetched.json()["includes"]["media"][0]["duration_ms"] > 0
        assert media.json()["data"]["type"] == "video"
        assert deleted.json() == {"data": {"deleted": True}}
        assert gone.status_code == 404

    async def test_lookup_many_media_keys(self, env: Env, alice: User, photos: list[str]) -> None:
        keys = ",".join(f"3_{m}" for m in photos[:3])

        response = await env.client.get(
            "/2/media", params={"media_keys": keys, "media.fields": "url,width"},
            headers=alice.headers,
        )  # fmt: skip

        assert [m["media_key"] for m in response.json()["data"]] == keys.split(",")
        assert all("url" in m and "width" in m for m in response.json()["data"])

    async def test_foreign_media_is_refused(self, env: Env, bob: User, photos: list[str]) -> None:
        response = await env.client.post(
            "/2/tweets", json={"text": "hi", "media": {"media_ids": photos[:1]}},
            headers=bob.headers,
        )  # fmt: skip

        assert response.status_code == 400
        problem = response.json()
        assert problem["type"] == "https://api.twitter.com/2/problems/invalid-request"
        assert problem["errors"][0]["message"] == "Your media IDs are invalid."
        assert "media.media_ids" in problem["errors"][0]["parameters"]

    async def test_someone_else_cannot_delete(self, env: Env, alice: User, bob: User) -> None:
        created = await env.client.post("/2/tweets", json={"text": "mine"}, headers=alice.headers)

        response = await env.client.delete(
            f"/2/tweets/{created.json()['data']['id']}", headers=bob.headers
        )

        assert response.status_code == 403


class TestRateLimits:
    async def test_429_with_headers_after_the_limit(self, env: Env, alice: User) -> None:
        env.state.settings.rate_limits["statuses/update"] = {"user": (2, 3600)}

        first = await post_status(env.client, alice.headers, "one", [])
        second = await post_status(env.client, alice.headers, "two", [])
        third = await post_status(env.client, alice.headers, "three", [])

        assert first.headers["x-rate-limit-limit"] == "2"
        assert first.headers["x-rate-limit-remaining"] == "1"
        assert second.headers["x-rate-limit-remaining"] == "0"
        assert third.status_code == 429
        assert third.json()["errors"][0]["code"] == 88
        assert third.headers["x-rate-limit-remaining"] == "0"
        assert int(third.headers["x-rate-limit-reset"]) > utcnow().timestamp()

    async def test_limits_are_per_user(self, env: Env, alice: User, bob: User) -> None:
        env.state.settings.rate_limits["statuses/update"] = {"user": (1, 3600)}

        await post_status(env.client, alice.headers, "alice", [])
        response = await post_status(env.client, bob.headers, "bob", [])

        assert response.status_code == 200

    async def test_init_rejects_nothing_unrelated(self, env: Env, alice: User) -> None:
        # INIT has a window of its own (media/upload:INIT): a spent statuses/update window
        # does not refuse it, and its headers are INIT's.
        env.state.settings.rate_limits["statuses/update"] = {"user": (1, 3600)}
        await post_status(env.client, alice.headers, "one", [])

        response = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")

        assert response.status_code == 202
        assert response.headers["x-rate-limit-limit"] == "1875"
