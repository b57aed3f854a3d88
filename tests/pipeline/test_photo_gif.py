from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from app.processing.probe import probe
from tests.conftest import Env, User
from tests.fixtures.protocol import finalize, status, upload_file
from tests.pipeline.conftest import decode_errors, media_object, runner

SIZES = {"thumb": (150, 150), "small": (453, 680), "medium": (800, 1200), "large": (800, 1200)}


class TestPhotos:
    async def test_jpeg_with_gps_is_served_without_it_in_every_size(
        self, env: Env, alice: User, jpeg_with_gps: Path
    ) -> None:
        body = await upload_file(
            env.client,
            alice.headers,
            jpeg_with_gps,
            media_type="image/jpeg",
            category="tweet_image",
        )
        assert body["image"] == {"image_type": "image/jpeg", "w": 800, "h": 1200}

        entity = await media_object(env, body["media_id"])

        url = entity["media_url_https"]
        assert entity["type"] == "photo"
        assert entity["sizes"]["small"] == {"w": 453, "h": 680, "resize": "fit"}
        for name in ["thumb", "small", "medium", "large", "orig"]:
            response = await env.client.get(url, params={"name": name})
            assert response.status_code == 200, name
            assert response.headers["content-type"] == "image/jpeg"
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            with Image.open(io.BytesIO(response.content)) as image:
                assert image.size == SIZES.get(name, (800, 1200))
                exif = image.getexif()
                assert ExifTags.IFD.GPSInfo not in exif
                assert ExifTags.Base.Make not in exif
                assert "exif" not in image.info
                assert "comment" not in image.info
            assert b"TestCam" not in response.content

    async def test_photo_url_forms_pick_the_same_files(
        self, env: Env, alice: User, jpeg_with_gps: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, jpeg_with_gps, media_type="image/jpeg")
        url = (await media_object(env, body["media_id"]))["media_url_https"]
        token = url.rsplit("/", 1)[-1].removesuffix(".jpg")

        bare = await env.client.get(url)
        medium = await env.client.get(url, params={"name": "medium"})
        query_form = await env.client.get(
            f"/media/{token}", params={"format": "jpg", "name": "small"}
        )
        small = await env.client.get(url, params={"name": "small"})
        legacy = await env.client.get(f"/media/{token}.jpg:small")

        assert bare.content == medium.content
        assert query_form.content == small.content == legacy.content
        assert bare.content != small.content

    @pytest.mark.parametrize(
        "path",
        ["/media/AAAAAAAAAAAAAAAA.jpg", "/media/{token}.png", "/media/{token}.jpg?name=huge"],
    )
    async def test_wrong_token_format_or_size_is_not_found(
        self, env: Env, alice: User, jpeg_with_gps: Path, path: str
    ) -> None:
        body = await upload_file(env.client, alice.headers, jpeg_with_gps, media_type="image/jpeg")
        url = (await media_object(env, body["media_id"]))["media_url_https"]
        token = url.rsplit("/", 1)[-1].removesuffix(".jpg")

        response = await env.client.get(path.format(token=token))

        assert response.status_code == 404


class TestGif:
    async def test_tweet_gif_becomes_a_silent_mp4_with_a_preview(
        self, env: Env, alice: User, animated_gif: Path, tmp_path: Path
    ) -> None:
        body = await upload_file(
            env.client, alice.headers, animated_gif, media_type="image/gif", category="tweet_gif"
        )

        assert await runner(env).run_once()

        info = (await status(env.client, alice.headers, body["media_id_string"])).json()
        assert info["processing_info"]["state"] == "succeeded"
        entity = await media_object(env, body["media_id"])
        assert entity["type"] == "animated_gif"
        assert entity["video_info"]["aspect_ratio"] == [4, 3]
        assert "duration_millis" not in entity["video_info"]
        [variant] = entity["video_info"]["variants"]
        assert (variant["bitrate"], variant["content_type"]) == (0, "video/mp4")
        mp4 = await env.client.get(variant["url"])
        local = tmp_path / "gif.mp4"
        local.write_bytes(mp4.content)
        assert decode_errors(local) == ""
        facts = await probe(local)
        assert (facts.width, facts.height, facts.has_audio) == (120, 90, False)
        preview = await env.client.get(entity["media_url_https"])
        assert preview.headers["content-type"] == "image/jpeg"

    async def test_animated_gif_without_category_is_converted_before_finalize_answers(
        self, env: Env, alice: User, animated_gif: Path
    ) -> None:
        body = await upload_file(env.client, alice.headers, animated_gif, media_type="image/gif")

        entity = await media_object(env, body["media_id"])

        assert entity["type"] == "animated_gif"
        assert (await env.client.get(entity["video_info"]["variants"][0]["url"])).status_code == 200
        again = await finalize(env.client, alice.headers, body["media_id_string"])
        assert again.status_code == 201
