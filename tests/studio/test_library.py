"""The media library endpoints (Ads API §7) over raw HTTP: the object's real values,
the limits and errors, who may add what, and the roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.runner import Runner
from tests.conftest import Env, User, create_user
from tests.fixtures.protocol import upload_file
from tests.fixtures.studio import create_studio_account, grant
from tests.studio.library_fixtures import add, error_code, library, upload_photo, upload_video


@pytest.fixture
async def account(env: Env, engine: AsyncEngine, alice: User) -> str:
    return await create_studio_account(engine, alice.id)


@pytest.fixture
async def image(env: Env, alice: User, png_file: Path) -> dict[str, Any]:
    return await upload_photo(env, alice, png_file)


class TestAdd:
    async def test_an_image_with_its_real_values(
        self, env: Env, alice: User, account: str, image: dict[str, Any]
    ) -> None:
        response = await add(
            env, alice, account, image["media_key"], name="Latte", file_name="latte.png"
        )

        assert response.status_code == 201, response.text
        item = response.json()["data"]
        assert item["media_key"] == image["media_key"]
        assert item["media_id"] == image["media_id_string"]
        assert item["media_category"] == "TWEET_IMAGE"
        assert item["media_type"] == "IMAGE"
        assert item["media_status"] == "TRANSCODE_COMPLETED"
        assert (item["name"], item["file_name"], item["title"]) == ("Latte", "latte.png", None)
        assert item["tweeted"] is False
        assert item["deleted"] is False
        assert item["created_at"].endswith("Z")
        assert "duration" not in item
        assert "aspect_ratio" not in item
        served = await env.client.get(item["media_url"])
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("image/")

    async def test_a_video_with_duration_aspect_ratio_and_poster(
        self, env: Env, alice: User, account: str, mp4_file: Path
    ) -> None:
        video = await upload_video(env, alice, mp4_file, category="amplify_video")

        response = await add(env, alice, account, video["media_key"], title="Buildings")

        item = response.json()["data"]
        assert item["media_key"].startswith("13_")
        assert item["media_category"] == "AMPLIFY_VIDEO"
        assert item["media_type"] == "VIDEO"
        assert 1500 <= item["duration"] <= 2500  # a 2 s clip
        assert item["aspect_ratio"] == "4:3"  # 320x240
        assert item["title"] == "Buildings"
        assert item["description"] is None
        assert item["poster_media_key"] is None
        poster = await env.client.get(item["poster_media_url"])
        assert poster.status_code == 200
        assert poster.headers["content-type"] == "image/jpeg"
        served = await env.client.get(item["media_url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "video/mp4"

    async def test_a_video_still_processing_is_transcoding(
        self, env: Env, alice: User, account: str, mp4_file: Path
    ) -> None:
        video = await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )

        pending = (await add(env, alice, account, video["media_key"])).json()["data"]
        runner = Runner(env.state.sessions, env.state.store, env.state.policy)
        while await runner.run_once():
            pass
        done = await env.client.get(library(account, video["media_key"]), headers=alice.headers)

        assert pending["media_status"] == "TRANSCODING"
        assert pending["media_url"] is None
        assert pending["poster_media_url"] is None
        assert done.json()["data"]["media_status"] == "TRANSCODE_COMPLETED"
        assert (await env.client.get(done.json()["data"]["media_url"])).status_code == 200

    async def test_a_gif_has_no_duration(
        self, env: Env, alice: User, account: str, gif_file: Path
    ) -> None:
        gif = await upload_video(env, alice, gif_file, category="tweet_gif", media_type="image/gif")

        item = (await add(env, alice, account, gif["media_key"])).json()["data"]

        assert (item["media_type"], item["media_category"]) == ("GIF", "TWEET_GIF")
        assert item["duration"] is None
        assert item["aspect_ratio"] == "4:3"

    async def test_adding_twice_answers_the_existing_item(
        self, env: Env, alice: User, account: str, image: dict[str, Any]
    ) -> None:
        first = await add(env, alice, account, image["media_key"], name="one")
        again = await add(env, alice, account, image["media_key"], name="two")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["data"] == first.json()["data"]
        listed = await env.client.get(library(account), headers=alice.headers)
        assert len(listed.json()["data"]) == 1

    async def test_a_numeric_id_with_its_category(
        self, env: Env, alice: User, account: str, image: dict[str, Any]
    ) -> None:
        media_id = image["media_id_string"]
        bare = await add(env, alice, account, media_id)
        wrong = await add(env, alice, account, media_id, media_category="TWEET_VIDEO")
        right = await add(env, alice, account, media_id, media_category="TWEET_IMAGE")

        assert bare.status_code == 400
        assert error_code(bare) == "MISSING_PARAMETER"
        assert wrong.status_code == 400
        assert error_code(wrong) == "INVALID_MEDIA"
        assert right.status_code == 201
        assert right.json()["data"]["media_key"] == image["media_key"]

    @pytest.mark.parametrize("media_id", ["9" * 20, "9223372036854775808", "0", "３", "-1"])
    async def test_an_impossible_media_id_is_invalid_media(
        self, env: Env, alice: User, account: str, media_id: str
    ) -> None:
        response = await add(env, alice, account, media_id, media_category="TWEET_IMAGE")

        assert response.status_code == 400
        assert error_code(response) == "INVALID_MEDIA"

    async def test_media_key_is_required(self, env: Env, alice: User, account: str) -> None:
        response = await env.client.post(library(account), headers=alice.headers)

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "code": "MISSING_PARAMETER",
                "message": '"media_key" is a required parameter',
                "parameter": "media_key",
            }
        ]

    @pytest.mark.parametrize("key", ["3_999999", "nonsense", "3_", "99_1", "３_1", "3_" + "9" * 30])
    async def test_an_unknown_key_is_invalid_media(
        self, env: Env, alice: User, account: str, key: str
    ) -> None:
        response = await add(env, alice, account, key)

        assert response.status_code == 400
        assert error_code(response) == "INVALID_MEDIA"
        assert response.json()["errors"][0]["message"] == f"Invalid media key: {key}"

    async def test_someone_elses_media_is_invalid_media(
        self, env: Env, alice: User, bob: User, account: str, png_file: Path
    ) -> None:
        bobs = await upload_photo(env, bob, png_file)

        response = await add(env, alice, account, bobs["media_key"])

        assert response.status_code == 400
        assert error_code(response) == "INVALID_MEDIA"

    async def test_a_members_upload_naming_the_owner_in_additional_owners(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User, account: str, png_file: Path
    ) -> None:
        await grant(engine, account, bob.id, "limited")
        own = await upload_photo(env, bob, png_file)
        shared = await upload_photo(env, bob, png_file, additional_owners=str(alice.id))

        refused = await add(env, bob, account, own["media_key"])
        added = await add(env, bob, account, shared["media_key"])

        assert refused.status_code == 400
        assert error_code(refused) == "INVALID_MEDIA"
        assert added.status_code == 201, added.text

    @pytest.mark.parametrize(
        ("field", "limit"), [("name", 100), ("title", 70), ("description", 200), ("file_name", 255)]
    )
    async def test_field_limits(
        self, env: Env, alice: User, account: str, image: dict[str, Any], field: str, limit: int
    ) -> None:
        over = await add(env, alice, account, image["media_key"], **{field: "x" * (limit + 1)})
        at = await add(env, alice, account, image["media_key"], **{field: "x" * limit})

        assert over.status_code == 400
        assert error_code(over) == "INVALID_PARAMETER"
        assert over.json()["errors"][0]["parameter"] == field
        assert at.status_code == 201
        assert at.json()["data"][field] == "x" * limit

    async def test_a_dm_upload_cannot_enter(
        self, env: Env, alice: User, account: str, png_file: Path
    ) -> None:
        dm = await upload_photo(env, alice, png_file, media_category="dm_image")

        response = await add(env, alice, account, dm["media_key"])

        assert response.status_code == 400
        assert error_code(response) == "INVALID_MEDIA"


class TestGetAndUpdate:
    async def test_get_one_and_404_outside_the_library(
        self, env: Env, alice: User, account: str, image: dict[str, Any], png_file: Path
    ) -> None:
        await add(env, alice, account, image["media_key"])
        other = await upload_photo(env, alice, png_file)

        found = await env.client.get(library(account, image["media_key"]), headers=alice.headers)
        missing = await env.client.get(library(account, other["media_key"]), headers=alice.headers)

        assert found.status_code == 200
        assert found.json()["data"]["media_key"] == image["media_key"]
        assert found.json()["request"]["params"]["media_key"] == image["media_key"]
        assert missing.status_code == 404
        assert error_code(missing) == "NOT_FOUND"

    @pytest.mark.parametrize("key", ["3_1%00", "%E2%80%8B", "x" * 300, "3_99999999999999999999"])
    async def test_odd_keys_in_the_path_are_not_found(
        self, env: Env, alice: User, account: str, key: str
    ) -> None:
        for method in ("GET", "PUT", "DELETE"):
            response = await env.client.request(
                method, library(account) + "/" + key, headers=alice.headers
            )

            assert response.status_code == 404, (method, response.text)
            assert error_code(response) == "NOT_FOUND"

    async def test_update_ignores_read_only_echoes_and_unsets_empty_values(
        self, env: Env, alice: User, account: str, image: dict[str, Any]
    ) -> None:
        added = (await add(env, alice, account, image["media_key"], name="a", title="t")).json()
        item = added["data"]
        echoed = {k: v for k, v in item.items() if isinstance(v, str)}  # as the SDK does
        echoed.update(name="renamed", title="", media_status="NONSENSE", bogus="1")

        response = await env.client.put(
            library(account, image["media_key"]), params=echoed, headers=alice.headers
        )

        assert response.status_code == 200, response.text
        updated = response.json()["data"]
        assert (updated["name"], updated["title"]) == ("renamed", None)
        assert updated["media_status"] == "TRANSCODE_COMPLETED"
        assert updated["created_at"] == item["created_at"]

    async def test_update_limits_and_unknown_item(
        self, env: Env, alice: User, account: str, image: dict[str, Any]
    ) -> None:
        await add(env, alice, account, image["media_key"])
        url = library(account, image["media_key"])

        too_long = await env.client.put(url, params={"title": "x" * 71}, headers=alice.headers)
        unknown = await env.client.put(
            library(account, "3_12345"), params={"name": "x"}, headers=alice.headers
        )

        assert too_long.status_code == 400
        assert error_code(too_long) == "INVALID_PARAMETER"
        assert unknown.status_code == 404
        assert error_code(unknown) == "NOT_FOUND"

    async def test_poster_media_key(
        self, env: Env, alice: User, bob: User, account: str, mp4_file: Path, png_file: Path,
        jpeg_file: Path,
    ) -> None:  # fmt: skip
        video = await upload_video(env, alice, mp4_file)
        poster = await upload_photo(env, alice, jpeg_file)
        bobs = await upload_photo(env, bob, png_file)
        await add(env, alice, account, video["media_key"])
        url = library(account, video["media_key"])

        set_ = await env.client.put(
            url, params={"poster_media_key": poster["media_key"]}, headers=alice.headers
        )
        foreign = await env.client.put(
            url, params={"poster_media_key": bobs["media_key"]}, headers=alice.headers
        )
        cleared = await env.client.put(url, params={"poster_media_key": ""}, headers=alice.headers)

        item = set_.json()["data"]
        assert item["poster_media_key"] == poster["media_key"]
        assert (
            item["poster_media_url"].split("/media/")[1].split(".")[0] in item["poster_media_url"]
        )
        shown = await env.client.get(item["poster_media_url"])
        assert shown.status_code == 200
        assert shown.headers["content-type"] == "image/jpeg"
        assert "/video/" not in item["poster_media_url"]
        assert foreign.status_code == 400
        assert error_code(foreign) == "INVALID_MEDIA"
        assert cleared.json()["data"]["poster_media_key"] is None
        assert "/video/" in cleared.json()["data"]["poster_media_url"]

    async def test_an_image_takes_no_poster(
        self, env: Env, alice: User, account: str, image: dict[str, Any], jpeg_file: Path
    ) -> None:
        poster = await upload_photo(env, alice, jpeg_file)
        await add(env, alice, account, image["media_key"])

        response = await env.client.put(
            library(account, image["media_key"]),
            params={"poster_media_key": poster["media_key"]},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert error_code(response) == "INVALID_PARAMETER"


class TestRoles:
    @pytest.mark.parametrize(
        ("role", "read", "write", "delete"),
        [("admin", 200, 201, 200), ("full", 200, 201, 200), ("limited", 200, 201, 403)],
    )
    async def test_each_role(
        self, env: Env, engine: AsyncEngine, alice: User, account: str, png_file: Path,
        role: str, read: int, write: int, delete: int,
    ) -> None:  # fmt: skip
        member = await create_user(engine, f"member_{role}")
        await grant(engine, account, member.id, role)
        shared = await upload_photo(env, member, png_file, additional_owners=str(alice.id))

        added = await add(env, member, account, shared["media_key"])
        listed = await env.client.get(library(account), headers=member.headers)
        deleted = await env.client.delete(
            library(account, shared["media_key"]), headers=member.headers
        )

        assert (listed.status_code, added.status_code, deleted.status_code) == (read, write, delete)
        if delete == 403:
            assert error_code(deleted) == "ACTION_NOT_ALLOWED"

    async def test_outsiders_and_anonymous(
        self, env: Env, bob: User, account: str, image: dict[str, Any]
    ) -> None:
        outsider = await env.client.get(library(account), headers=bob.headers)
        anonymous = await env.client.get(library(account))

        assert outsider.status_code == 403
        assert error_code(outsider) == "NOT_FOUND"
        assert anonymous.status_code == 401
        assert error_code(anonymous) == "UNAUTHORIZED_ACCESS"
