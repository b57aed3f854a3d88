from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.ids import IdGenerator
from app.models import MediaOwner
from tests.conftest import Env, User
from tests.fixtures.protocol import MIB, URL, init
from tests.fixtures.protocol import status as fetch_status

LIMITS = [
    ("tweet_image", "image/jpeg", 5 * MIB),
    ("dm_image", "image/png", 5 * MIB),
    ("tweet_gif", "image/gif", 15 * MIB),
    ("dm_gif", "image/gif", 15 * MIB),
    ("tweet_video", "video/mp4", 15 * MIB),
    ("dm_video", "video/mp4", 15 * MIB),
    ("amplify_video", "video/mp4", 512 * MIB),
    ("subtitles", "text/srt", 1 * MIB),
]


class TestInit:
    async def test_init_answers_202_with_ids_and_expiry(self, env: Env, alice: User) -> None:
        response = await init(env.client, alice.headers, total_bytes=1000, media_type="video/mp4")

        assert response.status_code == 202
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        body = response.json()
        assert set(body) == {"media_id", "media_id_string", "expires_after_secs"}
        assert isinstance(body["media_id"], int)
        assert body["media_id_string"] == str(body["media_id"])
        assert body["expires_after_secs"] > 3000

    @pytest.mark.parametrize(
        ("category", "media_type", "prefix"),
        [
            ("tweet_image", "image/jpeg", "3_"),
            ("tweet_gif", "image/gif", "16_"),
            ("tweet_video", "video/mp4", "7_"),
            ("dm_video", "video/mp4", "7_"),
            ("amplify_video", "video/mp4", "13_"),
        ],
    )
    async def test_media_key_prefix_follows_category(
        self, env: Env, alice: User, category: str, media_type: str, prefix: str
    ) -> None:
        response = await init(
            env.client, alice.headers, total_bytes=1000, media_type=media_type, category=category
        )

        body = response.json()
        assert body["media_key"] == f"{prefix}{body['media_id']}"

    @pytest.mark.parametrize(
        ("spelling", "media_type"),
        [
            ("tweet_video", "video/mp4"),
            ("TweetVideo", "video/mp4"),
            ("TWEET_VIDEO", "video/mp4"),
            ("amplify_video", "video/mp4"),
            ("AmplifyVideo", "video/mp4"),
            ("dm_image", "image/png"),
            ("DmImage", "image/png"),
            ("TweetGif", "image/gif"),
            ("subtitles", "text/srt"),
            ("Subtitles", "text/vtt"),
        ],
    )
    async def test_every_category_spelling_real_clients_send_is_accepted(
        self, env: Env, alice: User, spelling: str, media_type: str
    ) -> None:
        response = await init(
            env.client, alice.headers, total_bytes=100, media_type=media_type, category=spelling
        )

        assert response.status_code == 202, response.text

    async def test_unknown_category_is_refused(self, env: Env, alice: User) -> None:
        response = await init(
            env.client, alice.headers, total_bytes=100, media_type="video/mp4", category="banner"
        )

        assert response.status_code == 400
        assert response.json()["request"] == URL

    @pytest.mark.parametrize(
        ("category", "media_type"),
        [("tweet_video", "image/png"), ("tweet_image", "video/mp4"), ("tweet_gif", "image/png")],
    )
    async def test_media_type_must_suit_category(
        self, env: Env, alice: User, category: str, media_type: str
    ) -> None:
        response = await init(
            env.client, alice.headers, total_bytes=100, media_type=media_type, category=category
        )

        assert response.status_code == 400
        assert response.json() == {"request": URL, "error": "media type unrecognized."}

    async def test_unknown_media_type_is_unrecognized(self, env: Env, alice: User) -> None:
        response = await init(env.client, alice.headers, total_bytes=1, media_type="video/webm")

        assert response.json() == {"request": URL, "error": "media type unrecognized."}

    @pytest.mark.parametrize(("category", "media_type", "limit"), LIMITS)
    async def test_limit_is_inclusive_and_one_byte_more_is_refused(
        self, env: Env, alice: User, category: str, media_type: str, limit: int
    ) -> None:
        at_limit = await init(
            env.client, alice.headers, total_bytes=limit, media_type=media_type, category=category
        )
        over = await init(
            env.client,
            alice.headers,
            total_bytes=limit + 1,
            media_type=media_type,
            category=category,
        )

        assert at_limit.status_code == 202
        assert over.status_code == 400
        error = over.json()["errors"][0]
        assert error["code"] == 324
        assert error["message"].endswith(f"file size must be <= {limit} bytes")

    async def test_video_without_category_gets_the_sync_15mb_limit(
        self, env: Env, alice: User
    ) -> None:
        response = await init(
            env.client, alice.headers, total_bytes=15 * MIB + 1, media_type="video/mp4"
        )

        assert response.json()["errors"][0]["code"] == 324

    async def test_missing_total_bytes_is_code_38(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            URL, data={"command": "INIT", "media_type": "video/mp4"}, headers=alice.headers
        )

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"code": 38, "message": "total_bytes parameter is missing."}
        ]

    async def test_parameters_may_come_in_the_query_string(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            URL + "?command=INIT&total_bytes=10&media_type=image%2Fpng", headers=alice.headers
        )

        assert response.status_code == 202

    async def test_init_may_be_multipart(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            URL,
            files={
                "command": (None, "INIT"),
                "total_bytes": (None, "10"),
                "media_type": (None, "video/mp4"),
                "media_category": (None, "TweetVideo"),
            },
            headers=alice.headers,
        )

        assert response.status_code == 202
        assert response.json()["media_key"].startswith("7_")

    async def test_more_than_100_additional_owners_is_refused(self, env: Env, alice: User) -> None:
        owners = ",".join(str(1000 + i) for i in range(101))

        response = await init(
            env.client,
            alice.headers,
            total_bytes=10,
            media_type="image/png",
            additional_owners=owners,
        )

        assert response.status_code == 400

    async def test_ids_are_unique_and_time_ordered(self, env: Env, alice: User) -> None:
        ids = []
        for _ in range(5):
            response = await init(env.client, alice.headers, total_bytes=1, media_type="image/png")
            ids.append(response.json()["media_id"])

        assert ids == sorted(ids)
        assert len(set(ids)) == 5
        assert all(i > 2**60 for i in ids)


class TestAuth:
    async def test_missing_token_is_401_code_32(self, env: Env) -> None:
        response = await init(env.client, {}, total_bytes=1, media_type="image/png")

        assert response.status_code == 401
        assert response.json() == {
            "errors": [{"code": 32, "message": "Could not authenticate you."}]
        }

    async def test_unknown_bearer_token_is_401(self, env: Env, alice: User) -> None:
        response = await init(
            env.client,
            {"Authorization": "Bearer not-a-token"},
            total_bytes=1,
            media_type="image/png",
        )

        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == 32

    async def test_status_requires_auth_too(self, env: Env) -> None:
        response = await env.client.get(URL, params={"command": "STATUS", "media_id": "1"})

        assert response.status_code == 401


class _RepeatsItsFirstId(IdGenerator):
    """A node whose first id another node has drawn too: the second INIT collides."""

    def __init__(self) -> None:
        super().__init__(3)
        self._first: int | None = None
        self._handed = 0

    def next_id(self) -> int:
        self._handed += 1
        if self._handed <= 2:
            if self._first is None:
                self._first = super().next_id()
            return self._first
        return super().next_id()


class TestConcurrentInits:
    """Concurrent INITs are committed together (``Statements.write``); each
    still answers only for rows that are committed, and failures stay their own."""

    async def test_concurrent_inits_all_open_their_own_upload(
        self, env: Env, alice: User, bob: User, engine: AsyncEngine
    ) -> None:
        opening = [
            init(env.client, alice.headers, total_bytes=100 + i, media_type="video/mp4",
                 category="amplify_video", additional_owners=str(bob.id))
            for i in range(24)
        ]  # fmt: skip
        responses = await asyncio.gather(*opening)

        assert [r.status_code for r in responses] == [202] * 24
        ids = [r.json()["media_id"] for r in responses]
        assert len(set(ids)) == 24
        for media_id, expected in zip(ids, range(100, 124), strict=True):
            status = await fetch_status(env.client, alice.headers, media_id)
            assert status.status_code == 200
            assert status.json()["upload_info"]["total_bytes"] == expected
        async with engine.connect() as conn:
            owners = await conn.scalar(
                select(func.count()).select_from(MediaOwner).where(MediaOwner.account_id == bob.id)
            )
        assert owners == 24

    async def test_an_id_collision_in_a_group_is_undone_alone_and_drawn_again(
        self, env: Env, alice: User
    ) -> None:
        env.state.ids = _RepeatsItsFirstId()
        opening = [
            init(env.client, alice.headers, total_bytes=10, media_type="image/png") for _ in "abc"
        ]
        first, second, third = await asyncio.gather(*opening)

        assert [first.status_code, second.status_code, third.status_code] == [202] * 3
        ids = {r.json()["media_id"] for r in (first, second, third)}
        assert len(ids) == 3
        for media_id in ids:
            status = await fetch_status(env.client, alice.headers, media_id)
            assert status.status_code == 200
