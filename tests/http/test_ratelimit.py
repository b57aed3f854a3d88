"""Every upload route is rate-limited, v1.1 included, in windows counted in the database.

v1.1 media/upload has no published numbers (spec §9): each command has a window of its
own with its v2 endpoint's numbers, and ``MEDIASTUDIO_RATE_LIMITS`` (settings.rate_limits)
overrides them by endpoint name.
"""

from __future__ import annotations

from pathlib import Path

from httpx import ASGITransport, AsyncClient, Response

from app.core.clock import utcnow
from app.main import create_app
from tests.conftest import Env, User, make_settings
from tests.fixtures.protocol import URL, append, finalize, init, status


def _assert_429_in_v11_form(response: Response) -> None:
    assert response.status_code == 429
    assert response.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded."}]}
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert int(response.headers["x-rate-limit-reset"]) > utcnow().timestamp()


class TestV11Upload:
    async def test_third_init_over_a_limit_of_2_is_429(self, env: Env, alice: User) -> None:
        env.state.settings.rate_limits["media/upload:INIT"] = {"user": (2, 900)}

        first, second, third = [
            await init(env.client, alice.headers, total_bytes=10, media_type="image/png")
            for _ in range(3)
        ]

        assert [first.status_code, second.status_code] == [202, 202]
        assert first.headers["x-rate-limit-limit"] == "2"
        assert first.headers["x-rate-limit-remaining"] == "1"
        assert second.headers["x-rate-limit-remaining"] == "0"
        _assert_429_in_v11_form(third)

    async def test_status_append_and_finalize_have_windows_of_their_own(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        for command in ("STATUS", "APPEND", "FINALIZE"):
            env.state.settings.rate_limits[f"media/upload:{command}"] = {"user": (1, 900)}
        data = png_file.read_bytes()
        media_id = (
            await init(env.client, alice.headers, total_bytes=len(data), media_type="image/png")
        ).json()["media_id_string"]

        appended = await append(env.client, alice.headers, media_id, 0, data)
        appended_again = await append(env.client, alice.headers, media_id, 0, data)
        polled = await status(env.client, alice.headers, media_id)
        polled_again = await status(env.client, alice.headers, media_id)
        done = await finalize(env.client, alice.headers, media_id)
        done_again = await finalize(env.client, alice.headers, media_id)

        assert appended.status_code == 204
        assert polled.status_code == 200
        assert done.status_code == 201
        for refused in (appended_again, polled_again, done_again):
            _assert_429_in_v11_form(refused)

    async def test_simple_upload_is_limited(self, env: Env, alice: User, png_file: Path) -> None:
        env.state.settings.rate_limits["media/upload"] = {"user": (1, 900)}
        files = {"media": ("image.png", png_file.read_bytes(), "image/png")}

        first = await env.client.post(URL, files=files, headers=alice.headers)
        second = await env.client.post(URL, files=files, headers=alice.headers)

        assert first.status_code == 200
        assert first.headers["x-rate-limit-limit"] == "1"
        _assert_429_in_v11_form(second)

    async def test_default_numbers_are_the_v2_ones(self, env: Env, alice: User) -> None:
        response = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")

        assert response.headers["x-rate-limit-limit"] == "1875"
        assert response.headers["x-rate-limit-remaining"] == "1874"

    async def test_a_refused_parameter_is_not_counted(self, env: Env, alice: User) -> None:
        env.state.settings.rate_limits["media/upload:INIT"] = {"user": (1, 900)}

        refused = await env.client.post(URL, data={"command": "INIT"}, headers=alice.headers)
        response = await init(env.client, alice.headers, total_bytes=10, media_type="image/png")

        assert refused.status_code == 400
        assert response.status_code == 202


class TestLeases:
    async def test_headers_count_every_request_while_a_lease_serves_them(
        self, env: Env, alice: User
    ) -> None:
        # 1000 per window: the process reserves 10 at a time, the headers stay exact.
        env.state.settings.rate_limits["media/upload:INIT"] = {"user": (1000, 900)}

        remaining = [
            (await init(env.client, alice.headers, total_bytes=10, media_type="image/png")).headers[
                "x-rate-limit-remaining"
            ]
            for _ in range(25)
        ]

        assert remaining == [str(1000 - n) for n in range(1, 26)]

    async def test_two_processes_never_exceed_the_window(
        self, env: Env, alice: User, tmp_path: Path
    ) -> None:
        # 200 per window, reserved 2 at a time by each of two apps on one database.
        limits = {"media/upload:INIT": {"user": (200, 900)}}
        env.state.settings.rate_limits.update(limits)
        other = create_app(make_settings(env.database_url, tmp_path / "other", rate_limits=limits))
        accepted = 0
        async with other.router.lifespan_context(other):
            transport = ASGITransport(app=other)
            async with AsyncClient(transport=transport, base_url="http://testserver") as client:
                for _ in range(110):
                    for each in (env.client, client):
                        response = await init(
                            each, alice.headers, total_bytes=10, media_type="image/png"
                        )
                        assert response.status_code in (202, 429), response.text
                        accepted += response.status_code == 202

        assert 200 - 2 * 2 <= accepted <= 200
