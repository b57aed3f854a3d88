"""Attaching media you may not use is refused as an unknown id is (324 on v1.1, "Your
media IDs are invalid." on v2), and list lookups report what they could not find (or
may not show) as Twitter's partial errors, on HTTP 200."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Env, User, create_user
from tests.fixtures.entities import photo, post_status
from tests.fixtures.protocol import append, finalize, init

NEVER = "9100000000000000001"
NEW_DM = "/1.1/direct_messages/events/new.json"


def _dm(recipient: User, media_id: str) -> dict[str, Any]:
    data = {"text": "x", "attachment": {"type": "media", "media": {"id": media_id}}}
    create = {"target": {"recipient_id": str(recipient.id)}, "message_data": data}
    return {"event": {"type": "message_create", "message_create": create}}


async def _dm_photo(env: Env, user: User, path: Path) -> str:
    data = path.read_bytes()
    started = await init(
        env.client, user.headers, total_bytes=len(data), media_type="image/png",
        category="dm_image",
    )  # fmt: skip
    media_id = str(started.json()["media_id_string"])
    await append(env.client, user.headers, media_id, 0, data)
    assert (await finalize(env.client, user.headers, media_id)).status_code == 201
    return media_id


async def _v2_post(env: Env, user: User, media_id: str) -> Any:
    body = {"text": f"with {media_id}", "media": {"media_ids": [media_id]}}
    return await env.client.post("/2/tweets", json=body, headers=user.headers)


class TestAttachingMediaYouCannotUse:
    async def test_someone_elses_photo_is_refused_as_an_unknown_id(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await photo(env.client, alice.headers, png_file)

        theirs = await post_status(env.client, bob.headers, "mine now", [media_id])
        unknown = await post_status(env.client, bob.headers, "mine now", [NEVER])
        theirs_v2 = await _v2_post(env, bob, media_id)
        unknown_v2 = await _v2_post(env, bob, NEVER)

        assert theirs.status_code == 400
        assert theirs.json() == {
            "errors": [{"code": 324, "message": "The validation of media ids failed."}]
        }
        assert theirs.json() == unknown.json()
        assert theirs_v2.status_code == unknown_v2.status_code == 400
        assert theirs_v2.json()["errors"][0]["message"] == "Your media IDs are invalid."
        assert theirs_v2.json() == unknown_v2.json()

    async def test_an_additional_owner_may_post_it_and_a_stranger_still_may_not(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User, png_file: Path
    ) -> None:
        carol = await create_user(engine, "carol")
        media_id = await photo(env.client, alice.headers, png_file, additional_owners=str(carol.id))

        by_carol = await post_status(env.client, carol.headers, "shared with me", [media_id])
        by_bob = await post_status(env.client, bob.headers, "posted, so mine?", [media_id])

        assert by_carol.status_code == 200, by_carol.text
        assert by_bob.status_code == 400  # posted media is public to see, not to attach
        assert by_bob.json()["errors"][0]["code"] == 324

    async def test_someone_elses_dm_media_is_refused_as_an_unknown_id(
        self, env: Env, engine: AsyncEngine, alice: User, bob: User, png_file: Path
    ) -> None:
        carol = await create_user(engine, "carol")
        media_id = await _dm_photo(env, alice, png_file)

        theirs = await env.client.post(NEW_DM, json=_dm(carol, media_id), headers=bob.headers)
        unknown = await env.client.post(NEW_DM, json=_dm(carol, NEVER), headers=bob.headers)
        path = f"/2/dm_conversations/with/{carol.id}/messages"
        theirs_v2 = await env.client.post(
            path, json={"attachments": [{"media_id": media_id}]}, headers=bob.headers
        )
        unknown_v2 = await env.client.post(
            path, json={"attachments": [{"media_id": NEVER}]}, headers=bob.headers
        )

        assert theirs.status_code == 400
        assert theirs.json()["errors"][0]["code"] == 324
        assert theirs.json() == unknown.json()
        assert theirs_v2.status_code == 400
        assert theirs_v2.json() == unknown_v2.json()


class TestPartialErrors:
    async def test_media_list_reports_unknown_and_foreign_keys_alike(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        mine = await photo(env.client, alice.headers, png_file)
        theirs = await photo(env.client, bob.headers, png_file)
        keys = [f"3_{mine}", f"3_{theirs}", f"3_{NEVER}"]

        response = await env.client.get(
            "/2/media", params={"media_keys": ",".join(keys)}, headers=alice.headers
        )
        none_found = await env.client.get(
            "/2/media", params={"media_keys": keys[1]}, headers=alice.headers
        )

        assert response.status_code == 200
        assert [m["media_key"] for m in response.json()["data"]] == keys[:1]
        assert response.json()["errors"] == [
            {
                "value": key,
                "detail": f"Could not find media with media_keys: [{key}].",
                "title": "Not Found Error",
                "resource_type": "media",
                "parameter": "media_keys",
                "resource_id": key,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            for key in keys[1:]
        ]
        assert none_found.status_code == 200
        assert "data" not in none_found.json()
        assert [e["value"] for e in none_found.json()["errors"]] == keys[1:2]

    async def test_tweets_list_reports_unknown_ids(self, env: Env, alice: User) -> None:
        posted = await post_status(env.client, alice.headers, "here", [])
        found = posted.json()["id_str"]

        response = await env.client.get(
            "/2/tweets", params={"ids": f"{found},{NEVER}"}, headers=alice.headers
        )

        assert response.status_code == 200
        assert [t["id"] for t in response.json()["data"]] == [found]
        assert (
            response.json()["errors"][0]["detail"] == f"Could not find tweet with ids: [{NEVER}]."
        )
        assert response.json()["errors"][0]["resource_type"] == "tweet"
