from __future__ import annotations

from pathlib import Path

import pytest

from app.storage import keys
from tests.conftest import Env, User
from tests.fixtures.protocol import upload_file
from tests.pipeline.conftest import media_object


@pytest.fixture
async def photo_url(env: Env, alice: User, jpeg_with_gps: Path) -> str:
    body = await upload_file(env.client, alice.headers, jpeg_with_gps, media_type="image/jpeg")
    url: str = (await media_object(env, body["media_id"]))["media_url_https"]
    return url + "?name=orig"


@pytest.fixture
async def stored_photo(env: Env, alice: User, jpeg_with_gps: Path) -> tuple[int, str]:
    """A processed photo: its media id and the URL of its ``orig`` size."""
    body = await upload_file(env.client, alice.headers, jpeg_with_gps, media_type="image/jpeg")
    url: str = (await media_object(env, body["media_id"]))["media_url_https"]
    return int(body["media_id"]), url + "?name=orig"


class TestDelivery:
    async def test_whole_file_has_cache_headers_and_no_auth(self, env: Env, photo_url: str) -> None:
        response = await env.client.get(photo_url)

        assert response.status_code == 200
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["etag"].startswith('"')
        assert response.headers["last-modified"].endswith("GMT")
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert int(response.headers["content-length"]) == len(response.content)

    @pytest.mark.parametrize(
        ("header", "span"),
        [("bytes=10-99", (10, 100)), ("bytes=100-", (100, None)), ("bytes=-50", (-50, None))],
    )
    async def test_a_range_returns_exactly_those_bytes(
        self, env: Env, photo_url: str, header: str, span: tuple[int, int | None]
    ) -> None:
        whole = (await env.client.get(photo_url)).content

        response = await env.client.get(photo_url, headers={"Range": header})

        expected = whole[span[0] : span[1]]
        assert response.status_code == 206
        assert response.content == expected
        first = span[0] if span[0] >= 0 else len(whole) + span[0]
        assert response.headers["content-range"] == (
            f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"
        )
        assert response.headers["content-length"] == str(len(expected))

    async def test_a_range_past_the_end_is_416(self, env: Env, photo_url: str) -> None:
        size = len((await env.client.get(photo_url)).content)

        response = await env.client.get(photo_url, headers={"Range": f"bytes={size}-"})

        assert response.status_code == 416
        assert response.headers["content-range"] == f"bytes */{size}"

    async def test_a_range_with_a_stale_if_range_returns_the_whole_file(
        self, env: Env, photo_url: str
    ) -> None:
        response = await env.client.get(
            photo_url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'}
        )

        assert response.status_code == 200

    async def test_matching_if_none_match_is_304(self, env: Env, photo_url: str) -> None:
        etag = (await env.client.get(photo_url)).headers["etag"]

        response = await env.client.get(photo_url, headers={"If-None-Match": f'"x", {etag}'})
        other = await env.client.get(photo_url, headers={"If-None-Match": '"other"'})

        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert other.status_code == 200

    async def test_head_sends_headers_only(self, env: Env, photo_url: str) -> None:
        whole = await env.client.get(photo_url)

        response = await env.client.head(photo_url)

        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == str(len(whole.content))

    async def test_video_paths_outside_the_layout_are_not_found(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, animated_gif, media_type="image/gif")
        url = (await media_object(env, body["media_id"]))["video_info"]["variants"][0]["url"]
        base = url.rsplit("/", 1)[0]
        other_key = base.replace(f"/16_{body['media_id']}/", "/7_1/")

        for path in [
            f"{base}/%2E%2E%2Fblob",
            f"{base}/pl/%2E%2E/%2E%2E/blob",
            f"{base}/pl/120x90/%2E%2E/%2E%2E/blob",
            f"{base}/999x999.mp4",
            f"{base}/tweet_video.mp4",
        ]:
            assert (await env.client.get(path)).status_code == 404, path
        assert (await env.client.get(f"{other_key}/120x90.mp4")).status_code == 404
        assert (await env.client.get(f"{base}/120x90.mp4")).status_code == 200

    async def test_the_served_bytes_and_validators_are_the_stored_objects(
        self, env: Env, stored_photo: tuple[int, str]
    ) -> None:
        media_id, url = stored_photo
        key = keys.variant(media_id, "orig.jpg")

        response = await env.client.get(url)

        stored = await env.state.store.stat(key)
        assert response.content == b"".join([c async for c in env.state.store.read(key)])
        assert response.headers["etag"] == stored.etag
        assert response.headers["content-length"] == str(stored.size)

    async def test_a_range_across_read_blocks_of_a_replaced_object(
        self, env: Env, stored_photo: tuple[int, str]
    ) -> None:
        media_id, url = stored_photo
        before = (await env.client.get(url)).headers["etag"]
        payload = bytes(range(256)) * 4096  # 1 MiB: several of storage's read blocks
        await env.state.store.put(keys.variant(media_id, "orig.jpg"), payload)

        response = await env.client.get(url, headers={"Range": "bytes=200000-800000"})

        assert response.status_code == 206
        assert response.content == payload[200_000:800_001]
        assert response.headers["etag"] != before

    async def test_an_object_missing_from_storage_is_not_found(
        self, env: Env, stored_photo: tuple[int, str]
    ) -> None:
        media_id, url = stored_photo
        await env.state.store.delete_prefix(keys.variants_prefix(media_id))

        assert (await env.client.get(url)).status_code == 404
        assert (await env.client.head(url)).status_code == 404
