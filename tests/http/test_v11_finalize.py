from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.clock import utcnow
from app.http.deps import get_clock
from app.jobs.runner import Runner
from tests.conftest import Env, User
from tests.fixtures.disk import disk
from tests.fixtures.protocol import MIB, URL, append, finalize, init, segments, status, upload_file


def _runner(env: Env) -> Runner:
    return Runner(env.state.sessions, env.state.store, env.state.policy)


class TestFinalize:
    async def test_sum_mismatch_keeps_twitters_text_and_says_what_is_missing(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4"
        )
        media_id = started.json()["media_id_string"]
        parts = segments(data, 30_000)
        for index in (0, 2):
            await append(env.client, alice.headers, media_id, index, parts[index])

        response = await finalize(env.client, alice.headers, media_id)

        assert response.status_code == 400
        body = response.json()
        assert body["request"] == URL
        assert body["error"] == "Segments do not add up to provided total file size."
        assert body["missing_segments"] == [1]
        assert body["received_bytes"] == len(parts[0]) + len(parts[2])
        assert body["total_bytes"] == len(data)

    async def test_finalize_without_segments_is_refused(self, env: Env, alice: User) -> None:
        started = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")

        response = await finalize(env.client, alice.headers, started.json()["media_id"])

        assert response.status_code == 400
        assert response.json()["received_bytes"] == 0

    async def test_video_without_category_is_synchronous_201(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, mp4_file, media_type="video/mp4")

        assert "processing_info" not in body
        assert "media_key" not in body
        assert body["video"] == {"video_type": "video/mp4"}
        assert body["size"] == mp4_file.stat().st_size
        assert body["expires_after_secs"] > 0

    async def test_image_finalize_reports_type_and_dimensions(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, jpeg_file, media_type="image/jpeg", category="tweet_image"
        )

        assert body["image"] == {"image_type": "image/jpeg", "w": 80, "h": 60}
        assert body["media_key"].startswith("3_")
        assert "processing_info" not in body

    async def test_video_with_category_is_async_then_succeeds(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )
        pending = await status(env.client, alice.headers, body["media_id"])

        assert body["processing_info"] == {"state": "pending", "check_after_secs": 1}
        assert pending.json()["processing_info"]["state"] == "pending"
        assert await _runner(env).run_once()
        done = (await status(env.client, alice.headers, body["media_id"])).json()
        assert done["processing_info"]["state"] == "succeeded"
        assert "check_after_secs" not in done["processing_info"]
        assert done["media_id_string"] == body["media_id_string"]

    async def test_repeated_finalize_returns_the_current_state(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, mp4_file, media_type="video/mp4", category="tweet_video"
        )

        again = await finalize(env.client, alice.headers, body["media_id"])

        assert again.status_code == 200
        assert again.json()["processing_info"]["state"] == "pending"

    async def test_image_whose_bytes_lie_is_refused_and_its_bytes_removed(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        data = jpeg_file.read_bytes()[:40] + b"\x00" * 200  # a JPEG signature, then garbage
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="image/jpeg"
        )
        media_id = started.json()["media_id_string"]
        await append(env.client, alice.headers, media_id, 0, data)

        response = await finalize(env.client, alice.headers, media_id)

        assert response.status_code == 400
        assert response.json()["request"] == URL
        assert not disk(env).blob_path(media_id).exists()

    async def test_gif_declared_as_png_is_stopped_at_segment_zero(
        self, env: Env, alice: User, gif_file: Path
    ) -> None:
        data = gif_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="image/png"
        )

        response = await append(env.client, alice.headers, started.json()["media_id"], 0, data)

        assert response.status_code == 400
        assert response.json()["detected_type"] == "image/gif"

    async def test_undecodable_video_fails_processing_with_invalid_media(
        self, env: Env, alice: User, mp4_file: Path, tmp_path: Path
    ) -> None:
        broken = tmp_path / "broken.mp4"
        broken.write_bytes(mp4_file.read_bytes()[:2000])  # real header, truncated
        body = await upload_file(
            env.client, alice.headers, broken, media_type="video/mp4", category="tweet_video"
        )

        await _runner(env).run_once()
        info = (await status(env.client, alice.headers, body["media_id"])).json()

        assert info["processing_info"]["state"] == "failed"
        assert info["processing_info"]["error"]["code"] == 1
        assert info["processing_info"]["error"]["name"] == "InvalidMedia"

    @pytest.mark.slow
    async def test_40_mib_amplify_video_out_of_order_keeps_size_and_sha256(
        self, env: Env, alice: User, big_video: Path
    ) -> None:
        data = big_video.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4",
            category="amplify_video",
        )  # fmt: skip
        media_id = started.json()["media_id_string"]
        parts = segments(data, 5 * MIB)
        order = list(range(len(parts)))
        order = order[1::2] + order[::2]

        for index in order:
            appended = await append(env.client, alice.headers, media_id, index, parts[index])
            assert appended.status_code == 204
        done = await finalize(env.client, alice.headers, media_id)

        assert done.status_code == 200
        assert done.json()["size"] == len(data)
        blob = disk(env).blob_path(media_id)
        assert blob.stat().st_size == len(data)
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


class TestStatus:
    async def test_status_of_media_needing_no_processing_is_404_code_34(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, png_file, media_type="image/png")

        response = await status(env.client, alice.headers, body["media_id"])

        assert response.status_code == 404
        assert response.json() == {
            "errors": [{"code": 34, "message": "Sorry, that page does not exist."}]
        }

    async def test_upload_info_lets_a_client_resend_only_what_is_missing(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        data = mp4_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4"
        )
        media_id = started.json()["media_id_string"]
        parts = segments(data, 25_000)
        for index in range(0, len(parts), 2):
            await append(env.client, alice.headers, media_id, index, parts[index])

        info = (await status(env.client, alice.headers, media_id)).json()
        have = {s["segment_index"]: s for s in info["upload_info"]["segments"]}
        for index, part in enumerate(parts):
            if index not in have or have[index]["sha256"] != hashlib.sha256(part).hexdigest():
                await append(env.client, alice.headers, media_id, index, part)
        done = await finalize(env.client, alice.headers, media_id)

        assert info["processing_info"]["check_after_secs"] >= 1
        assert info["upload_info"]["received_bytes"] == sum(len(parts[i]) for i in have)
        assert all(have[i]["size"] == len(parts[i]) for i in have)
        assert done.status_code == 201

    async def test_status_must_be_a_get_with_command_status(self, env: Env, alice: User) -> None:
        response = await env.client.get(
            URL, params={"command": "FINALIZE", "media_id": "1"}, headers=alice.headers
        )
        missing = await env.client.get(URL, params={"command": "STATUS"}, headers=alice.headers)

        assert response.status_code == 400
        assert missing.json()["errors"][0] == {
            "code": 38,
            "message": "media_id parameter is missing.",
        }


class TestExpiry:
    async def test_expired_upload_is_refused(self, env: Env, alice: User, mp4_file: Path) -> None:
        data = mp4_file.read_bytes()
        started = await init(
            env.client, alice.headers, total_bytes=len(data), media_type="video/mp4"
        )
        media_id = started.json()["media_id_string"]
        later = utcnow() + timedelta(seconds=started.json()["expires_after_secs"] + 1)

        async def clock():  # type: ignore[no-untyped-def]
            return lambda: later

        env.app.dependency_overrides[get_clock] = clock
        appended = await append(env.client, alice.headers, media_id, 0, data)
        finalized = await finalize(env.client, alice.headers, media_id)
        polled = await status(env.client, alice.headers, media_id)

        assert appended.status_code == 400
        assert "expired" in appended.json()["error"]
        assert finalized.status_code == 400
        assert polled.status_code == 400
