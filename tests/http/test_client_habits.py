"""What real clients do by habit, over plain HTTP: GIFs on the simple upload,
``statuses_count`` after posting, the ``/i/status`` link and the ``expanded_url`` of
media entities, and which scheme ``media_url_https`` carries."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env, User
from tests.fixtures.entities import photo, post_status
from tests.fixtures.media import make_animated_gif
from tests.fixtures.protocol import MIB, URL
from tests.pipeline.conftest import FAST


@pytest.fixture
async def env(env: Env) -> Env:
    env.state.policy = replace(env.state.policy, processing=FAST)
    return env


@pytest.fixture(scope="session")
def animated_gif(media_dir: Path) -> Path:
    return make_animated_gif(media_dir / "habits-anim.gif")


async def _simple(env: Env, user: User, path: Path, category: str | None = None) -> Any:
    data = {"media_category": category} if category else {}
    return await env.client.post(
        URL, data=data, files={"media": (path.name, path.read_bytes())}, headers=user.headers
    )


async def _post(env: Env, user: User, text: str, media_ids: list[str]) -> dict[str, Any]:
    response = await post_status(env.client, user.headers, text, media_ids)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestGifOnTheSimpleUpload:
    async def test_tweet_gif_is_taken_and_posted_as_an_animated_gif(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        response = await _simple(env, alice, animated_gif, "tweet_gif")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["media_key"] == f"16_{body['media_id']}"
        assert body["image"] == {"image_type": "image/gif", "w": 64, "h": 48}
        assert body["size"] == animated_gif.stat().st_size
        status = await _post(env, alice, "a gif", [body["media_id_string"]])
        [entity] = status["extended_entities"]["media"]
        assert entity["type"] == "animated_gif"
        [mp4] = entity["video_info"]["variants"]
        assert mp4["content_type"] == "video/mp4"
        assert mp4["bitrate"] == 0
        served = await env.client.get(mp4["url"])
        assert served.status_code == 200
        assert served.content[4:8] == b"ftyp"

    async def test_the_v2_one_shot_upload_takes_a_tweet_gif_too(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        media = base64.b64encode(animated_gif.read_bytes()).decode()

        response = await env.client.post(
            "/2/media/upload",
            json={"media": media, "media_category": "tweet_gif"},
            headers=alice.headers,
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["media_key"] == f"16_{data['id']}"
        assert data["image"] == {"image_type": "image/gif", "w": 64, "h": 48}

    async def test_a_gif_over_5_mib_is_code_324_even_with_tweet_gif(
        self, env: Env, alice: User
    ) -> None:
        big = b"GIF89a" + bytes(5 * MIB)

        response = await env.client.post(
            URL,
            data={"media_category": "tweet_gif"},
            files={"media": ("big.gif", big)},
            headers=alice.headers,
        )

        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert (error["code"], error["message"]) == (
            324,
            "Image file size must be <= 5242880 bytes",
        )
        assert not [p for p in (env.data_dir / "media").rglob("*") if p.is_file()]

    async def test_tweet_gif_takes_gifs_only(self, env: Env, alice: User, png_file: Path) -> None:
        response = await _simple(env, alice, png_file, "tweet_gif")

        assert response.status_code == 400
        assert "GIFs only" in response.json()["error"]
        assert not [p for p in (env.data_dir / "media").rglob("*") if p.is_file()]

    @pytest.mark.parametrize(
        ("category", "key_prefix", "posted_as"),
        [(None, None, "animated_gif"), ("tweet_image", "3_", "photo"), ("dm_gif", "16_", None)],
    )
    async def test_what_the_category_makes_of_an_animated_gif(
        self,
        env: Env,
        alice: User,
        animated_gif: Path,
        category: str | None,
        key_prefix: str | None,
        posted_as: str | None,
    ) -> None:
        response = await _simple(env, alice, animated_gif, category)

        body = response.json()
        assert body["image"]["image_type"] == "image/gif"
        # media_key only with a category (spec §3)
        assert body.get("media_key") == (key_prefix and f"{key_prefix}{body['media_id']}")
        if posted_as is not None:
            status = await _post(env, alice, f"as {posted_as}", [body["media_id_string"]])
            assert status["extended_entities"]["media"][0]["type"] == posted_as

    async def test_video_categories_still_need_the_chunked_upload(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        response = await _simple(env, alice, animated_gif, "tweet_video")

        assert response.status_code == 400
        assert "chunked upload for video" in response.json()["error"]


async def _statuses_count(env: Env, user: User) -> int:
    shown = await env.client.get(
        "/1.1/users/show.json", params={"user_id": str(user.id)}, headers=user.headers
    )
    assert shown.status_code == 200, shown.text
    count: int = shown.json()["statuses_count"]
    return count


class TestStatusesCount:
    async def test_counts_posts_and_uncounts_destroyed_ones(
        self, env: Env, alice: User, bob: User
    ) -> None:
        assert await _statuses_count(env, alice) == 0

        first = await _post(env, alice, "one", [])
        second = await _post(env, alice, "two", [])

        assert await _statuses_count(env, alice) == 2
        assert second["user"]["statuses_count"] == 2
        assert await _statuses_count(env, bob) == 0
        by_name = await env.client.get(
            "/1.1/users/show.json", params={"screen_name": "ALICE"}, headers=bob.headers
        )
        assert by_name.json()["statuses_count"] == 2
        destroyed = await env.client.post(
            f"/1.1/statuses/destroy/{first['id_str']}.json", headers=alice.headers
        )
        assert destroyed.status_code == 200, destroyed.text
        assert await _statuses_count(env, alice) == 1
        me = await env.client.get("/1.1/account/verify_credentials.json", headers=alice.headers)
        assert (me.json()["id_str"], me.json()["statuses_count"]) == (str(alice.id), 1)


class TestStatusLinks:
    async def test_the_link_in_the_text_redirects_to_a_page_of_the_post(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        media_id = await photo(env.client, alice.headers, png_file)
        status = await _post(env, alice, "look <here> & there", [media_id])
        link = status["text"].rsplit(" ", 1)[-1]
        assert link == f"http://testserver/i/status/{status['id_str']}"

        redirect = await env.client.get(link)

        assert redirect.status_code == 302
        page_url = redirect.headers["location"]
        assert page_url == f"http://testserver/alice/status/{status['id_str']}"
        page = await env.client.get(page_url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "look &lt;here&gt; &amp; there" in page.text
        assert "<here>" not in page.text
        entity = status["extended_entities"]["media"][0]
        assert f'src="{entity["media_url_https"]}"' in page.text

    async def test_expanded_url_of_a_media_entity_answers_the_page(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        media_id = await photo(env.client, alice.headers, png_file)
        status = await _post(env, alice, "expanded", [media_id])
        entity = status["extended_entities"]["media"][0]
        assert entity["url"] == status["text"].rsplit(" ", 1)[-1]

        page = await env.client.get(entity["expanded_url"])

        assert page.status_code == 200, page.text
        assert f'data-id="{status["id_str"]}"' in page.text

    async def test_a_wrong_screen_name_redirects_to_the_author(self, env: Env, alice: User) -> None:
        status = await _post(env, alice, "mine", [])

        found = await env.client.get(f"/bob/status/{status['id_str']}")

        assert found.status_code == 302
        assert found.headers["location"].endswith(f"/alice/status/{status['id_str']}")

    @pytest.mark.parametrize(
        "path",
        [
            "/i/status/123",
            "/i/status/9223372036854775808",
            "/i/status/١٢٣",
            "/i/status/abc",
            "/alice/status/123",
            "/alice/status/123/photo/1",
        ],
    )
    async def test_unknown_or_malformed_ids_are_404_code_144(
        self, env: Env, alice: User, path: str
    ) -> None:
        response = await env.client.get(path)

        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == 144

    async def test_a_destroyed_post_is_404(self, env: Env, alice: User) -> None:
        status = await _post(env, alice, "short-lived", [])
        await env.client.post(
            f"/1.1/statuses/destroy/{status['id_str']}.json", headers=alice.headers
        )

        for path in (f"/i/status/{status['id_str']}", f"/alice/status/{status['id_str']}"):
            response = await env.client.get(path)
            assert response.status_code == 404, path

    async def test_a_bad_media_position_is_404(self, env: Env, alice: User) -> None:
        status = await _post(env, alice, "no such photo", [])

        response = await env.client.get(f"/alice/status/{status['id_str']}/photo/9")

        assert response.status_code == 404


class TestMediaUrlScheme:
    async def test_plain_http_without_a_public_url_keeps_the_request_s_scheme(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        media_id = await photo(env.client, alice.headers, png_file)
        status = await _post(env, alice, "over http", [media_id])

        entity = status["extended_entities"]["media"][0]
        assert entity["media_url_https"].startswith("http://testserver/media/")
        assert (await env.client.get(entity["media_url_https"])).status_code == 200

    async def test_an_https_public_base_url_is_used_for_every_link(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        settings = env.state.settings.model_copy(
            update={"public_base_url": "https://media.example.com/"}
        )
        env.state.settings = settings
        media_id = await photo(env.client, alice.headers, png_file)

        status = await _post(env, alice, "behind a proxy", [media_id])

        entity = status["extended_entities"]["media"][0]
        assert entity["media_url_https"].startswith("https://media.example.com/media/")
        assert entity["media_url"] == entity["media_url_https"]
        assert entity["expanded_url"].startswith("https://media.example.com/alice/status/")
        assert status["text"].endswith(f"https://media.example.com/i/status/{status['id_str']}")
        local = entity["media_url_https"].replace("https://media.example.com", "")
        assert (await env.client.get(local)).status_code == 200

    def test_the_setting_refuses_a_url_that_is_not_http(self) -> None:
        from pydantic import ValidationError

        from app.config import Settings

        with pytest.raises(ValidationError):
            Settings(public_base_url="ftp://media.example.com")
