"""What the served spec promises, one behaviour at a time (schemathesis covers the rest:
tests/http/test_schemathesis.py)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from app.profiles import service as profiles
from tests.conftest import Env, User
from tests.fixtures.entities import post_status
from tests.http.test_profile import image_bytes, update_banner, update_image


class TestMethodNotAllowed:
    @pytest.mark.parametrize(
        ("path", "allow"),
        [
            ("/1.1/media/upload.json", "GET, POST"),
            ("/2/media/metadata", "POST"),
            ("/2/media/subtitles", "DELETE, POST"),
        ],
    )
    async def test_405_lists_every_method_of_the_path(
        self, env: Env, alice: User, path: str, allow: str
    ) -> None:
        response = await env.client.put(path, headers=alice.headers)

        assert response.status_code == 405
        assert response.headers["allow"] == allow

    async def test_v2_405_is_a_problem(self, env: Env, alice: User) -> None:
        response = await env.client.get("/2/media/metadata", headers=alice.headers)

        assert response.status_code == 405
        assert response.json()["status"] == 405
        assert response.json()["errors"][0]["message"]


class TestProfileAnswers:
    async def test_oversize_banner_is_400_like_an_oversize_image(
        self, env: Env, alice: User
    ) -> None:
        too_big = b"\x89PNG" + b"\0" * (profiles.MAX_BANNER_BYTES + 1)
        banner = await update_banner(env, alice, too_big)
        image = await update_image(env, alice, b"\x89PNG" + b"\0" * (profiles.MAX_IMAGE_BYTES + 1))

        assert banner.status_code == image.status_code == 400
        assert banner.json()["errors"][0]["code"] == image.json()["errors"][0]["code"] == 324

    async def test_remove_banner_is_an_empty_200_with_no_content_type(
        self, env: Env, alice: User
    ) -> None:
        response = await env.client.post(
            "/1.1/account/remove_profile_banner.json", headers=alice.headers
        )

        assert response.status_code == 200
        assert response.content == b""
        assert "content-type" not in response.headers

    async def test_served_images_are_nosniff(self, env: Env, alice: User) -> None:
        await update_image(env, alice, image_bytes("PNG", (64, 64)))
        shown = await env.client.get(
            "/1.1/users/show.json", params={"user_id": str(alice.id)}, headers=alice.headers
        )

        avatar = await env.client.get(shown.json()["profile_image_url_https"])
        default = await env.client.get("/profile_images/default_normal.png")

        assert avatar.status_code == 200
        assert avatar.headers["x-content-type-options"] == "nosniff"
        assert default.headers["x-content-type-options"] == "nosniff"


async def test_delivered_photos_are_nosniff(env: Env, alice: User, png_file: Path) -> None:
    upload = await env.client.post(
        "/1.1/media/upload.json",
        data={"media_data": base64.b64encode(png_file.read_bytes()).decode()},
        headers=alice.headers,
    )
    posted = await post_status(
        env.client, alice.headers, "nosniff", [upload.json()["media_id_string"]]
    )
    url = posted.json()["entities"]["media"][0]["media_url_https"]

    photo = await env.client.get(url)

    assert photo.status_code == 200
    assert photo.headers["x-content-type-options"] == "nosniff"


def test_no_operation_declares_fastapi_422(env: Env) -> None:
    spec = env.app.openapi()

    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            body = operation["responses"].get("422", {}).get("content", {})
            assert "HTTPValidationError" not in str(body), f"{method} {path}"
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_v2_errors_are_declared_as_problems(env: Env) -> None:
    spec = env.app.openapi()

    for path, methods in spec["paths"].items():
        if path.startswith("/2/"):
            for method, operation in methods.items():
                content = operation["responses"]["400"]["content"]
                schemas = [media["schema"] for media in content.values()]
                assert schemas == [{"$ref": "#/components/schemas/Problem"}], f"{method} {path}"
