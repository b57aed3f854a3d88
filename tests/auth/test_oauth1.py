"""OAuth 1.0a user context: what is signed, what is refused, and how."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import OAuthSettings
from app.core.clock import utcnow
from app.infra.db import make_sessionmaker
from app.jobs.sweeper import sweep_once
from app.main import create_app
from app.models import OAuthNonce
from tests.conftest import Env, User, _truncate, make_settings
from tests.fixtures.oauth import URLENCODED, oauth_header

BASE = "http://testserver"
UPLOAD = f"{BASE}/1.1/media/upload.json"


def _init_form(size: int = 1000) -> str:
    return urlencode({"command": "INIT", "total_bytes": str(size), "media_type": "video/mp4"})


async def _post_form(env: Env, user: User, form: str, **overrides: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = oauth_header(user.credentials, "POST", UPLOAD, form=form, **overrides)
    response = await env.client.post(UPLOAD, content=form, headers={**headers, **URLENCODED})
    return response.status_code, response.json() if response.content else {}


class TestSignature:
    async def test_signed_urlencoded_init_is_accepted_and_its_body_still_parsed(
        self, env: Env, alice: User
    ) -> None:
        status, body = await _post_form(env, alice, _init_form(1234))

        assert status == 202, body
        info = await env.client.get(
            UPLOAD,
            params={"command": "STATUS", "media_id": body["media_id_string"]},
            headers=alice.headers,
        )
        assert info.json()["upload_info"]["total_bytes"] == 1234

    async def test_signed_get_with_query_is_accepted(self, env: Env, alice: User) -> None:
        _, started = await _post_form(env, alice, _init_form())
        url = f"{UPLOAD}?command=STATUS&media_id={started['media_id_string']}"

        response = await env.client.get(url, headers=oauth_header(alice.credentials, "GET", url))

        assert response.status_code == 200, response.text
        assert response.json()["processing_info"]["state"] == "uploading"

    async def test_wrong_signature_is_refused_with_code_32(self, env: Env, alice: User) -> None:
        headers = oauth_header(alice.credentials, "POST", UPLOAD, form=_init_form())
        tampered = headers["Authorization"].replace('oauth_signature="', 'oauth_signature="x', 1)

        response = await env.client.post(
            UPLOAD, content=_init_form(), headers={"Authorization": tampered, **URLENCODED}
        )

        assert response.status_code == 401
        assert response.json() == {
            "errors": [{"code": 32, "message": "Could not authenticate you."}]
        }

    async def test_wrong_token_secret_is_refused(self, env: Env, alice: User) -> None:
        status, body = await _post_form(env, alice, _init_form(), token_secret="not-the-secret")

        assert (status, body["errors"][0]["code"]) == (401, 32)

    async def test_a_body_changed_after_signing_is_refused(self, env: Env, alice: User) -> None:
        headers = oauth_header(alice.credentials, "POST", UPLOAD, form=_init_form(1000))

        response = await env.client.post(
            UPLOAD, content=_init_form(2000), headers={**headers, **URLENCODED}
        )

        assert response.status_code == 401

    async def test_a_query_changed_after_signing_is_refused(self, env: Env, alice: User) -> None:
        url = f"{UPLOAD}?command=STATUS&media_id=1"
        headers = oauth_header(alice.credentials, "GET", url)

        response = await env.client.get(f"{UPLOAD}?command=STATUS&media_id=2", headers=headers)

        assert response.status_code == 401

    async def test_stale_timestamp_is_refused(self, env: Env, alice: User) -> None:
        stale = str(int(time.time()) - 301)

        status, body = await _post_form(env, alice, _init_form(), timestamp=stale)

        assert (status, body["errors"][0]["code"]) == (401, 32)

    async def test_timestamp_in_the_future_is_refused(self, env: Env, alice: User) -> None:
        status, _ = await _post_form(
            env, alice, _init_form(), timestamp=str(int(time.time()) + 400)
        )

        assert status == 401

    async def test_replayed_nonce_is_refused(self, env: Env, alice: User) -> None:
        form = _init_form()
        headers = {**oauth_header(alice.credentials, "POST", UPLOAD, form=form), **URLENCODED}

        first = await env.client.post(UPLOAD, content=form, headers=headers)
        again = await env.client.post(UPLOAD, content=form, headers=headers)

        assert first.status_code == 202
        assert again.status_code == 401
        assert again.json()["errors"][0]["code"] == 32

    async def test_unknown_token_is_code_89(self, env: Env, alice: User) -> None:
        status, body = await _post_form(env, alice, _init_form(), token="123-nope")

        assert status == 401
        assert body == {"errors": [{"code": 89, "message": "Invalid or expired token."}]}

    async def test_another_apps_consumer_key_is_refused(
        self, env: Env, alice: User, bob: User, engine: AsyncEngine
    ) -> None:
        from app.accounts import oauth
        from app.core.ids import IdGenerator

        async with make_sessionmaker(engine)() as session:
            other = await oauth.create_client_app(session, IdGenerator(), name="other")
        creds = alice.credentials
        from oauthlib.oauth1 import Client

        client = Client(
            other.consumer_key,
            client_secret=other.consumer_secret,
            resource_owner_key=creds.access_token,
            resource_owner_secret=creds.access_token_secret,
        )
        _, headers, _ = client.sign(UPLOAD, "POST", body=_init_form(), headers=dict(URLENCODED))

        response = await env.client.post(UPLOAD, content=_init_form(), headers=headers)

        assert response.status_code == 401

    async def test_missing_oauth_parameter_is_refused(self, env: Env, alice: User) -> None:
        header = oauth_header(alice.credentials, "POST", UPLOAD, form=_init_form())
        without_nonce = ", ".join(
            part for part in header["Authorization"].split(", ") if "oauth_nonce" not in part
        )

        response = await env.client.post(
            UPLOAD, content=_init_form(), headers={"Authorization": without_nonce, **URLENCODED}
        )

        assert response.status_code == 401

    async def test_bearer_still_works(self, env: Env, alice: User) -> None:
        response = await env.client.post(
            UPLOAD,
            data={"command": "INIT", "total_bytes": "10", "media_type": "image/png"},
            headers=alice.headers,
        )

        assert response.status_code == 202


class TestBodies:
    async def test_multipart_body_is_not_signed(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        headers = oauth_header(alice.credentials, "POST", UPLOAD)  # oauth_* params only

        response = await env.client.post(
            UPLOAD,
            files={"media": ("image.png", png_file.read_bytes(), "image/png")},
            data={"media_category": "tweet_image"},
            headers=headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["image"]["image_type"] == "image/png"

    async def test_urlencoded_media_data_is_signed_and_still_streams_to_the_parser(
        self, env: Env, alice: User, png_file: Path
    ) -> None:
        media = base64.b64encode(png_file.read_bytes()).decode()
        form = urlencode({"media_data": media, "media_category": "tweet_image"})

        status, body = await _post_form(env, alice, form)

        assert status == 200, body
        assert body["size"] == png_file.stat().st_size

    async def test_json_body_is_not_signed(self, env: Env, alice: User) -> None:
        url = f"{BASE}/2/media/upload/initialize"
        headers = oauth_header(alice.credentials, "POST", url)

        response = await env.client.post(
            url, json={"media_type": "video/mp4", "total_bytes": 1000}, headers=headers
        )

        assert response.status_code == 200, response.text


@pytest.fixture
async def tuned_env(
    request: pytest.FixtureRequest, database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Env]:
    """An app with OAuth settings from the test's ``oauth`` marker-less param."""
    settings = make_settings(database_url, tmp_path / "data", oauth=request.param)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app, client=("127.0.0.1", 4711))
        async with AsyncClient(transport=transport, base_url=BASE) as client:
            yield Env(app=app, client=client, data_dir=tmp_path / "data", database_url=database_url)
    await _truncate(engine)


TRUSTED = OAuthSettings(trusted_proxies=["127.0.0.0/8"])
PUBLIC = "https://upload.example.com/1.1/media/upload.json"


async def _via_proxy(env: Env, user: User, headers: dict[str, str]) -> int:
    form = _init_form()
    signed = oauth_header(user.credentials, "POST", PUBLIC, form=form)
    response = await env.client.post(
        UPLOAD, content=form, headers={**signed, **URLENCODED, **headers}
    )
    return response.status_code


class TestProxies:
    @pytest.mark.parametrize("tuned_env", [TRUSTED], indirect=True)
    async def test_forwarded_proto_and_host_from_a_trusted_proxy_name_the_signed_url(
        self, tuned_env: Env, engine: AsyncEngine
    ) -> None:
        from tests.conftest import create_user

        user = await create_user(engine, "carol")
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "upload.example.com"}

        assert await _via_proxy(tuned_env, user, forwarded) == 202

    @pytest.mark.parametrize("tuned_env", [OAuthSettings()], indirect=True)
    async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
        self, tuned_env: Env, engine: AsyncEngine
    ) -> None:
        from tests.conftest import create_user

        user = await create_user(engine, "carol")
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "upload.example.com"}

        assert await _via_proxy(tuned_env, user, forwarded) == 401

    @pytest.mark.parametrize("tuned_env", [TRUSTED], indirect=True)
    async def test_x_original_host_is_never_trusted(
        self, tuned_env: Env, engine: AsyncEngine
    ) -> None:
        from tests.conftest import create_user

        user = await create_user(engine, "carol")
        hint = {"X-Forwarded-Proto": "https", "X-Original-Host": "upload.example.com"}

        assert await _via_proxy(tuned_env, user, hint) == 401

    @pytest.mark.parametrize(
        "tuned_env", [OAuthSettings(max_signed_body_bytes=1024)], indirect=True
    )
    async def test_a_urlencoded_body_over_the_cap_is_refused_unread(
        self, tuned_env: Env, engine: AsyncEngine
    ) -> None:
        from tests.conftest import create_user

        user = await create_user(engine, "carol")
        form = urlencode({"media_data": "A" * 2000})
        headers = oauth_header(user.credentials, "POST", UPLOAD, form=form)

        response = await tuned_env.client.post(
            UPLOAD, content=form, headers={**headers, **URLENCODED}
        )

        assert response.status_code == 413
        assert response.json()["errors"][0]["max_signed_body_bytes"] == 1024


class TestNonces:
    async def test_sweeper_forgets_expired_nonces(
        self, env: Env, alice: User, engine: AsyncEngine
    ) -> None:
        await _post_form(env, alice, _init_form())
        sessions = make_sessionmaker(engine)
        count = select(func.count()).select_from(OAuthNonce)
        async with sessions() as session:
            assert await session.scalar(count) == 1

        await sweep_once(sessions, env.state.store, now=utcnow() + timedelta(seconds=301))

        async with sessions() as session:
            assert await session.scalar(count) == 0
