"""Request bodies: credentials before any body byte, a cap per route enforced while the
body streams, a JSON depth limit, through the app (ASGI transport: it hands the app the
body only as the app asks for it, so the counters see exactly what was read)."""

from __future__ import annotations

import json
import re

import pytest
from httpx import Response

from app.core import errors
from app.http import json_body
from app.http.json_body import check_depth
from tests.conftest import Env, User
from tests.fixtures.bodies import Counted, assert_v2_problem, assert_v11_error
from tests.fixtures.oauth import oauth_header

BASE = "http://testserver"
_CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
]


# Routes that take a body from anyone, by design: players report playback anonymously
# (tests/analytics/test_ingest.py covers what they refuse).
ANONYMOUS = {("POST", "/studio/v1/playback/events")}


def _body_routes(env: Env) -> list[tuple[str, str]]:
    """Every route that takes a body, as the served spec lists them, path ids filled."""
    routes = []
    for path, operations in env.app.openapi()["paths"].items():
        for method in operations:
            if method in ("post", "put", "patch", "delete"):
                routes.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    assert len(routes) >= 20, routes
    return routes


def _check_error(path: str, response: Response, status: int) -> None:
    assert response.status_code == status, (path, response.status_code, response.text)
    if path.startswith("/2/"):
        assert_v2_problem(response.json(), status=status)
    elif path.startswith(("/11/", "/12/", "/studio/v1/")):  # the Ads API envelope
        body = response.json()
        assert set(body) == {"errors", "request"}, body
        assert {"code", "message"} <= set(body["errors"][0]), body
    else:
        assert_v11_error(response.json())


class TestCredentialsBeforeBody:
    @pytest.mark.parametrize("content_type", _CONTENT_TYPES)
    async def test_no_body_byte_is_read_without_valid_credentials(
        self, env: Env, alice: User, content_type: str
    ) -> None:
        failures = []

        for method, path in _body_routes(env):
            if (method, path) in ANONYMOUS:
                continue
            for credentials in ("none", "unknown bearer", "unknown oauth token"):
                headers = {"Content-Type": content_type}
                if credentials == "unknown bearer":
                    headers["Authorization"] = "Bearer AAAA-not-a-token"
                elif credentials == "unknown oauth token":
                    url = BASE + path
                    headers.update(oauth_header(alice.credentials, method, url, token="nope"))
                body = Counted(8 * 1024 * 1024)
                response = await env.client.request(method, path, content=body, headers=headers)
                if response.status_code != 401 or body.pulled != 0:
                    failures.append((method, path, credentials, response.status_code, body.pulled))
                else:
                    _check_error(path, response, 401)
                    assert response.headers["connection"] == "close"

        assert failures == []

    async def test_a_declared_length_is_not_read_either(self, env: Env) -> None:
        body = Counted(64 * 1024 * 1024)
        headers = {"Content-Type": "application/json", "Content-Length": str(body.size)}

        response = await env.client.post("/2/tweets", content=body, headers=headers)

        assert response.status_code == 401
        assert body.pulled == 0


_MULTIPART = "multipart/form-data"
_MULTIPART_HEAD = b'--b\r\nContent-Disposition: form-data; name="status"\r\n\r\n'


def _cap_routes(bob: User) -> list[tuple[str, str, int, str]]:
    """(method, path, cap, content type) of every route with a fixed body cap."""
    dm_v2 = f"/2/dm_conversations/with/{bob.id}/messages"
    json_type = "application/json"
    return [
        ("POST", "/2/tweets", json_body.POST_BODY, json_type),
        ("POST", dm_v2, json_body.DM_BODY, json_type),
        ("POST", "/2/media/metadata", json_body.METADATA_BODY, json_type),
        ("POST", "/2/media/subtitles", json_body.SUBTITLES_BODY, json_type),
        ("DELETE", "/2/media/subtitles", json_body.SUBTITLES_BODY, json_type),
        ("POST", "/2/media/upload/initialize", json_body.INIT_BODY, json_type),
        ("POST", "/1.1/direct_messages/events/new.json", json_body.DM_BODY, json_type),
        ("POST", "/1.1/media/metadata/create.json", json_body.METADATA_BODY, json_type),
        ("POST", "/1.1/media/subtitles/create.json", json_body.SUBTITLES_BODY, json_type),
        ("POST", "/1.1/media/subtitles/delete.json", json_body.SUBTITLES_BODY, json_type),
        (
            "POST",
            "/1.1/statuses/update.json",
            json_body.UPDATE_BODY,
            "application/x-www-form-urlencoded",
        ),
        (
            "POST",
            "/1.1/statuses/update.json",
            json_body.UPDATE_BODY,
            "multipart/form-data; boundary=b",
        ),
    ]


def _check_too_large(path: str, response: Response, cap: int) -> None:
    _check_error(path, response, 413)
    body = response.json()
    if path.startswith("/2/"):
        assert body["title"] == "Payload Too Large"
        assert body["errors"][0]["max_body_bytes"] == cap
    else:
        assert body["errors"][0] == {
            "code": 324,
            "message": f"The request body is over {cap} bytes.",
            "max_body_bytes": cap,
        }
    assert response.headers["connection"] == "close"


class TestBodyCaps:
    async def test_a_declared_length_over_the_cap_is_refused_unread(
        self, env: Env, alice: User, bob: User
    ) -> None:
        for method, path, cap, content_type in _cap_routes(bob):
            body = Counted(cap + 1)
            headers = {
                **alice.headers,
                "Content-Type": content_type,
                "Content-Length": str(cap + 1),
            }

            response = await env.client.request(method, path, content=body, headers=headers)

            _check_too_large(path, response, cap)
            assert body.pulled == 0, path

    async def test_a_chunked_body_is_stopped_at_the_first_chunk_past_the_cap(
        self, env: Env, alice: User, bob: User
    ) -> None:
        chunk = 1024
        for method, path, cap, content_type in _cap_routes(bob):
            head = _MULTIPART_HEAD if "multipart" in content_type else b""
            body = Counted(100 * cap, chunk=chunk, fill=b"a", head=head)
            headers = {**alice.headers, "Content-Type": content_type}

            response = await env.client.request(method, path, content=body, headers=headers)

            _check_too_large(path, response, cap)
            assert cap < body.pulled <= cap + chunk, (path, body.pulled)

    async def test_a_body_at_the_cap_is_read(self, env: Env, alice: User) -> None:
        text = "x" * 100
        raw = json.dumps({"text": text}).encode()
        padded = raw[:-1] + b" " * (json_body.POST_BODY - len(raw)) + b"}"

        response = await env.client.post(
            "/2/tweets",
            content=padded,
            headers={**alice.headers, "Content-Type": "application/json"},
        )

        assert len(padded) == json_body.POST_BODY
        assert response.status_code == 201, response.text

    async def test_oauth_signed_urlencoded_body_still_works_under_the_route_cap(
        self, env: Env, alice: User
    ) -> None:
        url = f"{BASE}/1.1/statuses/update.json"
        form = "status=signed%20and%20posted"
        headers = {
            **oauth_header(alice.credentials, "POST", url, form=form),
            "Content-Type": "application/x-www-form-urlencoded",
        }

        response = await env.client.post(url, content=form, headers=headers)

        assert response.status_code == 200, response.text
        assert response.json()["text"] == "signed and posted"

    async def test_oauth_signed_urlencoded_body_over_the_route_cap_is_413(
        self, env: Env, alice: User
    ) -> None:
        url = f"{BASE}/1.1/statuses/update.json"
        form = "status=" + "a" * json_body.UPDATE_BODY
        headers = {
            **oauth_header(alice.credentials, "POST", url, form=form),
            "Content-Type": "application/x-www-form-urlencoded",
        }

        response = await env.client.post(url, content=form, headers=headers)

        _check_too_large("/1.1/statuses/update.json", response, json_body.UPDATE_BODY)


def _json_routes(bob: User) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, _, content_type in _cap_routes(bob)
        if content_type == "application/json"
    ] + [("POST", "/2/media/upload/1/append"), ("POST", "/2/media/upload")]


class TestJsonDepth:
    async def test_nesting_deeper_than_the_limit_is_400_at_every_json_route(
        self, env: Env, alice: User, bob: User
    ) -> None:
        headers = {**alice.headers, "Content-Type": "application/json"}
        for opener in (b"[", b'{"a":'):
            for method, path in _json_routes(bob):
                response = await env.client.request(
                    method, path, content=opener * 1000, headers=headers
                )

                _check_error(path, response, 400)
                assert "nested deeper than 32" in response.text, (path, response.text)

    async def test_a_hundred_thousand_brackets_at_v11_dms_is_400(
        self, env: Env, alice: User
    ) -> None:
        response = await env.client.post(
            "/1.1/direct_messages/events/new.json",
            content=b"[" * 100_000,
            headers={**alice.headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 400
        assert_v11_error(response.json(), code=44)

    async def test_brackets_inside_strings_do_not_count(
        self, env: Env, alice: User, bob: User
    ) -> None:
        text = '[[[[{{{{\\"' * 20

        response = await env.client.post(
            f"/2/dm_conversations/with/{bob.id}/messages",
            json={"text": text},
            headers=alice.headers,
        )

        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("raw", "too_deep"),
    [
        (b"[" * 32 + b"]" * 32, False),
        (b"[" * 33 + b"]" * 33, True),
        (b'["' + b"[" * 40 + b'"]', False),
        (b'["\\"' + b"[" * 40 + b'"]', False),  # an escaped quote does not end the string
        (b'["\\\\"' + b"[" * 40 + b"]" * 40 + b"]", True),  # an escaped backslash does
        (b'{"a":' * 33 + b"1" + b"}" * 33, True),
        (b"[]" * 10_000, False),
    ],
)
def test_check_depth_counts_brackets_outside_strings(raw: bytes, too_deep: bool) -> None:
    if too_deep:
        with pytest.raises(errors.MalformedBody):
            check_depth(raw)
    else:
        check_depth(raw)
