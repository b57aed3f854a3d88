"""Profile image and banner (spec §7.3), users/show, and the public files they serve."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from PIL import Image

from app.storage import keys
from app.storage.filesystem import FilesystemStore
from app.storage.keys import ProfileKind
from tests.conftest import Env, User

BANNER_SIZES = {
    "1500x500": (1500, 500),
    "600x200": (600, 200),
    "300x100": (300, 100),
    "web": (520, 260),
    "web_retina": (1040, 520),
    "ipad": (626, 313),
    "ipad_retina": (1252, 626),
    "mobile": (320, 160),
    "mobile_retina": (640, 320),
}


def image_bytes(fmt: str, size: tuple[int, int], colour: Any = (200, 30, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def animated_gif(size: tuple[int, int] = (120, 80), frames: int = 4) -> bytes:
    images = [Image.new("RGB", size, (i * 60, 255 - i * 60, 40)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def quadrants(size: tuple[int, int]) -> bytes:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    width, height = size
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    image.paste((0, 255, 0), (width // 2, 0, width, height // 2))
    image.paste((0, 0, 255), (0, height // 2, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def update_image(env: Env, user: User, data: bytes) -> Response:
    return await env.client.post(
        "/1.1/account/update_profile_image.json",
        headers=user.headers,
        data={"image": base64.b64encode(data).decode(), "skip_status": "true"},
    )


async def update_banner(env: Env, user: User, data: bytes, **crop: int) -> Response:
    return await env.client.post(
        "/1.1/account/update_profile_banner.json",
        headers=user.headers,
        data={"banner": base64.b64encode(data).decode(), **{k: str(v) for k, v in crop.items()}},
    )


async def fetch_image(env: Env, url: str) -> tuple[Response, Image.Image]:
    response = await env.client.get(url)
    assert response.status_code == 200, (url, response.text)
    return response, Image.open(io.BytesIO(response.content))


async def show(env: Env, user: User, **params: str) -> Response:
    return await env.client.get("/1.1/users/show.json", headers=user.headers, params=params)


def profile_dir(env: Env, user: User, kind: ProfileKind) -> Path:
    store = env.state.store
    assert isinstance(store, FilesystemStore)
    return store.path_of(keys.profile_prefix(user.id, kind))


def _code(response: Response) -> int:
    return int(response.json()["errors"][0]["code"])


class TestUpdateProfileImage:
    async def test_variants_have_their_pixel_sizes(self, env: Env, alice: User) -> None:
        response = await update_image(env, alice, image_bytes("PNG", (300, 200)))

        assert response.status_code == 200, response.text
        user = response.json()
        normal = user["profile_image_url_https"]
        assert normal.startswith(f"http://testserver/profile_images/{alice.id}/")
        assert normal.endswith("/avatar_normal.png")
        assert user["profile_image_url"] == normal
        assert user["default_profile_image"] is False
        expected = {"_normal": (48, 48), "_bigger": (73, 73), "_mini": (24, 24), "": (300, 200)}
        for suffix, size in expected.items():
            served, image = await fetch_image(env, normal.replace("_normal", suffix))
            assert image.size == size
            assert image.format == "PNG"
            assert served.headers["content-type"] == "image/png"
            assert "immutable" in served.headers["cache-control"]
            assert served.headers["etag"]

    async def test_conditional_get_is_not_modified(self, env: Env, alice: User) -> None:
        url = (await update_image(env, alice, image_bytes("JPEG", (80, 60)))).json()[
            "profile_image_url_https"
        ]
        first = await env.client.get(url)

        again = await env.client.get(url, headers={"If-None-Match": first.headers["etag"]})

        assert first.headers["content-type"] == "image/jpeg"
        assert again.status_code == 304

    async def test_wider_than_400_px_is_scaled_to_400(self, env: Env, alice: User) -> None:
        response = await update_image(env, alice, image_bytes("JPEG", (1000, 500)))

        url = response.json()["profile_image_url_https"].replace("_normal", "")
        _, image = await fetch_image(env, url)
        assert url.endswith("/avatar.jpg")
        assert image.size == (400, 200)

    async def test_animated_gif_is_flattened_to_one_frame(self, env: Env, alice: User) -> None:
        source = animated_gif()
        assert getattr(Image.open(io.BytesIO(source)), "n_frames", 1) == 4

        response = await update_image(env, alice, source)

        normal = response.json()["profile_image_url_https"]
        for url in (normal, normal.replace("_normal", "")):
            _, image = await fetch_image(env, url)
            assert getattr(image, "n_frames", 1) == 1
            assert getattr(image, "is_animated", False) is False

    async def test_over_700_kb_is_refused_and_the_old_image_stays(
        self, env: Env, alice: User
    ) -> None:
        before = (await update_image(env, alice, image_bytes("PNG", (50, 50)))).json()
        big = noise_png((500, 500))
        assert len(big) > 700 * 1024

        response = await update_image(env, alice, big)

        assert response.status_code == 400
        assert _code(response) == 324
        assert "716800" in response.json()["errors"][0]["message"]
        after = (await show(env, alice, user_id=str(alice.id))).json()
        assert after["profile_image_url_https"] == before["profile_image_url_https"]
        await fetch_image(env, after["profile_image_url_https"])
        assert len(list(profile_dir(env, alice, "images").iterdir())) == 1

    async def test_body_far_over_the_limit_is_refused_unread(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            "/1.1/account/update_profile_image.json",
            headers=alice.headers,
            data={"image": "A" * (2 * 1024 * 1024)},
        )

        assert response.status_code == 400
        assert _code(response) == 324

    @pytest.mark.parametrize(
        "payload",
        [base64.b64encode(b"this is not an image at all").decode(), "%%%not base64", "abcde"],
        ids=["text", "garbage", "bad-padding"],
    )
    async def test_unreadable_image_is_400(self, env: Env, alice: User, payload: str) -> None:
        response = await env.client.post(
            "/1.1/account/update_profile_image.json", headers=alice.headers, data={"image": payload}
        )

        assert response.status_code == 400
        assert _code(response) == 324

    async def test_other_formats_are_refused(self, env: Env, alice: User) -> None:
        response = await update_image(env, alice, image_bytes("BMP", (40, 40)))

        assert response.status_code == 400

    async def test_missing_image_is_400(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            "/1.1/account/update_profile_image.json", headers=alice.headers, data={}
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == "image parameter is missing."

    async def test_multipart_body_is_accepted(self, env: Env, alice: User) -> None:
        encoded = base64.b64encode(image_bytes("PNG", (64, 64))).decode()

        response = await env.client.post(
            "/1.1/account/update_profile_image.json",
            headers=alice.headers,
            files={"image": (None, encoded)},
        )

        assert response.status_code == 200, response.text
        await fetch_image(env, response.json()["profile_image_url_https"])

    async def test_replacing_removes_the_old_files(self, env: Env, alice: User) -> None:
        old = (await update_image(env, alice, image_bytes("PNG", (60, 60)))).json()

        new = (await update_image(env, alice, image_bytes("JPEG", (70, 70)))).json()

        assert new["profile_image_url_https"] != old["profile_image_url_https"]
        assert (await env.client.get(old["profile_image_url_https"])).status_code == 404
        await fetch_image(env, new["profile_image_url_https"])
        token = new["profile_image_url_https"].split("/")[-2]
        assert [p.name for p in profile_dir(env, alice, "images").iterdir()] == [token]

    async def test_files_a_crashed_update_left_are_swept_once_an_hour_old(
        self, env: Env, alice: User
    ) -> None:
        store = env.state.store
        crashed = keys.profile(alice.id, "images", "0" * 20, "avatar.png")
        in_flight = keys.profile(alice.id, "images", "1" * 20, "avatar.png")
        await store.put(crashed, b"left by a crash")
        await store.put(in_flight, b"another update, still running")
        assert isinstance(store, FilesystemStore)
        os.utime(store.path_of(crashed), (0, 0))  # written in 1970

        new = (await update_image(env, alice, image_bytes("PNG", (60, 60)))).json()

        token = new["profile_image_url_https"].split("/")[-2]
        assert sorted(p.name for p in profile_dir(env, alice, "images").iterdir()) == sorted(
            [token, "1" * 20]
        )

    async def test_requires_authentication(self, env: Env) -> None:
        response = await env.client.post(
            "/1.1/account/update_profile_image.json", data={"image": "AAAA"}
        )

        assert response.status_code == 401

    async def test_unknown_file_names_are_not_found(self, env: Env, alice: User) -> None:
        url = (await update_image(env, alice, image_bytes("PNG", (60, 60)))).json()[
            "profile_image_url_https"
        ]

        for wrong in (
            url.replace("_normal.png", "_normal.jpg"),
            url.replace("_normal", "_huge"),
            url.replace(f"/{alice.id}/", "/1/"),
            url.rsplit("/", 2)[0] + "/0123456789abcdef0123/avatar_normal.png",
        ):
            assert (await env.client.get(wrong)).status_code == 404, wrong


class TestUpdateProfileBanner:
    async def test_every_size_is_made(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            "/1.1/account/update_profile_banner.json",
            headers=alice.headers,
            files={"banner": ("banner.png", image_bytes("PNG", (1600, 600)), "image/png")},
        )

        assert response.status_code == 201, response.text
        assert response.content == b""
        banner = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]
        assert banner.startswith(f"http://testserver/profile_banners/{alice.id}/")
        for name, size in BANNER_SIZES.items():
            served, image = await fetch_image(env, f"{banner}/{name}")
            assert image.size == size, name
            assert image.format == "PNG"
            assert served.headers["content-type"] == "image/png"
            assert "immutable" in served.headers["cache-control"]
        _, bare = await fetch_image(env, banner)
        assert bare.size == (1500, 500)

    async def test_jpeg_banner_is_served_as_jpeg(self, env: Env, alice: User) -> None:
        await update_banner(env, alice, image_bytes("JPEG", (1500, 500)))

        banner = (await show(env, alice, screen_name="alice")).json()["profile_banner_url"]
        served, image = await fetch_image(env, f"{banner}/web")
        assert served.headers["content-type"] == "image/jpeg"
        assert image.size == (520, 260)

    @pytest.mark.parametrize(
        ("crop", "colour"),
        [
            ({"width": 1000, "height": 400, "offset_left": 1000, "offset_top": 0}, (0, 255, 0)),
            ({"width": 900, "height": 300, "offset_left": 0, "offset_top": 450}, (0, 0, 255)),
            ({"offset_left": 1000, "offset_top": 400}, (255, 255, 255)),
        ],
        ids=["top-right", "bottom-left", "offsets-only"],
    )
    async def test_crop_parameters_are_honoured(
        self, env: Env, alice: User, crop: dict[str, int], colour: tuple[int, int, int]
    ) -> None:
        response = await update_banner(env, alice, quadrants((2000, 800)), **crop)

        assert response.status_code == 201, response.text
        banner = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]
        _, image = await fetch_image(env, f"{banner}/1500x500")
        rgb = image.convert("RGB")
        for point in ((5, 5), (1494, 5), (5, 494), (1494, 494), (750, 250)):
            assert rgb.getpixel(point) == colour, point

    async def test_crop_outside_the_image_is_422(self, env: Env, alice: User) -> None:
        response = await update_banner(
            env, alice, image_bytes("PNG", (1500, 500)), width=1500, height=500, offset_left=10
        )

        assert response.status_code == 422
        assert "outside" in response.json()["errors"][0]["message"]

    async def test_unreadable_banner_is_400(self, env: Env, alice: User) -> None:
        response = await update_banner(env, alice, b"GIF89a but not really a gif")

        assert response.status_code == 400

    async def test_missing_banner_is_400(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            "/1.1/account/update_profile_banner.json", headers=alice.headers, data={"width": "5"}
        )

        assert response.status_code == 400

    async def test_failed_update_keeps_the_previous_banner(self, env: Env, alice: User) -> None:
        await update_banner(env, alice, image_bytes("PNG", (1500, 500)))
        before = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]

        response = await update_banner(env, alice, b"\x89PNG\r\n\x1a\n truncated")

        assert response.status_code == 400
        after = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]
        assert after == before
        await fetch_image(env, f"{after}/mobile")
        assert len(list(profile_dir(env, alice, "banners").iterdir())) == 1

    async def test_replacing_removes_the_old_files(self, env: Env, alice: User) -> None:
        await update_banner(env, alice, image_bytes("PNG", (1500, 500)))
        old = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]

        await update_banner(env, alice, image_bytes("JPEG", (1500, 500), (0, 0, 0)))

        new = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]
        assert new != old
        assert (await env.client.get(f"{old}/web")).status_code == 404
        assert [p.name for p in profile_dir(env, alice, "banners").iterdir()] == [
            new.rsplit("/", 1)[-1]
        ]


class TestRemoveProfileBanner:
    async def test_remove_banner(self, env: Env, alice: User) -> None:
        await update_banner(env, alice, image_bytes("PNG", (1500, 500)))
        banner = (await show(env, alice, user_id=str(alice.id))).json()["profile_banner_url"]

        response = await env.client.post(
            "/1.1/account/remove_profile_banner.json", headers=alice.headers
        )

        assert response.status_code == 200
        user = (await show(env, alice, user_id=str(alice.id))).json()
        assert "profile_banner_url" not in user
        assert (await env.client.get(f"{banner}/web")).status_code == 404
        assert list(profile_dir(env, alice, "banners").iterdir()) == []

    async def test_remove_without_a_banner_is_200(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            "/1.1/account/remove_profile_banner.json", headers=alice.headers
        )

        assert response.status_code == 200


class TestUsersShow:
    async def test_fields_by_id_and_by_screen_name(self, env: Env, alice: User, bob: User) -> None:
        avatar = (await update_image(env, bob, image_bytes("PNG", (90, 90)))).json()
        await update_banner(env, bob, image_bytes("PNG", (1500, 500)))

        by_id = (await show(env, alice, user_id=str(bob.id))).json()
        by_name = (await show(env, alice, screen_name="BOB")).json()

        assert by_id == by_name
        assert by_id["id_str"] == str(bob.id)
        assert by_id["screen_name"] == "bob"
        assert by_id["profile_image_url_https"] == avatar["profile_image_url_https"]
        assert by_id["profile_banner_url"].startswith(
            f"http://testserver/profile_banners/{bob.id}/"
        )
        _, image = await fetch_image(env, by_id["profile_image_url_https"])
        assert image.size == (48, 48)

    async def test_default_avatar_and_no_banner(self, env: Env, alice: User) -> None:
        user = (await show(env, alice, user_id=str(alice.id))).json()

        assert user["default_profile_image"] is True
        assert user["profile_image_url_https"].endswith("/default_normal.png")
        assert "profile_banner_url" not in user
        _, image = await fetch_image(env, user["profile_image_url_https"])
        assert image.size == (48, 48)

    async def test_unknown_user_is_404_code_50(self, env: Env, alice: User) -> None:
        for params in ({"user_id": "12345"}, {"screen_name": "nobody"}):
            response = await show(env, alice, **params)

            assert response.status_code == 404
            assert _code(response) == 50

    async def test_without_user_id_or_screen_name_is_400(self, env: Env, alice: User) -> None:
        response = await show(env, alice)

        assert response.status_code == 400
