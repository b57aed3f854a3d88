"""The library list: newest first, the keyset cursor (also while items are added), the
``media_type`` filter and the ``q`` term search."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Env, User
from tests.fixtures.studio import create_studio_account
from tests.studio.library_fixtures import add, error_code, library, upload_photo, upload_video


@pytest.fixture
async def account(env: Env, engine: AsyncEngine, alice: User) -> str:
    return await create_studio_account(engine, alice.id)


async def _add_photos(
    env: Env, user: User, account: str, path: Path, names: list[str]
) -> list[str]:
    keys = []
    for name in names:
        key = (await upload_photo(env, user, path))["media_key"]
        response = await add(env, user, account, key, name=name)
        assert response.status_code == 201, response.text
        keys.append(key)
    return keys


async def _all_pages(env: Env, user: User, account: str, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = await env.client.get(library(account), params=query, headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["media_key"] for item in body["data"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)


class TestPages:
    async def test_newest_first_in_pages_of_count(
        self, env: Env, alice: User, account: str, png_file: Path
    ) -> None:
        keys = await _add_photos(env, alice, account, png_file, [f"p{i}" for i in range(5)])

        pages = await _all_pages(env, alice, account, count=2)

        assert pages == [keys[4:2:-1], keys[2:0:-1], keys[0:1]]

    async def test_the_default_count_is_20_and_a_full_last_page_ends_with_null(
        self, env: Env, alice: User, account: str, png_file: Path
    ) -> None:
        keys = await _add_photos(env, alice, account, png_file, ["a", "b"])

        body = (await env.client.get(library(account), headers=alice.headers)).json()
        exact = (
            await env.client.get(library(account), params={"count": 2}, headers=alice.headers)
        ).json()

        assert [i["media_key"] for i in body["data"]] == keys[::-1]
        assert body["next_cursor"] is None
        assert body["request"]["params"] == {"account_id": account, "count": 20}
        assert len(exact["data"]) == 2
        assert exact["next_cursor"] is None

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"count": "0"}, "count"),
            ({"count": "51"}, "count"),
            ({"count": "x"}, "count"),
            ({"cursor": "nonsense"}, "cursor"),
            ({"cursor": "c-zzzzzzzzzzzzzzzz"}, "cursor"),
            ({"media_type": "AUDIO"}, "media_type"),
            ({"q": ""}, "q"),
            ({"q": "x" * 256}, "q"),
        ],
    )
    async def test_bad_parameters(
        self, env: Env, alice: User, account: str, params: dict[str, str], parameter: str
    ) -> None:
        response = await env.client.get(library(account), params=params, headers=alice.headers)

        assert response.status_code == 400
        assert error_code(response) == "INVALID_PARAMETER"
        assert response.json()["errors"][0]["parameter"] == parameter

    async def test_count_50_is_taken(self, env: Env, alice: User, account: str) -> None:
        response = await env.client.get(
            library(account), params={"count": 50}, headers=alice.headers
        )

        assert response.status_code == 200
        assert response.json()["data"] == []
        assert response.json()["next_cursor"] is None

    async def test_pages_while_items_arrive_see_each_old_item_once(
        self, env: Env, alice: User, account: str, png_file: Path, jpeg_file: Path
    ) -> None:
        before = await _add_photos(env, alice, account, png_file, [f"old{i}" for i in range(9)])
        uploads = [(await upload_photo(env, alice, jpeg_file))["media_key"] for _ in range(6)]
        paged = asyncio.Event()
        seen: list[str] = []
        inserted: list[str] = []
        inserted_while_paging: list[int] = []

        async def pager() -> None:
            cursor = None
            while True:
                query: dict[str, Any] = {"count": 2, **({"cursor": cursor} if cursor else {})}
                response = await env.client.get(
                    library(account), params=query, headers=alice.headers
                )
                body = response.json()
                seen.extend(item["media_key"] for item in body["data"])
                paged.set()
                await asyncio.sleep(0)
                cursor = body["next_cursor"]
                if cursor is None:
                    inserted_while_paging.append(len(inserted))
                    return

        async def inserter() -> None:
            await paged.wait()  # the first page is out: the rest arrive between pages
            for key in uploads:
                assert (await add(env, alice, account, key)).status_code == 201
                inserted.append(key)
                await asyncio.sleep(0)

        await asyncio.gather(pager(), inserter())

        assert inserted_while_paging[0] > 0  # the two really interleaved
        assert sorted(k for k in seen if k in before) == sorted(before)
        assert len(seen) == len(set(seen))  # nothing repeated
        listed = await _all_pages(env, alice, account, count=50)
        assert len(listed[0]) == len(before) + len(uploads)


class TestFilters:
    async def test_media_type(
        self, env: Env, alice: User, account: str, png_file: Path, mp4_file: Path, gif_file: Path
    ) -> None:
        photo = (await _add_photos(env, alice, account, png_file, ["photo"]))[0]
        video = (await upload_video(env, alice, mp4_file))["media_key"]
        gif = (
            await upload_video(env, alice, gif_file, category="tweet_gif", media_type="image/gif")
        )["media_key"]
        await add(env, alice, account, video)
        await add(env, alice, account, gif)

        found = {}
        for media_type in ("IMAGE", "VIDEO", "GIF"):
            found[media_type] = await _all_pages(env, alice, account, media_type=media_type)
        lower = await _all_pages(env, alice, account, media_type="video")

        assert found == {"IMAGE": [[photo]], "VIDEO": [[video]], "GIF": [[gif]]}
        assert lower == [[video]]

    async def test_q_matches_every_term_case_insensitively(
        self, env: Env, alice: User, account: str, png_file: Path
    ) -> None:
        names = ["Coffee Latte", "coffee beans", "Tea", "Latte art"]
        keys = await _add_photos(env, alice, account, png_file, names)

        async def q(text: str, **more: Any) -> list[str]:
            return [
                k for page in await _all_pages(env, alice, account, q=text, **more) for k in page
            ]

        assert await q("COFFEE") == [keys[1], keys[0]]
        assert await q("latte coffee") == [keys[0]]
        assert await q("latte") == [keys[3], keys[0]]
        assert await q("latt") == []  # terms, not substrings
        assert await q("...") == []
        assert await q("coffee", count=1) == [keys[1], keys[0]]  # the cursor pages q too

    async def test_q_covers_title_file_name_and_description_and_follows_updates(
        self, env: Env, alice: User, account: str, mp4_file: Path
    ) -> None:
        video = (await upload_video(env, alice, mp4_file))["media_key"]
        await add(
            env, alice, account, video, title="Skyline", file_name="Mountains.MP4",
            description="Über die Berge",
        )  # fmt: skip

        async def q(text: str) -> list[str]:
            return [k for page in await _all_pages(env, alice, account, q=text) for k in page]

        assert await q("skyline") == [video]
        assert await q("mountains mp4") == [video]
        assert await q("ÜBER berge") == [video]
        await env.client.put(
            library(account, video), params={"title": "Harbour"}, headers=alice.headers
        )
        assert await q("skyline") == []
        assert await q("harbour mountains") == [video]

    async def test_q_and_media_type_together(
        self, env: Env, alice: User, account: str, png_file: Path, mp4_file: Path
    ) -> None:
        photo = (await _add_photos(env, alice, account, png_file, ["sunset"]))[0]
        video = (await upload_video(env, alice, mp4_file))["media_key"]
        await add(env, alice, account, video, name="sunset clip")

        assert await _all_pages(env, alice, account, q="sunset", media_type="IMAGE") == [[photo]]
        assert await _all_pages(env, alice, account, q="sunset", media_type="VIDEO") == [[video]]

    async def test_one_account_never_sees_anothers_items(
        self, env: Env, engine: AsyncEngine, alice: User, account: str, png_file: Path
    ) -> None:
        other = await create_studio_account(engine, alice.id, name="Other")
        await _add_photos(env, alice, account, png_file, ["shared word"])

        assert await _all_pages(env, alice, other) == [[]]
        assert await _all_pages(env, alice, other, q="shared") == [[]]
