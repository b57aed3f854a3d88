"""The v2 media upload endpoints (spec §7.6), both generations, over the same services."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from tests.conftest import Env, User
from tests.fixtures.protocol import MIB, segments

UPLOAD = "/2/media/upload"


async def _initialize(env: Env, user: User, data: bytes, media_type: str, **extra: Any) -> str:
    response = await env.client.post(
        f"{UPLOAD}/initialize",
        json={"media_type": media_type, "total_bytes": len(data), **extra},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    media_id: str = response.json()["data"]["id"]
    return media_id


async def _append(env: Env, user: User, media_id: str, index: int | None, chunk: bytes) -> Any:
    fields = {} if index is None else {"segment_index": str(index)}
    return await env.client.post(
        f"{UPLOAD}/{media_id}/append",
        data=fields,
        files={"media": ("blob", chunk, "application/octet-stream")},
        headers=user.headers,
    )


async def _upload(env: Env, user: User, path: Path, media_type: str, **extra: Any) -> Any:
    data = path.read_bytes()
    media_id = await _initialize(env, user, data, media_type, **extra)
    for index, chunk in enumerate(segments(data, MIB // 4)):
        appended = await _append(env, user, media_id, index, chunk)
        assert appended.status_code == 200, appended.text
    return await env.client.post(f"{UPLOAD}/{media_id}/finalize", json={}, headers=user.headers)


def _is_problem(body: dict[str, Any], status: int) -> None:
    assert {"title", "detail", "type", "status", "errors"} <= body.keys(), body
    assert body["status"] == status
    assert body["errors"][0]["message"]


class TestInitialize:
    async def test_answers_a_string_id_with_key_and_expiry(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            f"{UPLOAD}/initialize",
            json={"media_type": "video/mp4", "total_bytes": 1000, "media_category": "tweet_video"},
            headers=alice.headers,
        )

        data = response.json()["data"]
        assert response.status_code == 200
        assert data["id"].isdigit()
        assert data["media_key"] == f"7_{data['id']}"
        assert data["expires_after_secs"] > 0

    async def test_missing_media_type_is_a_problem(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            f"{UPLOAD}/initialize", json={"total_bytes": 10}, headers=alice.headers
        )

        assert response.status_code == 400
        _is_problem(response.json(), 400)
        assert response.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
        assert response.json()["detail"] == "media_type parameter is missing."

    async def test_wrong_json_type_names_the_parameter(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            f"{UPLOAD}/initialize",
            json={"media_type": "video/mp4", "total_bytes": "lots"},
            headers=alice.headers,
        )

        assert response.status_code == 400
        assert "total_bytes" in response.json()["errors"][0]["parameters"]

    async def test_without_credentials_is_a_401_problem(self, env: Env) -> None:
        response = await env.client.post(
            f"{UPLOAD}/initialize", json={"media_type": "video/mp4", "total_bytes": 10}
        )

        assert response.status_code == 401
        _is_problem(response.json(), 401)
        assert response.json()["errors"][0]["code"] == 32


class TestChunked:
    async def test_video_round_trip_goes_to_processing(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        done = await _upload(env, alice, mp4_file, "video/mp4", media_category="tweet_video")

        data = done.json()["data"]
        assert done.status_code == 200, done.text
        assert data["size"] == mp4_file.stat().st_size
        assert data["processing_info"] == {"state": "pending", "check_after_secs": 1}
        polled = await env.client.get(
            UPLOAD, params={"command": "STATUS", "media_id": data["id"]}, headers=alice.headers
        )
        assert polled.json()["data"]["processing_info"]["state"] == "pending"

    async def test_image_finalizes_with_image_info(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        done = await _upload(env, alice, png_file, "image/png")

        assert done.json()["data"]["image"]["image_type"] == "image/png"

    async def test_append_answers_expires_at(self, env: Env, alice: User, png_file: Path) -> None:
        data = png_file.read_bytes()
        media_id = await _initialize(env, alice, data, "image/png")

        appended = await _append(env, alice, media_id, 0, data)

        assert appended.json()["data"]["expires_at"] > 1_700_000_000

    async def test_json_append_takes_base64(self, env: Env, alice: User, png_file: Path) -> None:
        data = png_file.read_bytes()
        media_id = await _initialize(env, alice, data, "image/png")

        appended = await env.client.post(
            f"{UPLOAD}/{media_id}/append",
            json={"segment_index": "0", "media": base64.b64encode(data).decode()},
            headers=alice.headers,
        )
        done = await env.client.post(f"{UPLOAD}/{media_id}/finalize", headers=alice.headers)

        assert appended.status_code == 200, appended.text
        assert done.json()["data"]["size"] == len(data)

    async def test_missing_segment_index_appends_after_the_last_segment(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        media_id = await _initialize(env, alice, data, "video/mp4")

        for chunk in segments(data, MIB // 4):
            assert (await _append(env, alice, media_id, None, chunk)).status_code == 200
        done = await env.client.post(f"{UPLOAD}/{media_id}/finalize", headers=alice.headers)

        assert done.status_code == 200, done.text
        assert done.json()["data"]["size"] == len(data)

    async def test_status_while_uploading_lists_segments(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()
        media_id = await _initialize(env, alice, data, "image/png")
        await _append(env, alice, media_id, 0, data[:100])

        polled = await env.client.get(UPLOAD, params={"media_id": media_id}, headers=alice.headers)

        info = polled.json()["data"]["upload_info"]
        assert info["received_bytes"] == 100
        assert info["segments"][0]["sha256"] == hashlib.sha256(data[:100]).hexdigest()

    async def test_segment_index_1000_is_refused(self, env: Env, alice: User) -> None:
        media_id = await _initialize(env, alice, b"x" * 10, "image/png")

        response = await _append(env, alice, media_id, 1000, b"x")

        assert response.status_code == 400
        _is_problem(response.json(), 400)

    async def test_checksum_mismatch_is_refused(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()
        media_id = await _initialize(env, alice, data, "image/png")

        response = await env.client.post(
            f"{UPLOAD}/{media_id}/append",
            data={"segment_index": "0"},
            files={"media": ("blob", data, "application/octet-stream")},
            headers={**alice.headers, "X-Segment-SHA256": "0" * 64},
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["actual_sha256"] == hashlib.sha256(data).hexdigest()

    async def test_finalize_with_missing_bytes_is_a_problem(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()
        media_id = await _initialize(env, alice, data, "image/png")
        await _append(env, alice, media_id, 0, data[:50])

        done = await env.client.post(f"{UPLOAD}/{media_id}/finalize", headers=alice.headers)

        assert done.status_code == 400
        assert done.json()["detail"] == "Segments do not add up to provided total file size."

    async def test_someone_elses_media_is_not_found(self, env: Env, alice: User, bob: User) -> None:
        media_id = await _initialize(env, alice, b"x" * 10, "image/png")

        polled = await env.client.get(UPLOAD, params={"media_id": media_id}, headers=bob.headers)

        assert polled.status_code == 404
        assert polled.json()["type"] == "https://api.twitter.com/2/problems/resource-not-found"


class TestOneShot:
    async def test_multipart_image(self, env: Env, alice: User, png_file: Path) -> None:
        response = await env.client.post(
            UPLOAD,
            data={"media_category": "tweet_image"},
            files={"media": ("media", png_file.read_bytes(), "image/png")},
            headers=alice.headers,
        )

        data = response.json()["data"]
        assert response.status_code == 200, response.text
        assert data["image"] == {"image_type": "image/png", "w": 64, "h": 48}
        assert data["media_key"] == f"3_{data['id']}"

    async def test_json_base64_image(self, env: Env, alice: User, png_file: Path) -> None:
        media = base64.b64encode(png_file.read_bytes()).decode()

        response = await env.client.post(
            UPLOAD, json={"media": media, "media_category": "tweet_image"}, headers=alice.headers
        )

        assert response.status_code == 200, response.text
        assert response.json()["data"]["size"] == png_file.stat().st_size

    async def test_bad_base64_is_a_problem(self, env: Env, alice: User) -> None:
        response = await env.client.post(UPLOAD, json={"media": "***"}, headers=alice.headers)

        assert response.status_code == 400
        _is_problem(response.json(), 400)


class TestCommandForm:
    async def test_init_append_finalize_on_the_upload_path(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        data = png_file.read_bytes()

        init = await env.client.post(
            UPLOAD,
            data={"command": "INIT", "total_bytes": str(len(data)), "media_type": "image/png"},
            headers=alice.headers,
        )
        media_id = init.json()["data"]["id"]
        append = await env.client.post(
            UPLOAD,
            data={"command": "APPEND", "media_id": media_id, "segment_index": "0"},
            files={"media": ("blob", data, "application/octet-stream")},
            headers=alice.headers,
        )
        done = await env.client.post(
            UPLOAD, data={"command": "FINALIZE", "media_id": media_id}, headers=alice.headers
        )

        assert (init.status_code, append.status_code, done.status_code) == (202, 204, 200)
        assert done.json()["data"]["image"]["w"] == 64

    async def test_unknown_command_is_a_problem(self, env: Env, alice: User) -> None:
        response = await env.client.post(UPLOAD, data={"command": "NOPE"}, headers=alice.headers)

        assert response.status_code == 400
        _is_problem(response.json(), 400)


async def test_v2_upload_endpoints_are_rate_limited_with_headers(env: Env, alice: User) -> None:
    env.state.settings.rate_limits["media:initialize"] = {"user": (1, 900)}
    body = {"media_type": "image/png", "total_bytes": 10}

    first = await env.client.post("/2/media/upload/initialize", json=body, headers=alice.headers)
    second = await env.client.post("/2/media/upload/initialize", json=body, headers=alice.headers)

    assert first.status_code == 200
    assert first.headers["x-rate-limit-limit"] == "1"
    assert second.status_code == 429
    assert second.json()["title"] == "Too Many Requests"
    assert second.headers["x-rate-limit-remaining"] == "0"
