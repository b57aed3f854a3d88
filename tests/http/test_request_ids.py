"""Request ids and log lines in process (ASGITransport, each database): the id comes
back on every response, refusals included, and every line of the request carries it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.config import StorageSettings
from app.logging import ContextFilter, JsonFormatter
from tests.conftest import Env, User
from tests.fixtures.protocol import URL

Lines = Callable[[], list[dict[str, Any]]]
MADE_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The JSON lines the service logs meanwhile in this process, as ``app.logging``
    formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [
            line
            for line in map(json.loads, stream.getvalue().splitlines())
            if line["logger"] != "httpx"  # the test's client, not the service
        ]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _of(lines: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("request_id") == request_id]


def _access(lines: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    (line,) = [line for line in _of(lines, request_id) if line["logger"] == "app.http.access"]
    return line


async def test_a_sane_request_id_is_kept_and_on_every_line(
    env: Env, alice: User, lines: Lines
) -> None:
    answer = await env.client.post(
        URL,
        data={"command": "INIT", "total_bytes": "1000", "media_type": "image/png"},
        headers={**alice.headers, "X-Request-ID": "abc-123"},
    )

    assert answer.status_code == 202
    assert answer.headers["x-request-id"] == "abc-123"
    access = _access(lines(), "abc-123")
    assert access["route"] == "/1.1/media/upload.json"
    assert access["method"] == "POST"
    assert access["status"] == 202
    assert access["user_id"] == alice.id
    assert access["bytes_in"] == len(b"command=INIT&total_bytes=1000&media_type=image%2Fpng")
    assert access["bytes_out"] == len(answer.content)


@pytest.mark.parametrize(
    "sent",
    ["", "has space", "x" * 129, "semi;colon", "caf\u00e9"],
    ids=["empty", "space", "too-long", "semicolon", "non-ascii"],
)
async def test_an_insane_request_id_is_replaced(env: Env, lines: Lines, sent: str) -> None:
    answer = await env.client.get("/healthz", headers={b"X-Request-ID": sent.encode()})

    made = answer.headers["x-request-id"]
    assert MADE_ID.fullmatch(made)
    assert _access(lines(), made)["route"] == "/healthz"


async def test_the_route_is_the_template_and_delivery_keys_are_not_logged(
    env: Env, lines: Lines
) -> None:
    photo = await env.client.get("/media/Secr3tPhotoKey1.jpg", headers={"X-Request-ID": "p"})
    video = await env.client.get(
        "/video/12345/Secr3tVideoKey2/320x180.mp4", headers={"X-Request-ID": "v"}
    )
    logged = lines()

    assert (photo.status_code, video.status_code) == (404, 404)
    access = _access(logged, "p")
    assert (access["route"], access["path"]) == ("/media/{filename}", "/media/{filename}")
    access = _access(logged, "v")
    assert access["route"] == "/video/{media_key}/{token}/{path:path}"
    assert access["path"] == "/video/12345/{token}/320x180.mp4"
    assert "Secr3t" not in json.dumps(logged)


async def test_refusals_carry_the_id_and_log_their_code(
    env: Env, alice: User, lines: Lines
) -> None:
    refused = {
        "unknown-bearer": await env.client.get(
            URL, params={"command": "STATUS", "media_id": "1"},
            headers={"Authorization": "Bearer nope", "X-Request-ID": "unknown-bearer"},
        ),
        "not-found": await env.client.get("/no/such/page", headers={"X-Request-ID": "not-found"}),
        "not-allowed": await env.client.put("/healthz", headers={"X-Request-ID": "not-allowed"}),
        "too-large": await env.client.post(
            "/1.1/statuses/update.json", data={"status": "x" * 20_000},
            headers={**alice.headers, "X-Request-ID": "too-large"},
        ),
        "bad-type": await env.client.post(
            URL, data={"command": "INIT", "total_bytes": "10", "media_type": "text/plain"},
            headers={**alice.headers, "X-Request-ID": "bad-type"},
        ),
    }  # fmt: skip
    logged = lines()

    statuses = {name: answer.status_code for name, answer in refused.items()}
    assert statuses == {
        "unknown-bearer": 401, "not-found": 404, "not-allowed": 405, "too-large": 413,
        "bad-type": 400,
    }  # fmt: skip
    codes = {}
    for name, answer in refused.items():
        assert answer.headers["x-request-id"] == name
        (refusal,) = [line for line in _of(logged, name) if line["logger"] == "app.http.errors"]
        assert refusal["status"] == answer.status_code
        assert refusal["level"] == "info"
        codes[name] = (refusal["error_code"], refusal["error_type"])
        assert _access(logged, name)["status"] == answer.status_code
    assert codes == {
        "unknown-bearer": (32, "NotAuthenticated"),
        "not-found": (34, "MediaNotFound"),
        "not-allowed": (None, "HTTPException"),
        "too-large": (324, "BodyTooLarge"),
        "bad-type": (None, "MediaTypeUnrecognized"),
    }
    reasons = [line.get("reason") for line in _of(logged, "unknown-bearer")]
    assert "unknown bearer token" in reasons


async def test_an_unexpected_error_is_a_500_with_the_id_and_one_traceback(
    env: Env, lines: Lines
) -> None:
    async def boom() -> None:
        raise RuntimeError("kaboom")

    env.app.add_api_route("/boom-for-test", boom)

    answer = await env.client.get("/boom-for-test", headers={"X-Request-ID": "boom"})

    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "boom"
    logged = _of(lines(), "boom")
    tracebacks = [line for line in logged if "exc_info" in line]
    assert len(tracebacks) == 1
    assert "RuntimeError: kaboom" in tracebacks[0]["exc_info"]
    assert tracebacks[0]["level"] == "error"
    assert _access(lines(), "boom")["status"] == 500


async def test_no_line_holds_the_authorization_or_the_query(
    env: Env, alice: User, lines: Lines
) -> None:
    token = alice.headers["Authorization"].partition(" ")[2]
    await env.client.get(
        URL, params={"command": "STATUS", "media_id": "1", "secret": "q-s3cret"},
        headers=alice.headers,
    )  # fmt: skip
    await env.client.get(
        URL, params={"access_token": "q-s3cret"}, headers={"Authorization": "Bearer b-s3cret"}
    )

    text = json.dumps(lines())
    assert "/1.1/media/upload.json" in text
    for secret in (token, "q-s3cret", "b-s3cret", "command=STATUS"):
        assert secret not in text


async def test_a_503_of_the_app_carries_the_id_too(env: Env, lines: Lines) -> None:
    env.state.settings.storage = StorageSettings(min_free_bytes=2**62)

    answer = await env.client.get("/readyz", headers={"X-Request-ID": "not-ready"})

    assert (answer.status_code, answer.headers["x-request-id"]) == (503, "not-ready")
    assert _access(lines(), "not-ready")["status"] == 503
