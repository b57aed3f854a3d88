"""Draft posts over HTTP (Ads API §9), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Env, User
from tests.fixtures.entities import photo
from tests.studio.posts_support import (
    Studio,
    error_code,
    library_photo,
    library_processed,
    make_studio,
)


@pytest.fixture
async def studio(env: Env, engine: AsyncEngine, alice: User) -> Studio:
    return await make_studio(env, engine, alice)


class TestCreateDraft:
    async def test_text_draft_has_the_documented_shape(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", text="Just setting up", name="first")

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["text"] == "Just setting up"
        assert data["name"] == "first"
        assert data["user_id"] == str(studio.owner.id)
        assert data["nullcast"] is True
        assert data["media_keys"] == []
        assert data["card_uri"] is None
        assert isinstance(data["id"], str)
        assert data["created_at"].endswith("Z")
        assert "scheduled_status" not in data

    async def test_as_user_id_of_the_full_user_is_taken(self, studio: Studio) -> None:
        response = await studio.call(
            "POST", "draft_tweets", text="hi", as_user_id=str(studio.owner.id)
        )

        assert response.status_code == 200
        assert response.json()["data"]["user_id"] == str(studio.owner.id)

    async def test_as_user_id_of_another_user_is_invalid_user(self, studio: Studio) -> None:
        response = await studio.call(
            "POST", "draft_tweets", text="hi", as_user_id=str(studio.full.id)
        )

        assert response.status_code == 400
        assert error_code(response) == "INVALID_USER"

    async def test_without_text_or_media_is_missing_parameter(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", name="empty")

        assert response.status_code == 400
        assert error_code(response) == "MISSING_PARAMETER"
        assert response.json()["errors"][0]["parameter"] == "text"

    async def test_blank_text_without_media_cannot_be_blank(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", text="   ")

        assert response.status_code == 400
        assert error_code(response) == "TWEET_CANNOT_BE_BLANK"

    async def test_text_over_280_weighted_characters_is_invalid_tweet(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", text="界" * 141)

        assert response.status_code == 400
        assert error_code(response) == "INVALID_TWEET"

    async def test_name_over_80_characters_is_invalid(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", text="hi", name="n" * 81)

        assert response.status_code == 400
        assert error_code(response) == "INVALID_PARAMETER"

    async def test_nullcast_false_is_kept(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", text="organic", nullcast="false")

        assert response.json()["data"]["nullcast"] is False


class TestDraftMedia:
    async def test_media_only_draft_with_library_photo(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)

        response = await studio.call("POST", "draft_tweets", media_keys=key)

        assert response.status_code == 200, response.text
        assert response.json()["data"]["media_keys"] == [key]

    async def test_four_photos_repeated_or_comma_joined(
        self, studio: Studio, png_file: Path, jpeg_file: Path
    ) -> None:
        keys = [await library_photo(studio, png_file if i % 2 else jpeg_file) for i in range(4)]

        repeated = await studio.call("POST", "draft_tweets", text="four", media_keys=keys)
        joined = await studio.call("POST", "draft_tweets", text="4", media_keys=",".join(keys))

        assert repeated.json()["data"]["media_keys"] == keys
        assert joined.json()["data"]["media_keys"] == keys

    async def test_five_photos_are_invalid_media(self, studio: Studio, png_file: Path) -> None:
        keys = [await library_photo(studio, png_file) for _ in range(5)]

        response = await studio.call("POST", "draft_tweets", text="five", media_keys=keys)

        assert response.status_code == 400
        assert error_code(response) == "INVALID_MEDIA"

    async def test_media_outside_the_library_is_invalid_media(
        self, studio: Studio, png_file: Path
    ) -> None:
        media_id = await photo(studio.env.client, studio.owner.headers, png_file)

        response = await studio.call("POST", "draft_tweets", text="x", media_keys=f"3_{media_id}")

        assert response.status_code == 400
        assert error_code(response) == "INVALID_MEDIA"

    async def test_another_accounts_library_is_invalid_media(
        self, studio: Studio, engine: AsyncEngine, bob: User, png_file: Path
    ) -> None:
        other = await make_studio(studio.env, engine, bob)
        key = await library_photo(other, png_file)

        response = await studio.call("POST", "draft_tweets", text="x", media_keys=key)

        assert error_code(response) == "INVALID_MEDIA"

    async def test_a_gif_with_a_photo_is_invalid_media(
        self, studio: Studio, png_file: Path, gif_file: Path
    ) -> None:
        gif = await library_processed(
            studio, gif_file, media_type="image/gif", category="tweet_gif"
        )
        image = await library_photo(studio, png_file)

        mixed = await studio.call("POST", "draft_tweets", text="x", media_keys=[gif, image])
        alone = await studio.call("POST", "draft_tweets", text="x", media_keys=[gif])

        assert error_code(mixed) == "INVALID_MEDIA"
        assert alone.status_code == 200
        assert alone.json()["data"]["media_keys"] == [gif]

    async def test_a_garbled_key_is_invalid_media(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", text="x", media_keys="3_x'--")

        assert error_code(response) == "INVALID_MEDIA"


class TestEditDraft:
    async def test_only_given_fields_change_and_read_only_echoes_are_ignored(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        made = (
            await studio.call(
                "POST", "draft_tweets", text="before", name="n", media_keys=key, card_uri="card://1"
            )
        ).json()["data"]

        response = await studio.call(
            "PUT",
            f"draft_tweets/{made['id']}",
            text="after",
            id="999",
            user_id="1",
            created_at="2001-01-01T00:00:00Z",
        )

        data = response.json()["data"]
        assert response.status_code == 200, response.text
        assert data["text"] == "after"
        assert (data["name"], data["media_keys"], data["card_uri"]) == ("n", [key], "card://1")
        assert data["id"] == made["id"]
        assert data["user_id"] == made["user_id"]
        assert data["created_at"] == made["created_at"]

    async def test_empty_media_keys_and_card_uri_unset_them(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        made = (
            await studio.call("POST", "draft_tweets", text="t", media_keys=key, card_uri="card://1")
        ).json()["data"]

        response = await studio.call(
            "PUT", f"draft_tweets/{made['id']}", media_keys="", card_uri=""
        )

        assert response.json()["data"]["media_keys"] == []
        assert response.json()["data"]["card_uri"] is None

    async def test_unsetting_the_media_of_a_textless_draft_is_refused(
        self, studio: Studio, png_file: Path
    ) -> None:
        key = await library_photo(studio, png_file)
        made = (await studio.call("POST", "draft_tweets", media_keys=key)).json()["data"]

        response = await studio.call("PUT", f"draft_tweets/{made['id']}", media_keys="")
        again = await studio.call("GET", f"draft_tweets/{made['id']}")

        assert error_code(response) == "TWEET_CANNOT_BE_BLANK"
        assert again.json()["data"]["media_keys"] == [key]

    async def test_unknown_draft_is_404(self, studio: Studio) -> None:
        response = await studio.call("PUT", "draft_tweets/12345", text="x")

        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"


class TestListAndDelete:
    async def test_list_pages_newest_first_with_the_cursor(self, studio: Studio) -> None:
        made = [
            (await studio.call("POST", "draft_tweets", text=f"d{i}")).json()["data"]["id"]
            for i in range(3)
        ]

        first = (await studio.call("GET", "draft_tweets", count="2")).json()
        second = (
            await studio.call("GET", "draft_tweets", count="2", cursor=first["next_cursor"])
        ).json()

        assert [d["id"] for d in first["data"]] == made[::-1][:2]
        assert [d["id"] for d in second["data"]] == made[:1]
        assert second["next_cursor"] is None

    @pytest.mark.parametrize("count", ["0", "201", "x"])
    async def test_count_outside_1_to_200_is_invalid(self, studio: Studio, count: str) -> None:
        response = await studio.call("GET", "draft_tweets", count=count)

        assert error_code(response) == "INVALID_PARAMETER"

    async def test_delete_answers_deleted_and_the_draft_is_gone(self, studio: Studio) -> None:
        made = (await studio.call("POST", "draft_tweets", text="bye")).json()["data"]

        deleted = await studio.call("DELETE", f"draft_tweets/{made['id']}")
        after = await studio.call("GET", f"draft_tweets/{made['id']}")

        assert deleted.status_code == 200
        assert deleted.json()["data"]["status"] == "DELETED"
        assert deleted.json()["data"]["text"] == "bye"
        assert after.status_code == 404

    async def test_preview_answers_the_message_and_no_data(self, studio: Studio) -> None:
        made = (await studio.call("POST", "draft_tweets", text="look")).json()["data"]

        response = await studio.call("POST", f"draft_tweets/preview/{made['id']}")

        assert response.status_code == 200
        assert "data" not in response.json()
        assert response.json()["message"] == (
            "See @alice's notifications in the X app to preview your Tweet."
        )

    async def test_v12_serves_the_same_drafts(self, studio: Studio) -> None:
        made = (await studio.call("POST", "draft_tweets", text="both")).json()["data"]

        response = await studio.env.client.get(
            studio.url(f"draft_tweets/{made['id']}", "12"), headers=studio.owner.headers
        )

        assert response.json()["data"] == made


class TestDraftRoles:
    async def test_limited_member_writes_nullcast_drafts(self, studio: Studio) -> None:
        response = await studio.call("POST", "draft_tweets", studio.limited, text="by limited")

        assert response.status_code == 200

    async def test_limited_member_may_not_write_organic_drafts(self, studio: Studio) -> None:
        made = (await studio.call("POST", "draft_tweets", text="organic", nullcast="false")).json()

        create = await studio.call(
            "POST", "draft_tweets", studio.limited, text="x", nullcast="false"
        )
        edit = await studio.call(
            "PUT", f"draft_tweets/{made['data']['id']}", studio.limited, text="y"
        )

        assert (create.status_code, error_code(create)) == (403, "ACTION_NOT_ALLOWED")
        assert (edit.status_code, error_code(edit)) == (403, "ACTION_NOT_ALLOWED")

    async def test_full_member_writes_organic_drafts(self, studio: Studio) -> None:
        response = await studio.call(
            "POST", "draft_tweets", studio.full, text="organic", nullcast="false"
        )

        assert response.status_code == 200

    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_outsider_gets_403_not_found(self, studio: Studio, method: str) -> None:
        response = await studio.call(method, "draft_tweets", studio.outsider, text="x")

        assert (response.status_code, error_code(response)) == (403, "NOT_FOUND")

    async def test_no_credentials_is_unauthorized_access(self, studio: Studio) -> None:
        response = await studio.env.client.get(studio.url("draft_tweets"))

        assert response.status_code == 401
        assert error_code(response) == "UNAUTHORIZED_ACCESS"
