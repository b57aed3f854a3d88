from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import Env, User
from tests.fixtures.protocol import MIB, URL, status


class TestSimpleUpload:
    async def test_png_answers_200_with_image_and_no_media_key(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        response = await env.client.post(
            URL, files={"media": ("banner.png", png_file.read_bytes())}, headers=alice.headers
        )

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"media_id", "media_id_string", "size", "expires_after_secs", "image"}
        assert body["image"] == {"image_type": "image/png", "w": 64, "h": 48}
        assert body["size"] == png_file.stat().st_size

    async def test_media_key_only_when_a_category_was_sent(
        self, env: Env, alice: User, jpeg_file: Path
    ) -> None:
        response = await env.client.post(
            URL,
            data={"media_category": "TWEET_IMAGE"},
            files={"media": ("x.jpg", jpeg_file.read_bytes())},
            headers=alice.headers,
        )

        assert response.json()["media_key"] == f"3_{response.json()['media_id']}"

    async def test_base64_media_data_urlencoded(
        self, env: Env, alice: User, gif_file: Path
    ) -> None:
        response = await env.client.post(
            URL,
            data={"media_data": base64.b64encode(gif_file.read_bytes()).decode()},
            headers=alice.headers,
        )

        assert response.status_code == 200
        assert response.json()["image"]["image_type"] == "image/gif"

    async def test_image_over_5_mib_is_code_324(self, env: Env, alice: User) -> None:
        big = b"GIF89a" + bytes(5 * MIB)

        response = await env.client.post(
            URL, files={"media": ("big.gif", big)}, headers=alice.headers
        )

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "code": 324,
                "message": "Image file size must be <= 5242880 bytes",
                "max_bytes": 5242880,
            }
        ]
        assert not any(p.name == "blob" for p in (env.data_dir / "media").rglob("*"))

    async def test_video_is_refused_and_nothing_is_left(
        self, env: Env, alice: User, mp4_file: Path
    ) -> None:
        response = await env.client.post(
            URL, files={"media": ("v.mp4", mp4_file.read_bytes())}, headers=alice.headers
        )

        assert response.json() == {"request": URL, "error": "media type unrecognized."}
        assert not [p for p in (env.data_dir / "media").rglob("*") if p.is_file()]

    async def test_simple_upload_status_is_404(self, env: Env, alice: User, png_file: Path) -> None:
        response = await env.client.post(
            URL, files={"media": ("p.png", png_file.read_bytes())}, headers=alice.headers
        )

        polled = await status(env.client, alice.headers, response.json()["media_id"])

        assert polled.status_code == 404
